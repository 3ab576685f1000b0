import type { MesaDispatchError } from '../errors/mesa.errors.js';
import type { DispatchResult } from '../interfaces/dispatch-result.interface.js';
import type { Settlement } from '../interfaces/settlement.interface.js';
import type { EntryFields } from './dispatch-entries.js';
import { mayRetry, type DispatchFailures } from './dispatch-failures.js';

/** What a {@link RetriedDispatch} needs from the publisher. */
export interface RetryPolicy {
  /** Tries in all, the first included (`retry.attempts`). */
  attempts: number;
  /** Milliseconds between a failed try and the next (`retry.delay`). */
  delay: number;
  /** Runs `send` after `delay` ms; the publisher's drain waits for it. */
  later(send: () => void, delay: number): void;
  /** Sends a dispatch again: a new entry of the same fields, at the back of the queue. */
  resend(fields: EntryFields): void;
  failures: DispatchFailures;
}

/**
 * One dispatch under the module's `retry` option: it stands between the queue and the caller's promise, so that
 * the caller sees one settlement. A try that failed "not sent" is tried again after `delay`; one that failed "may
 * have been published" only when the dispatch has an idempotency key (the script then recognises a try that did
 * run, and the next one resolves as a duplicate or finishes its stores); a failure that would recur, never.
 * Each try goes to the back of the queue, so dispatches issued after it may overtake it. The caller's promise gets
 * the result of the try that succeeded, or the last failure (which says "may have been published" whenever an
 * earlier try may have been); tries that failed before are never logged.
 */
export class RetriedDispatch implements Settlement {
  private fields?: EntryFields;
  private tries = 1;
  /** The failure of an earlier try that may have been published, if any. */
  private maybePublished?: MesaDispatchError;

  constructor(
    /** What the caller sees: its promise, or the telemetry's tracking of it. */
    readonly caller: Settlement,
    private readonly policy: RetryPolicy,
  ) {}

  /**
   * Notes what each try is built from: the first try's entry (its `promise` is this object). Kept as that entry, not
   * as the fields it was made of, so that a dispatch in flight holds no object of its own beyond the entry.
   */
  sends(first: EntryFields): void {
    this.fields = first;
  }

  succeed(result: DispatchResult): void {
    this.caller.succeed(result);
  }

  fail(error: unknown, onUnconsumed: (error: unknown) => void): void {
    const fields = this.fields;
    const failure = error as MesaDispatchError;
    if (fields && this.tries < this.policy.attempts && mayRetry(error, fields.key !== undefined)) {
      this.tries++;
      if (failure.mayHaveBeenPublished) this.maybePublished = failure;
      this.policy.later(() => this.policy.resend(fields), this.policy.delay);
      return;
    }
    const earlier = this.maybePublished;
    const last =
      earlier && failure?.mayHaveBeenPublished === false
        ? this.policy.failures.earlierTryMayHaveBeenPublished(this.tries, failure, earlier)
        : error;
    this.caller.fail(last, onUnconsumed);
  }
}
