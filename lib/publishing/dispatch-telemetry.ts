import type { Link, Span } from '@opentelemetry/api';
import { MesaDispatchError, MesaError } from '../errors/mesa.errors.js';
import type { DispatchResult } from '../interfaces/dispatch-result.interface.js';
import { markFailed, type MesaTelemetry } from '../telemetry/mesa-telemetry.js';
import { ERROR_MAY_HAVE_BEEN_PUBLISHED, ERROR_NOT_SENT, ERROR_OTHER } from '../telemetry/telemetry-names.js';
import { isFailure, NOT_RUN, type EntryOutcome } from './batch-protocol.js';
import type { Settlement } from '../interfaces/settlement.interface.js';
import type { BatchEntry } from './dispatch-entries.js';
import { RetriedDispatch } from './retried-dispatch.js';

/**
 * A dispatch the telemetry follows: it stands between the queue (or its retries) and the caller's promise, counts
 * the dispatch once it settles (`messaging.client.sent.messages`, with `error.type` when it failed) and ends its
 * `create` span. Only built when something records (see {@link trackDispatch}).
 */
export class TrackedDispatch implements Settlement {
  /** The Redis error code that failed its batch, when one did (set before the batch's entries fail). */
  redisCode?: string;
  private settled = false;

  constructor(
    private readonly caller: Settlement,
    private readonly telemetry: MesaTelemetry,
    /** Its `create` span, when it was made inside a recording span. */
    readonly span: Span | undefined,
  ) {}

  succeed(result: DispatchResult): void {
    if (!this.settled) {
      this.settled = true;
      this.telemetry.dispatched(result, this.span);
    }
    this.caller.succeed(result);
  }

  fail(error: unknown, onUnconsumed: (error: unknown) => void): void {
    if (!this.settled) {
      this.settled = true;
      this.telemetry.dispatchFailed(this.redisCode ?? errorTypeOf(error), this.span);
    }
    this.caller.fail(error, onUnconsumed);
  }
}

/**
 * What settles a new dispatch: `promise` itself when nothing records (no cost), else a {@link TrackedDispatch} with a
 * `create` span when the dispatch is made inside a recording span.
 */
export function trackDispatch(telemetry: MesaTelemetry, promise: Settlement): Settlement {
  if (!telemetry.enabled) return promise;
  const span = telemetry.startCreate();
  return span || telemetry.metered ? new TrackedDispatch(promise, telemetry, span) : promise;
}

/** A batch on its round trip to Redis: its `send` span (when recording) and when it started. A class, as entries are (see `dispatch-entries.ts`). */
class BatchRecord {
  ended = false;
  readonly started = performance.now();

  constructor(readonly span: Span | undefined) {}
}

/**
 * The `send` span and the round-trip duration of each batch: {@link send} wraps the publisher's round trip,
 * {@link gaveUp} ends a batch the queue gave up on (no answer within `dispatchTimeout`) as failed at that moment.
 */
export class BatchTelemetry {
  private readonly batches = new WeakMap<readonly BatchEntry[], BatchRecord>();

  constructor(private readonly telemetry: MesaTelemetry) {}

  /** Runs `run`, the batch's round trip, inside its span and timing when something records; `run()` as it is otherwise. */
  send<T extends EntryOutcome[] | typeof NOT_RUN>(batch: BatchEntry[], run: () => Promise<T>): Promise<T> {
    const telemetry = this.telemetry;
    if (!telemetry.enabled) return run();
    const span = telemetry.startSend(batch.length, telemetry.openCreates > 0 ? linksOf(batch) : undefined);
    if (!span && !telemetry.metered) return run();
    const record = new BatchRecord(span);
    this.batches.set(batch, record);
    return run().then(
      (outcomes) => {
        this.end(record, outcomes === NOT_RUN ? undefined : entryFailureType(outcomes as EntryOutcome[]));
        return outcomes;
      },
      (error: unknown) => {
        const code = redisErrorCode(error);
        if (code !== undefined) {
          for (const entry of batch) {
            const tracked = trackedOf(entry);
            if (tracked) tracked.redisCode = code;
          }
        }
        this.end(record, code ?? batchErrorType(error));
        throw error;
      },
    );
  }

  /** The queue gave up on `batch` (no answer within `dispatchTimeout`): its span ends now, failed. */
  gaveUp(batch: readonly BatchEntry[]): void {
    const record = this.batches.get(batch);
    if (record) this.end(record, ERROR_MAY_HAVE_BEEN_PUBLISHED);
  }

  private end(record: BatchRecord, errorType: string | undefined): void {
    if (record.ended) return;
    record.ended = true;
    this.telemetry.batchEnded((performance.now() - record.started) / 1000, errorType);
    if (!record.span) return;
    if (errorType !== undefined) markFailed(record.span, errorType);
    record.span.end();
  }
}

/**
 * `error.type` of a failed dispatch: `not_sent` (nothing of it can have reached the wire), `may_have_been_published`,
 * or the class name of another nestjs-mesa error (`MesaValidationError`); `_OTHER` for anything else.
 */
export function errorTypeOf(error: unknown): string {
  if (error instanceof MesaDispatchError) return error.mayHaveBeenPublished ? ERROR_MAY_HAVE_BEEN_PUBLISHED : ERROR_NOT_SENT;
  return error instanceof MesaError ? error.name : ERROR_OTHER;
}

/** The code of a Redis error reply (`OOM`, `READONLY`, `ERR`…), from its first word; undefined for any other error. */
export function redisErrorCode(error: unknown): string | undefined {
  if ((error as Error)?.name !== 'ReplyError') return undefined;
  const code = String((error as Error).message).split(' ', 1)[0];
  return /^[A-Z][A-Z0-9_]{1,31}$/.test(code) ? code : undefined;
}

/** A batch that failed as a whole without a Redis error reply: not sent when the publisher says so, else unknown. */
function batchErrorType(error: unknown): string {
  return (error as Error)?.name === 'NotSentFailure' ? ERROR_NOT_SENT : ERROR_MAY_HAVE_BEEN_PUBLISHED;
}

/** `error.type` of the first entry Redis refused in an answered batch; undefined when none was. */
function entryFailureType(outcomes: EntryOutcome[]): string | undefined {
  for (const outcome of outcomes) {
    if (isFailure(outcome)) return outcome.mayHaveBeenPublished ? ERROR_MAY_HAVE_BEEN_PUBLISHED : ERROR_NOT_SENT;
  }
  return undefined;
}

/** The links from a batch's `send` span to the `create` spans of its dispatches. */
function linksOf(batch: readonly BatchEntry[]): Link[] | undefined {
  let links: Link[] | undefined;
  for (const entry of batch) {
    const span = trackedOf(entry)?.span;
    if (span) (links ??= []).push({ context: span.spanContext() });
  }
  return links;
}

/** The {@link TrackedDispatch} an entry settles, directly or through its retries. */
function trackedOf(entry: BatchEntry): TrackedDispatch | undefined {
  const settlement = entry.promise instanceof RetriedDispatch ? entry.promise.caller : entry.promise;
  return settlement instanceof TrackedDispatch ? settlement : undefined;
}
