import { MesaValidationError } from '../errors/mesa.errors.js';
import { BROADCAST_RECIPIENTS, DEFAULT_MAX_PAYLOAD_BYTES } from '../mesa.constants.js';
import { checkExcluding, prepareDispatch, type PreparedDispatch } from './dispatch-input.validator.js';
import { describeValue } from '../errors/describe-value.js';

/** A broadcast-except checked and ready for Redis: the message, and the ids to leave out. */
export interface PreparedBroadcastExcept {
  /** The message as `prepareDispatch` checked it (recipients `['*']`). */
  prepared: PreparedDispatch;
  /** De-duplicated ids to leave out of the online authenticated users. */
  excluding: string[];
}

/**
 * Validates `broadcast(message, options)`: the message as any dispatch, and `options.excluding`, an
 * array (possibly empty) of non-empty string ids without `'*'`. Throws {@link MesaValidationError}.
 */
export function prepareBroadcastExcept(
  message: unknown,
  options: unknown,
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): PreparedBroadcastExcept {
  const prepared = prepareDispatch(message, BROADCAST_RECIPIENTS, undefined, maxPayloadBytes);
  if (typeof options !== 'object' || options === null) {
    throw new MesaValidationError(`broadcast() options must be an object such as { excluding: ['42'] }; got ${describeValue(options)}.`);
  }
  const { excluding } = options as { excluding?: unknown };
  if (excluding === undefined) {
    throw new MesaValidationError(
      `broadcast(message, options) needs options.excluding, the user ids (possibly none) to leave out of the online ` +
        `authenticated users; call broadcast(message) without options to reach every socket.`,
    );
  }
  return { prepared, excluding: [...new Set(checkExcluding(excluding))] };
}
