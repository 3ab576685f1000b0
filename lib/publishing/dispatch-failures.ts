import { MesaDispatchError, MesaError } from '../errors/mesa.errors.js';
import type { MesaModuleOptions } from '../interfaces/mesa-module-options.interface.js';
import { redactSecrets } from '../redis/redis-target.js';

/**
 * The errors a dispatch rejects with when Redis does not take it, worded so the caller knows whether
 * the message may still have gone out. Never contains a password.
 */
export class DispatchFailures {
  constructor(
    private readonly target: string,
    private readonly channel: string,
    private readonly options: MesaModuleOptions,
  ) {}

  /** `whenDisconnected: 'fail'` and Redis is not connected: nothing was sent. */
  notSent(status: string): MesaDispatchError {
    return new MesaDispatchError(
      `Redis at ${this.target} is unreachable (connection ${status}); the message was not sent (whenDisconnected: 'fail').`,
    );
  }

  /** Held while Redis was unreachable for longer than `dispatchTimeout`: dropped, never sent later. */
  expired(timeout: number): MesaDispatchError {
    return new MesaDispatchError(
      `Redis at ${this.target} stayed unreachable for dispatchTimeout (${timeout} ms); the message was not sent and will not be.`,
    );
  }

  /** Sent, but no answer within `dispatchTimeout`: the outcome is unknown. */
  noAnswer(timeout: number): MesaDispatchError {
    return new MesaDispatchError(
      `Redis at ${this.target} did not answer within dispatchTimeout (${timeout} ms); the message may have been published.`,
    );
  }

  /** Redis answered with an error (nothing was done), or the connection dropped (outcome unknown). */
  fromRedis(error: unknown, recipients: number): Error {
    if (error instanceof MesaError) return error;
    const reason = redactSecrets((error as Error)?.message ?? String(error), this.options);
    const answered = (error as Error)?.name === 'ReplyError';
    return new MesaDispatchError(
      answered
        ? `Redis at ${this.target} did not take the dispatch to ${recipients} recipient(s) on ${this.channel}: ${reason}`
        : `Redis at ${this.target} lost the connection before answering the dispatch to ${recipients} recipient(s) (${reason}); the message may have been published.`,
      { cause: error },
    );
  }
}
