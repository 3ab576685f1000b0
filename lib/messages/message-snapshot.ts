import { MesaValidationError } from '../errors/mesa.errors.js';
import { MAX_IDEMPOTENCY_KEY_LENGTH, MESA_MESSAGE_KIND, OPCODE_INTERNAL_EVENT } from '../mesa.constants.js';
import { describeValue } from '../errors/describe-value.js';
import { isWellFormedText } from './well-formed-text.js';

/** A message's JSON text, produced from one checked reading of its fields. */
export interface PreparedMessage {
  /** `{"op":…,"d":…,"t":…[,"o":…]}`, always valid JSON, exactly as published and stored. */
  messageJson: string;
  /** Whether sync may store it for offline recipients (a message without `{ sync: false }`). */
  storable: boolean;
  /** Its `ttl` option, in ms, when it has one. */
  ttl?: number;
  /** Its `idempotencyKey` option, checked, when it has one (never part of `messageJson`). */
  idempotencyKey?: string;
}

/**
 * Reads each field of `message` exactly once (brand, opcode, data, type, options; for Mesa's own classes the
 * fields their shape is recognised by), checks that snapshot and serializes from it, so a getter or a Proxy
 * answering one thing to the check and another to the serialization cannot put invalid JSON on the channel
 * or into a user's backlog. The opcode is written from a checked non-negative integer, the type from a checked
 * string, data and options through `JSON.stringify`.
 * @throws MesaValidationError naming the field and the fix.
 */
export function prepareMessage(message: unknown): PreparedMessage {
  if (typeof message !== 'object' || message === null) throw notAMessage(message);
  const candidate = message as Record<PropertyKey, unknown>;
  const kind = candidate[MESA_MESSAGE_KIND];
  if (kind === 'message') return fromFields(candidate.opcode, candidate.data, candidate.type, candidate.options);
  if (kind === 'event') return fromAction(candidate.action);
  if (kind === undefined && typeof candidate.serialize === 'function') {
    // Mesa's own Message / DispatchEvent carry no brand: recognised by their shape, each field still read once
    const opcode = candidate.opcode;
    if (typeof opcode === 'number') return fromFields(opcode, candidate.data, candidate.type, candidate.options);
    const action = candidate.action;
    if (typeof action === 'string') return fromAction(action);
  }
  throw notAMessage(message);
}

function fromFields(opcode: unknown, data: unknown, type: unknown, options: unknown): PreparedMessage {
  if (typeof opcode !== 'number' || !Number.isInteger(opcode) || opcode < 0) {
    throw new MesaValidationError(`Message opcode must be a non-negative integer (0 for a dispatch); got ${describeValue(opcode)}.`);
  }
  if (type !== undefined && (typeof type !== 'string' || type.length === 0)) {
    throw new MesaValidationError(
      `Message type must be a non-empty string such as 'NEW_MESSAGE', or undefined; got ${describeValue(type)}.`,
    );
  }
  if (type !== undefined && !isWellFormedText(type)) throw notWellFormed('Message type');
  if (options !== undefined && (typeof options !== 'object' || Array.isArray(options))) {
    throw new MesaValidationError(
      `Message options must be an object such as { sync: false }, or undefined; got ${describeValue(options)}.`,
    );
  }
  let json = `{"op":${opcode}`;
  const dataJson = stringify(data);
  if (dataJson !== undefined) json += `,"d":${dataJson}`;
  if (type !== undefined) json += `,"t":${JSON.stringify(type)}`;
  if (options === undefined) return { messageJson: `${json}}`, storable: true };
  const { idempotencyKey, ...copy } = options as Record<string, unknown>;
  const sync = copy.sync !== false;
  const ttl = checkTtl(copy.ttl, 'Message ttl option');
  const key = checkIdempotencyKey(idempotencyKey, 'Message idempotencyKey option');
  const optionsJson = stringify({ ...copy, sync });
  const prepared: PreparedMessage = { messageJson: optionsJson === undefined ? `${json}}` : `${json},"o":${optionsJson}}`, storable: sync };
  if (ttl !== undefined) prepared.ttl = ttl;
  if (key !== undefined) prepared.idempotencyKey = key;
  return prepared;
}

/**
 * Checks an idempotency key as ids are checked: undefined, or a non-empty, non-blank, well-formed string of at most
 * `MAX_IDEMPOTENCY_KEY_LENGTH` (256) characters.
 * @throws MesaValidationError naming `what` and the fix.
 */
export function checkIdempotencyKey(key: unknown, what: string): string | undefined {
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key.trim().length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    const length = typeof key === 'string' && key.length > MAX_IDEMPOTENCY_KEY_LENGTH ? ` (${key.length} characters)` : '';
    throw new MesaValidationError(
      `${what} must be a non-empty string of at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters naming this one message, such as ` +
        `'order-42:shipped'; got ${describeValue(key)}${length}. Hash a longer identity (SHA-256 in hex is 64 characters).`,
    );
  }
  if (!isWellFormedText(key)) throw notWellFormed(what);
  return key;
}

/**
 * Checks a time to live: undefined, or a positive whole number of milliseconds (at most about 285,000 years).
 * @throws MesaValidationError naming `what` and the fix.
 */
export function checkTtl(ttl: unknown, what: string): number | undefined {
  if (ttl === undefined) return undefined;
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0) {
    throw new MesaValidationError(
      `${what} must be a positive whole number of milliseconds, such as 86400000 for a day; got ${describeValue(ttl)}.`,
    );
  }
  return ttl;
}

function fromAction(action: unknown): PreparedMessage {
  if (typeof action !== 'string' || action.length === 0) {
    throw new MesaValidationError(
      `DispatchEvent action must be a non-empty string such as 'DISCONNECT_CLIENT'; got ${describeValue(action)}.`,
    );
  }
  if (!isWellFormedText(action)) throw notWellFormed('DispatchEvent action');
  return { messageJson: `{"op":${OPCODE_INTERNAL_EVENT},"d":{},"t":${JSON.stringify(action)}}`, storable: false };
}

/** `JSON.stringify`, whose text is always valid JSON (or undefined: the field is left out, as `JSON.stringify` does). */
function stringify(value: unknown): string | undefined {
  let text: unknown;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new MesaValidationError(
      `Message data cannot be sent as JSON (${(error as Error).message}). Convert BigInt values to strings and remove circular references.`,
      { cause: error },
    );
  }
  return typeof text === 'string' ? text : undefined;
}

function notAMessage(message: unknown): MesaValidationError {
  return new MesaValidationError(
    `dispatch() expects a Message or a DispatchEvent, e.g. new Message(0, data, 'NEW_MESSAGE'); got ${describeValue(message)}.`,
  );
}

function notWellFormed(what: string): MesaValidationError {
  return new MesaValidationError(
    `${what} is not well-formed Unicode (it holds a lone surrogate, U+D800 to U+DFFF), which does not survive UTF-8. Use a valid Unicode string.`,
  );
}
