import type { DispatchResult } from '../interfaces/dispatch-result.interface.js';
import { BROADCAST, MESA_SETTLED_DISPATCH, OPCODE_DISPATCH } from '../mesa.constants.js';
import { Message, type MessageOptions, type WireMessage } from '../messages/message.js';
import { prepareMessage, type PreparedMessage } from '../messages/message-snapshot.js';
import type { PreparedDispatch } from './dispatch-input.validator.js';
import type { Settlement } from '../interfaces/settlement.interface.js';
import { checkPayloadSize } from './payload-size.validator.js';
import type { CheckedRecipients } from './recipient-list-cache.js';

/** What a SealedMessage is handed to: `DispatcherService`, `RecordingDispatcher`, or what stands in for them. */
export interface SealedDispatchTarget<T> {
  dispatch(message: never, recipients?: readonly string[], excluding?: readonly string[]): Promise<T>;
  /** `DispatcherService`'s: `dispatch()` settling `caller` instead of a promise of its own. */
  [MESA_SETTLED_DISPATCH]?(caller: Settlement, message: never, recipients?: readonly string[], excluding?: readonly string[]): void;
}

/** Only this module holds it: a SealedMessage cannot be built anywhere else (not even through `message.constructor`). */
const SEAL = Symbol('nestjs-mesa:sealed-message');

/**
 * @internal A message `@Dispatch` built, checked and serialized once, with the recipients it is for: the
 * dispatcher it is handed to (`DispatcherService`, `RecordingDispatcher`) publishes exactly that, without
 * preparing it again. The prepared dispatch lives in private fields, so nothing outside this class can read,
 * replace or forge it (a plain object, a copy or a Proxy never passes for one, whatever its fields). It is a
 * `Message` (the same fields, `instanceof Message`), so any other code handed it sees an ordinary message; its
 * public fields are never read again once it is sealed (not frozen: freezing cost about 4 % of a decorated call),
 * so changing them changes nothing that is published, and `serialize()` answers the sealed JSON.
 */
export class SealedMessage<D = unknown> extends Message<D> {
  readonly #prepared: PreparedDispatch;
  /** The lists exactly as given to `dispatch()` with it, compared by identity. */
  readonly #recipients: unknown;
  readonly #excluding: unknown;
  /** The `maxPayloadBytes` its size was checked against. */
  readonly #limit: number;

  /** Use {@link sealDispatch}. */
  constructor(
    seal: typeof SEAL,
    type: string,
    data: D,
    options: MessageOptions | undefined,
    checked: CheckedRecipients,
    recipients: unknown,
    excluding: unknown,
    limit: number,
  ) {
    if (seal !== SEAL) throw new TypeError('A SealedMessage is built by @Dispatch only; build a Message instead.');
    super(OPCODE_DISPATCH, data, type, options);
    this.#prepared = preparedOf(prepareMessage(this), checked, limit);
    this.#recipients = recipients;
    this.#excluding = excluding;
    this.#limit = limit;
  }

  /** Whether `message` is a SealedMessage (a brand check: a copy or a Proxy of one is not). */
  static is(message: object): message is SealedMessage {
    return #prepared in message;
  }

  /**
   * The prepared dispatch of `message` when it was handed over with the very lists it was sealed for (otherwise
   * undefined); checked again against `limit` when that is lower than the one it was checked with.
   * @throws MesaValidationError when it is over `limit`.
   */
  static preparedFor(message: SealedMessage, recipients: unknown, excluding: unknown, limit: number): PreparedDispatch | undefined {
    if (message.#recipients !== recipients || message.#excluding !== excluding) return undefined;
    if (limit < message.#limit) checkPayloadSize(message.#prepared.messageJson, limit);
    return message.#prepared;
  }

  /**
   * Hands `message` with the lists it was sealed for to `dispatcher`, its outcome going to `caller`: through the
   * dispatcher's {@link MESA_SETTLED_DISPATCH} when it has one (`DispatcherService`: no promise is made), else
   * through `dispatch()` (`RecordingDispatcher`, a stand-in), a failure nobody consumes then reported to `onUnconsumed`.
   */
  static settleThrough(
    message: SealedMessage,
    dispatcher: SealedDispatchTarget<unknown>,
    caller: Settlement,
    onUnconsumed: (error: unknown) => void,
  ): void {
    const recipients = message.#recipients as readonly string[];
    const excluding = message.#excluding as readonly string[];
    const settled = dispatcher[MESA_SETTLED_DISPATCH];
    if (settled) return settled.call(dispatcher, caller, message as never, recipients, excluding);
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(dispatcher.dispatch(message as never, recipients, excluding));
    } catch (error) {
      return caller.fail(error, onUnconsumed);
    }
    pending.then(
      (result) => caller.succeed(result as DispatchResult),
      (error: unknown) => caller.fail(error, onUnconsumed),
    );
  }

  /** The message part `message` was sealed with (for `dispatch()` with other lists). */
  static messageOf(message: SealedMessage): PreparedMessage {
    return message.#prepared;
  }

  /** The JSON text it was sealed with, or its wire form (as {@link Message.serialize}). */
  override serialize(toJson: true): WireMessage;
  override serialize(toJson?: false): string;
  override serialize(toJson = false): WireMessage | string {
    const json = this.#prepared.messageJson;
    return toJson ? (JSON.parse(json) as WireMessage) : json;
  }
}

/**
 * @internal Builds `new Message(0, data, type, options)` for `@Dispatch`, checks and serializes it once (the
 * message, and its size against `limit`) with recipients already checked, and seals the result: handed to
 * `dispatch(message, recipients, excluding)` (the very lists the selectors returned), it is published as prepared here.
 * @throws MesaValidationError as `dispatch()` would.
 */
export function sealDispatch<D>(
  type: string,
  data: D,
  options: MessageOptions | undefined,
  checked: CheckedRecipients,
  recipients: unknown,
  excluding: unknown,
  limit: number,
): SealedMessage<D> {
  return new SealedMessage(SEAL, type, data, options, checked, recipients, excluding, limit);
}

/**
 * A prepared dispatch from a prepared message and checked recipients, after checking the message's size.
 * @throws MesaValidationError when the message is over `limit`.
 */
export function preparedOf(message: PreparedMessage, checked: CheckedRecipients, limit: number): PreparedDispatch {
  const { messageJson, ttl, idempotencyKey } = message;
  checkPayloadSize(messageJson, limit);
  const ids = checked.ids;
  const prepared: PreparedDispatch = {
    messageJson,
    recipients: ids,
    recipientsJson: checked.json,
    broadcast: ids[0] === BROADCAST,
    storable: message.storable,
  };
  if (ttl !== undefined) prepared.ttl = ttl;
  if (idempotencyKey !== undefined) prepared.idempotencyKey = idempotencyKey;
  return prepared;
}
