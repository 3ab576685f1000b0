import type { MesaDispatchError } from '../errors/mesa.errors.js';
import { isFailure, NOT_RUN, type EntryOutcome } from './batch-protocol.js';
import type { BatchEntry } from './dispatch-entries.js';
import type { DispatchFailures } from './dispatch-failures.js';

/** Bounds on batches, on what is written to Redis and not answered, and on what waits unsent. */
export interface QueueLimits {
  /** Most dispatches in one batch. */
  batchEntries: number;
  /** Most characters of arguments in one batch (a larger dispatch travels alone). */
  batchSize: number;
  /** Most script arguments in one batch (a larger dispatch travels alone). */
  batchArgs: number;
  /** Most batches written to Redis and not answered yet. */
  unansweredBatches: number;
  /** Most characters written to Redis and not answered yet. */
  unansweredSize: number;
  /** Most dispatches waiting unsent. */
  queuedDispatches: number;
  /** Most characters of dispatches waiting unsent. */
  queuedSize: number;
}

/** What the queue needs from its owner, the publisher. */
export interface DispatchQueueOptions {
  /**
   * Sends one batch; resolves with one outcome per entry (or {@link NOT_RUN}: Redis did not run it, send it again),
   * rejects with the error that failed the whole batch. A batch answered in several script calls calls `progress`
   * after each: it restarts the batch's `dispatchTimeout`, and returns false once the batch has been given up.
   */
  send(batch: BatchEntry[], progress: () => boolean): Promise<EntryOutcome[] | typeof NOT_RUN>;
  /** Turns an error that failed a whole batch into the error each of its entries rejects with. */
  batchFailure(error: unknown): MesaDispatchError;
  /** The connection's state: `'ready'` when commands can be sent. */
  connectionStatus(): string;
  failures: DispatchFailures;
  onUnconsumedFailure(error: unknown): void;
  dispatchTimeout: number;
  whenDisconnected: 'queue' | 'fail';
  limits: QueueLimits;
  /** Called when a batch got no answer within `dispatchTimeout`, as its entries fail (the telemetry ends its span). */
  gaveUp?(entries: readonly BatchEntry[]): void;
}

/** A batch written to Redis. Built by a constructor, not a literal, for the reason entries are (see `dispatch-entries.ts`). */
class SentBatch {
  /** Its entries have settled (answered, timed out or lost); it may still hold its place until Redis answers. */
  settled = false;
  timer?: NodeJS.Timeout = undefined;

  constructor(
    readonly entries: BatchEntry[],
    readonly size: number,
  ) {}
}

/**
 * Coalesces the dispatches issued in the same tick into batches, sent in call order on one connection when
 * the current microtasks have run, so messages keep call order; each dispatch settles on its own.
 *
 * What is written to Redis and not yet answered is bounded (`unansweredBatches`, `unansweredSize`): a frozen
 * Redis cannot make the process buffer without end. Beyond that bound, and while Redis is unreachable
 * (`whenDisconnected: 'queue'`), dispatches wait unsent, in order, up to `queuedDispatches`/`queuedSize` (past
 * which they fail at once), and fail as not sent once `dispatchTimeout` has passed (then they are never sent).
 * With `whenDisconnected: 'fail'` they fail at once while Redis is unreachable.
 */
export class DispatchQueue {
  private waiting: BatchEntry[] = [];
  private head = 0;
  private waitingSize = 0;
  private pumpScheduled = false;
  private expiryTimer?: NodeJS.Timeout;
  private readonly sent = new Set<SentBatch>();
  private sentSize = 0;
  private idleWaiters: Array<() => void> = [];
  /** Entries at the head of `waiting` that came back unrun, in front of those never sent. */
  private returnedCount = 0;
  /** Work during which nothing is sent ({@link pauseWhile}). */
  private pauses = 0;
  /** Batches sent before the last pause ended: nothing more is sent until each has been answered. */
  private barrier?: Set<SentBatch>;

