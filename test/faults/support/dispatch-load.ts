import { performance } from 'node:perf_hooks';
import { Message, type DispatcherService, type DispatchResult } from '../../../lib/index.js';
import { poll } from './processes.js';

/** One dispatch of a load and how it ended. Times are `performance.now()` milliseconds. */
export interface DispatchOutcome {
  n: number;
  issuedAt: number;
  settledAt?: number;
  result?: DispatchResult;
  error?: Error;
}

/**
 * Dispatches `new Message(0, { n }, type)` to `recipients` at a steady rate (n = 0, 1, 2…) and
 * records when and how each dispatch settled, so a test can check the outcomes after a fault.
 */
export class DispatchLoad {
  readonly outcomes: DispatchOutcome[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dispatcher: DispatcherService,
    private readonly recipients: string[] = ['u1'],
    private readonly type = 'TICK',
  ) {}

  /** Dispatches one message every `everyMs` milliseconds until {@link stop}. */
  start(everyMs: number): void {
    this.timer = setInterval(() => this.fire(), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Dispatches the next message now. */
  fire(): DispatchOutcome {
    const outcome: DispatchOutcome = { n: this.outcomes.length, issuedAt: performance.now() };
    this.outcomes.push(outcome);
    this.dispatcher.dispatch(new Message(0, { n: outcome.n }, this.type), this.recipients).then(
      (result) => Object.assign(outcome, { result, settledAt: performance.now() }),
      (error: Error) => Object.assign(outcome, { error, settledAt: performance.now() }),
    );
    return outcome;
  }

  /** Waits until every dispatch issued so far settled; fails naming the unsettled ones after `timeoutMs`. */
  async settled(timeoutMs: number): Promise<void> {
    await poll(
      () => this.outcomes.every((o) => o.settledAt !== undefined),
      timeoutMs,
      () => `every dispatch to settle (unsettled: ${this.outcomes.filter((o) => o.settledAt === undefined).length})`,
      10,
    );
  }

  resolved(): DispatchOutcome[] {
    return this.outcomes.filter((o) => o.result);
  }

  rejected(): DispatchOutcome[] {
    return this.outcomes.filter((o) => o.error);
  }

  /** The longest time a dispatch took to settle. */
  longestSettleMs(outcomes = this.outcomes): number {
    return Math.max(0, ...outcomes.map((o) => (o.settledAt ?? Infinity) - o.issuedAt));
  }

  /** A one-line summary for logs and failure messages. */
  summary(): string {
    const errors = new Map<string, number>();
    for (const { error } of this.rejected()) {
      const key = `${error!.name}: ${error!.message.replace(/\d+/g, '#')}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
    return (
      `${this.outcomes.length} dispatched, ${this.resolved().length} resolved, ${this.rejected().length} rejected, ` +
      `longest settle ${Math.round(this.longestSettleMs())} ms; errors: ${JSON.stringify([...errors])}`
    );
  }
}

/** How many numbers arrived after a larger one (0 when `numbers` is in call order). */
export function orderInversions(numbers: readonly number[]): number {
  let inversions = 0;
  for (let i = 1; i < numbers.length; i++) if (numbers[i] < numbers[i - 1]) inversions++;
  return inversions;
}
