import { MesaDispatchError } from '../errors/mesa.errors.js';
import { toDispatchResult, type BatchEntry, type BatchReply } from './batch-entry.js';
import type { DispatchFailures } from './dispatch-failures.js';

/** Most dispatches one coalesced batch carries; more in the same tick start another batch. */
export const MAX_BATCH_SIZE = 256;

/** What the queue needs from the service. */
export interface DispatchQueueOptions {
  send(entries: BatchEntry[]): Promise<BatchReply[]>;
  /** The connection's state: `'ready'` when commands can be sent. */
  connectionStatus(): string;
  failures: DispatchFailures;
  onUnconsumedFailure(error: unknown): void;
  dispatchTimeout: number;
  whenDisconnected: 'queue' | 'fail';
}

/**
 * Coalesces the dispatches issued in the same tick into one batch, sent to Redis in one round trip
 * when the current microtasks have run. Batches leave in call order on one connection, so messages
 * keep call order; each dispatch still settles on its own, within `dispatchTimeout`.
 *
 * While Redis is unreachable, batches are held in memory (`whenDisconnected: 'queue'`) and sent in
 * order once it is back, or rejected when `dispatchTimeout` passes first (and then never sent); with
 * `'fail'` they are rejected at once.
 */
export class DispatchQueue {
  private queue: BatchEntry[] = [];
  private held: BatchEntry[] = [];
  private flushScheduled = false;
  private expiryTimer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly unanswered = new Set<(error: Error) => void>();

  constructor(private readonly options: DispatchQueueOptions) {}

  /** Queues `entry`; it settles once Redis has answered for its batch. */
  push(entry: BatchEntry): void {
    this.queue.push(entry);
    if (this.queue.length >= MAX_BATCH_SIZE) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** Sends what was held while Redis was unreachable; call when the connection is ready again. */
  release(): void {
    if (this.options.connectionStatus() !== 'ready' || this.held.length === 0) return;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const held = this.held;
    this.held = [];
    for (let start = 0; start < held.length; start += MAX_BATCH_SIZE) this.sendBatch(held.slice(start, start + MAX_BATCH_SIZE));
    this.flush();
  }

  /** Resolves once every queued, held and in-flight dispatch has settled (those issued meanwhile too). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.held.length > 0 || this.inFlight.size > 0) {
      this.flush();
      this.release();
      // a real timer, not only promises: held dispatches expire on a timer, which must get to run
      let timer!: NodeJS.Timeout;
      const tick = new Promise((resolve) => (timer = setTimeout(resolve, 50)));
      await (this.inFlight.size > 0 ? Promise.race([Promise.allSettled(this.inFlight), tick]) : tick);
      clearTimeout(timer);
    }
  }

  /**
   * The connection dropped: the batches sent and not answered are lost with it (Redis may or may not
   * have run them), so they fail now, saying so, instead of waiting for `dispatchTimeout`.
   */
  connectionLost(): void {
    const lost = new Error('the connection closed');
    for (const abort of this.unanswered) abort(lost);
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const status = this.options.connectionStatus();
    if (status === 'ready' && this.held.length === 0) this.sendBatch(batch);
    else if (this.options.whenDisconnected === 'fail') this.failAll(batch, () => this.options.failures.notSent(status));
    else this.hold(batch);
  }

  private hold(batch: BatchEntry[]): void {
    const expiresAt = Date.now() + this.options.dispatchTimeout;
    for (const entry of batch) {
      entry.expiresAt = expiresAt;
      this.held.push(entry);
    }
    this.scheduleExpiry();
  }

  private scheduleExpiry(): void {
    if (this.expiryTimer || this.held.length === 0) return;
    this.expiryTimer = setTimeout(
      () => {
        this.expiryTimer = undefined;
        const now = Date.now();
        let expired = 0;
        while (expired < this.held.length && this.held[expired].expiresAt! <= now) expired++;
        this.failAll(this.held.splice(0, expired), () => this.options.failures.expired(this.options.dispatchTimeout));
        this.scheduleExpiry();
      },
      Math.max(0, this.held[0].expiresAt! - Date.now()),
    );
  }

  private sendBatch(batch: BatchEntry[]): void {
    const { failures, dispatchTimeout } = this.options;
    let finish!: () => void;
    const settled = new Promise<void>((resolve) => (finish = resolve));
    let done = false;
    const complete = (outcome: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.unanswered.delete(abort);
      outcome();
      finish();
    };
    const abort = (error: unknown) =>
      complete(() => this.failAll(batch, (entry) => failures.fromRedis(error, entry.prepared.recipients.length)));
    const timer = setTimeout(() => complete(() => this.failAll(batch, () => failures.noAnswer(dispatchTimeout))), dispatchTimeout);
    this.unanswered.add(abort);
    this.options.send(batch).then((replies) => complete(() => this.settle(batch, replies)), abort);
    this.inFlight.add(settled);
    settled.then(() => this.inFlight.delete(settled));
  }

  private failAll(batch: BatchEntry[], error: (entry: BatchEntry) => Error): void {
    for (const entry of batch) entry.promise.fail(error(entry), this.options.onUnconsumedFailure);
  }

  private settle(batch: BatchEntry[], replies: BatchReply[]): void {
    for (let index = 0; index < batch.length; index++) {
      const entry = batch[index];
      const outcome = toDispatchResult(entry, replies[index]);
      if (typeof outcome !== 'string') entry.promise.succeed(outcome);
      else {
        const error = new MesaDispatchError(`${outcome}; nothing was published or stored for this dispatch.`);
        entry.promise.fail(error, this.options.onUnconsumedFailure);
      }
    }
  }
}