  constructor(private readonly options: DispatchQueueOptions) {}

  /** Entries waiting unsent. */
  get waitingCount(): number {
    return this.waiting.length - this.head;
  }

  /** Characters of the entries waiting unsent. */
  get waitingBytes(): number {
    return this.waitingSize;
  }

  /** Entries written to Redis whose batch has not been answered (nor given up) yet. */
  get unansweredCount(): number {
    let count = 0;
    for (const batch of this.sent) if (!batch.settled) count += batch.entries.length;
    return count;
  }

  /** Queues `entry`; it settles once Redis has answered for its batch, or it fails (see the class). */
  push(entry: BatchEntry): void {
    const { limits, failures } = this.options;
    if (this.waitingCount >= limits.queuedDispatches)
      return this.fail(entry, failures.queueFull(`maxQueuedDispatches: ${limits.queuedDispatches}`));
    if (this.waitingSize + entry.size > limits.queuedSize && this.waitingCount > 0) {
      return this.fail(entry, failures.queueFull(`maxQueuedBytes: ${limits.queuedSize}`));
    }
    this.waiting.push(entry);
    this.waitingSize += entry.size;
    if (this.waitingCount >= limits.batchEntries) this.pump();
    else if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      queueMicrotask(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  /**
   * Sends nothing until `work` has settled and every batch sent before then has been answered (those Redis did not
   * run come back in front meanwhile, in the order they were sent), so that call order holds while a batch's stores
   * are finished in further calls.
   */
  pauseWhile(work: Promise<unknown>): void {
    this.pauses++;
    void work
      .catch(() => undefined)
      .then(() => {
        this.pauses--;
        const barrier = this.barrier ?? new Set<SentBatch>();
        for (const batch of this.sent) barrier.add(batch);
        this.barrier = barrier;
        this.pump();
      });
  }

  /** Sends what waits, as far as the bounds allow; call when the connection is ready again. */
  pump(): void {
    const status = this.options.connectionStatus();
    if (status !== 'ready') {
      if (this.options.whenDisconnected === 'fail') this.failWaiting(() => this.options.failures.unreachable(status));
    } else if (!this.isPaused()) {
      const { unansweredBatches, unansweredSize } = this.options.limits;
      while (this.waitingCount > 0 && this.sent.size < unansweredBatches && this.sentSize < unansweredSize) this.send(...this.takeBatch());
    }
    this.scheduleExpiry();
    this.notifyIfIdle();
  }

  /** Resolves once nothing waits and every batch sent has settled (dispatches issued meanwhile too). */
  drain(): Promise<void> {
    this.pump();
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * The connection dropped: the batches sent and not answered are lost with it (Redis may or may not have
   * run them), so they fail now, saying so, and free their places.
   */
  connectionLost(reason: string): void {
    for (const batch of this.sent) {
      this.complete(batch, () => this.failAll(batch.entries, () => this.options.failures.connectionLost(reason)));
      this.release(batch);
    }
    this.pump();
  }

  /** The next batch within the limits, and its size. */
  private takeBatch(): [entries: BatchEntry[], size: number] {
    const { batchEntries, batchSize, batchArgs } = this.options.limits;
    const batch: BatchEntry[] = [];
    let size = 0;
    let args = 0;
    while (this.waitingCount > 0 && batch.length < batchEntries) {
      const next = this.waiting[this.head];
      if (batch.length > 0 && (size + next.size > batchSize || args + next.args > batchArgs)) break;
      batch.push(this.shift());
      size += next.size;
      args += next.args;
    }
    this.compact();
    return [batch, size];
  }

  /** Takes the first waiting entry off the queue. */
  private shift(): BatchEntry {
    const entry = this.waiting[this.head];
    this.waiting[this.head++] = undefined as never;
    this.waitingSize -= entry.size;
    if (this.returnedCount > 0) this.returnedCount--;
    return entry;
  }

  /** A batch Redis did not run goes back in front of what waits, after those that came back before it. */
  private returned(batch: SentBatch): void {
    this.release(batch);
    if (batch.settled) return this.pump();
    batch.settled = true;
    clearTimeout(batch.timer);
    this.waiting.splice(this.head + this.returnedCount, 0, ...batch.entries);
    this.returnedCount += batch.entries.length;
    this.waitingSize += batch.size;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.pump();
  }

  private isPaused(): boolean {
    if (this.pauses > 0) return true;
    if (this.barrier === undefined) return false;
    for (const batch of this.barrier) if (this.sent.has(batch)) return true;
    this.barrier = undefined;
    return false;
  }

  private send(entries: BatchEntry[], size: number): void {
    const { dispatchTimeout, failures } = this.options;
    const batch = new SentBatch(entries, size);
    this.sent.add(batch);
    this.sentSize += size;
    const giveUp = () =>
      this.complete(batch, () => {
        this.options.gaveUp?.(entries);
        this.failAll(entries, () => failures.noAnswer(dispatchTimeout));
      });
    batch.timer = setTimeout(giveUp, dispatchTimeout);
    const progress = () => {
      if (batch.settled) return false;
      clearTimeout(batch.timer);
      batch.timer = setTimeout(giveUp, dispatchTimeout);
      return true;
    };
    this.options.send(entries, progress).then(
      (outcomes) => (outcomes === NOT_RUN ? this.returned(batch) : this.answered(batch, () => this.settle(entries, outcomes))),
      (error) => this.answered(batch, () => this.failAll(entries, () => this.options.batchFailure(error))),
    );
  }

  private answered(batch: SentBatch, outcome: () => void): void {
    this.complete(batch, outcome);
    this.release(batch);
    this.pump();
  }

  private complete(batch: SentBatch, outcome: () => void): void {
    if (batch.settled) return;
    batch.settled = true;
    clearTimeout(batch.timer);
    outcome();
    this.notifyIfIdle();
  }

  private release(batch: SentBatch): void {
    if (this.sent.delete(batch)) this.sentSize -= batch.size;
  }

  private settle(entries: BatchEntry[], outcomes: EntryOutcome[]): void {
    for (let index = 0; index < entries.length; index++) {
      const outcome = outcomes[index];
      if (isFailure(outcome)) this.fail(entries[index], this.options.failures.fromEntry(outcome));
      else entries[index].promise.succeed(outcome);
    }
  }

  private scheduleExpiry(): void {
    if (this.expiryTimer || this.waitingCount === 0) return;
    this.expiryTimer = setTimeout(
      () => {
        this.expiryTimer = undefined;
        const now = Date.now();
        const expired: BatchEntry[] = [];
        while (this.waitingCount > 0 && this.waiting[this.head].expiresAt <= now) expired.push(this.shift());
        this.compact();
        this.failAll(expired, () => this.options.failures.expired(this.options.dispatchTimeout));
        this.scheduleExpiry();
        this.notifyIfIdle();
      },
      Math.max(0, this.waiting[this.head].expiresAt - Date.now()),
    );
  }

  private failWaiting(error: () => MesaDispatchError): void {
    const waiting = this.waiting.slice(this.head);
    this.waiting = [];
    this.head = 0;
    this.waitingSize = 0;
    this.returnedCount = 0;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.failAll(waiting, error);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    } else if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    }
  }

  private failAll(entries: BatchEntry[], error: (entry: BatchEntry) => MesaDispatchError): void {
    for (const entry of entries) this.fail(entry, error(entry));
  }

  private fail(entry: BatchEntry, error: MesaDispatchError): void {
    entry.promise.fail(error, this.options.onUnconsumedFailure);
  }

  private isIdle(): boolean {
    if (this.waitingCount > 0) return false;
    for (const batch of this.sent) if (!batch.settled) return false;
    return true;
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
