import { MesaDispatchError } from '../errors/mesa.errors.js';
import { toDispatchResult, type BatchEntry, type BatchReply } from './batch-entry.js';

/** Most dispatches one coalesced batch carries; more in the same tick start another batch. */
export const MAX_BATCH_SIZE = 500;

/**
 * Coalesces the dispatches issued in the same tick into one batch, sent to Redis in one round trip
 * when the current microtasks have run. Batches leave in call order on one connection, so messages
 * keep call order; each dispatch still settles on its own with its own result or error.
 */
export class DispatchQueue {
  private queue: BatchEntry[] = [];
  private flushScheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly send: (entries: BatchEntry[]) => Promise<BatchReply[]>,
    private readonly describeFailure: (error: unknown, entries: number) => Error,
    private readonly onUnconsumedFailure: (error: unknown) => void,
  ) {}

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

  /** Resolves once every queued and in-flight batch has settled (dispatches issued meanwhile included). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight.size > 0) {
      this.flush();
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    const sent = this.send(batch).then(
      (replies) => this.settle(batch, replies),
      (error) => {
        for (const entry of batch) {
          entry.promise.fail(this.describeFailure(error, entry.prepared.recipients.length), this.onUnconsumedFailure);
        }
      },
    );
    this.inFlight.add(sent);
    sent.then(() => this.inFlight.delete(sent));
  }

  private settle(batch: BatchEntry[], replies: BatchReply[]): void {
    for (let index = 0; index < batch.length; index++) {
      const entry = batch[index];
      const outcome = toDispatchResult(entry, replies[index]);
      if (typeof outcome !== 'string') entry.promise.succeed(outcome);
      else {
        const error = new MesaDispatchError(`${outcome}; nothing was published or stored for this dispatch.`);
        entry.promise.fail(error, this.onUnconsumedFailure);
      }
    }
  }
}
