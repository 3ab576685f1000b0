import { MesaDispatchError } from '../errors/mesa.errors.js';
import type { EntryFailure } from './batch-protocol.js';

/**
 * Error codes with which Redis refuses a command before running any of it: nothing of a batch refused with
 * one of these can have reached the wire. Anything else (an error raised inside the script, an unknown code)
 * is taken as "may have run".
 */
const REFUSED_BEFORE_RUNNING = new Map<string, string>([
  ['OOM', 'Redis is out of memory (maxmemory reached with a noeviction policy)'],
  ['READONLY', 'Redis is a read-only replica'],
  ['NOSCRIPT', 'Redis does not have the script'],
  ['NOPERM', 'the Redis user lacks a permission'],
  ['NOAUTH', 'Redis needs authentication'],
  ['WRONGPASS', 'the Redis credentials were refused'],
  ['LOADING', 'Redis is loading its data'],
  ['BUSY', 'Redis is busy running another script'],
  ['MASTERDOWN', 'the replica lost its primary'],
  ['MISCONF', 'Redis refuses writes (a failed snapshot, stop-writes-on-bgsave-error)'],
  ['NOREPLICAS', 'Redis has too few replicas for writes'],
  ['EXECABORT', 'Redis discarded the transaction'],
  ['CROSSSLOT', 'the keys are in different cluster slots'],
]);
const SCRIPT_RUNTIME_ERROR = /user_script:\d+|@user_script/;
const SCRIPTS_UNAVAILABLE = /^(ERR unknown command [`'"]?(evalsha|eval)[`'"]?|NOPERM .*[`'"](evalsha|eval)[`'"])/i;

/** How Redis answered an error to a command: what it means for what was sent. */
export interface RedisErrorReading {
  /** True when Redis refused the command before running any of it. */
  refusedBeforeRunning: boolean;
  /** A plain statement of what happened, naming the Redis error code. */
  reason: string;
}

/** Reads a Redis error reply by its code, never by a loose pattern over its text. */
export function readRedisError(message: string): RedisErrorReading {
  const code = message.split(' ', 1)[0];
  const known = REFUSED_BEFORE_RUNNING.get(code);
  if (SCRIPT_RUNTIME_ERROR.test(message)) {
    return { refusedBeforeRunning: false, reason: `the script failed while running (${message})` };
  }
  if (known) return { refusedBeforeRunning: true, reason: `${known} (${message})` };
  if (/^ERR (unknown command|wrong number of arguments|Error compiling script)/.test(message)) {
    return { refusedBeforeRunning: true, reason: message };
  }
  return { refusedBeforeRunning: false, reason: message };
}

/** True when the error says EVAL/EVALSHA are renamed away or forbidden to this user (not OOM, not anything else). */
export function scriptsUnavailable(message: string): boolean {
  return SCRIPTS_UNAVAILABLE.test(message);
}

/**
 * The errors a dispatch rejects with when Redis does not take it. Each says "was not sent" only when nothing
 * of it can have reached the wire, and otherwise "may have been published", with the reason. Never contains
 * a password: callers pass reasons through `redactSecrets` first.
 */
export class DispatchFailures {
  constructor(private readonly target: string) {}

  /** The entry failed as Redis or the script said (a `final` failure is never retried). */
  fromEntry(failure: EntryFailure): MesaDispatchError {
    const error = failure.mayHaveBeenPublished
      ? this.mayHaveBeenPublished(failure.reason)
      : this.notSent(`Redis at ${this.target} did not take it: ${failure.reason}`);
    if (failure.final) finalFailures.add(error);
    return error;
  }

  /** Nothing was written to Redis for this dispatch. */
  notSent(reason: string): MesaDispatchError {
    return new MesaDispatchError(`${reason}; the message was not sent.`);
  }

  /** It was written to Redis, and the outcome is unknown. */
  mayHaveBeenPublished(reason: string): MesaDispatchError {
    return new MesaDispatchError(`Redis at ${this.target}: ${reason}; the message may have been published.`, {
      mayHaveBeenPublished: true,
    });
  }

  /**
   * The last of several tries was not sent, but an earlier one may have been published: the outcome is unknown,
   * and the error says so (never "was not sent").
   */
  earlierTryMayHaveBeenPublished(tries: number, last: MesaDispatchError, earlier: MesaDispatchError): MesaDispatchError {
    const reason = (error: Error) => error.message.replace(/\.$/, '');
    return new MesaDispatchError(
      `Tried ${tries} times: the last try failed (${reason(last)}), and an earlier one may have been published (${reason(earlier)}); ` +
        'the message may have been published.',
      { mayHaveBeenPublished: true },
    );
  }

  /** `whenDisconnected: 'fail'` and Redis is not connected. */
  unreachable(status: string): MesaDispatchError {
    return new MesaDispatchError(
      `Redis at ${this.target} is unreachable (connection ${status}); the message was not sent (whenDisconnected: 'fail').`,
    );
  }

  /** It waited unsent for `dispatchTimeout`: Redis was unreachable, or not answering what was sent before it. */
  expired(timeout: number): MesaDispatchError {
    return new MesaDispatchError(
      `Redis at ${this.target} stayed unreachable, or did not answer earlier dispatches, for dispatchTimeout (${timeout} ms); ` +
        'the message was not sent and will not be.',
    );
  }

  /** The dispatches waiting unsent already fill `maxQueuedDispatches` or `maxQueuedBytes`. */
  queueFull(what: string): MesaDispatchError {
    return this.notSent(
      `Too many dispatches are waiting for Redis at ${this.target} (${what}); it is unreachable or slower than the dispatch rate. ` +
        'Raise the limit, or slow down and retry later',
    );
  }

  /** Sent, and no answer within `dispatchTimeout`. */
  noAnswer(timeout: number): MesaDispatchError {
    return this.mayHaveBeenPublished(`no answer within dispatchTimeout (${timeout} ms)`);
  }

  /** The connection closed while the batch awaited its answer. */
  connectionLost(reason: string): MesaDispatchError {
    return new MesaDispatchError(
      `Redis at ${this.target} lost the connection before answering (${reason}); the message may have been published.`,
      { mayHaveBeenPublished: true },
    );
  }
}

/** Failures that trying again would repeat (Redis refused the entry for what it holds): see {@link mayRetry}. */
const finalFailures = new WeakSet<object>();

/**
 * Whether a failed dispatch may be tried again (`retry`): a {@link MesaDispatchError} that says "was not sent"
 * (nothing reached the wire), or "may have been published" for a dispatch with an idempotency key (`keyed`: a
 * try that did run makes the next one a duplicate). Never a refusal that would recur (a key of the wrong type, a
 * backlog Mesa cannot read), nor anything else (invalid input, the module shutting down is refused before).
 */
export function mayRetry(error: unknown, keyed: boolean): boolean {
  if (!(error instanceof MesaDispatchError) || finalFailures.has(error)) return false;
  return keyed || !error.mayHaveBeenPublished;
}
