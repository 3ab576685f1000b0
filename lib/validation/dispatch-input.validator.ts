import { BROADCAST, DEFAULT_MAX_PAYLOAD_BYTES, MESA_MESSAGE_KIND, OPCODE_INTERNAL_EVENT } from '../mesa.constants.js';
import { MesaValidationError } from '../errors/mesa.errors.js';
import type { WireMessage } from '../messages/message.js';
import { describeValue } from './describe-value.js';

/** A dispatch checked and ready for Redis: nothing in it can fail to serialize any more. */
export interface PreparedDispatch {
  /** The message's JSON text, exactly as published and stored. */
  messageJson: string;
  /** De-duplicated ids after `excluding`, or `['*']`. */
  recipients: string[];
  broadcast: boolean;
  /** Whether sync may store it for offline recipients (a message without `{ sync: false }`). */
  storable: boolean;
}

/**
 * Validates a message and its recipients the way every entry point must, before anything is
 * published. Throws {@link MesaValidationError} naming the problem and the fix.
 */
export function prepareDispatch(
  message: unknown,
  recipients: unknown,
  excluding: unknown,
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): PreparedDispatch {
  const candidate = message as Record<PropertyKey, any> | null;
  let messageJson: string;
  let storable = true;
  // the common case, a nestjs-mesa Message without options, is serialized without an intermediate object
  if (candidate?.[MESA_MESSAGE_KIND] === 'message' && candidate.options === undefined && isPlainOpcode(candidate)) {
    messageJson = messageText(candidate);
  } else {
    const prepared = toWireMessage(message);
    messageJson = toJson(prepared.wire);
    storable = prepared.storable;
  }
  const ids = normalizeRecipients(recipients, excluding);
  checkSize(messageJson, maxPayloadBytes);
  return { messageJson, recipients: ids, broadcast: ids[0] === BROADCAST, storable };
}

function isPlainOpcode(candidate: Record<PropertyKey, any>): boolean {
  const { opcode, type } = candidate;
  return Number.isInteger(opcode) && opcode >= 0 && (type === undefined || (typeof type === 'string' && type.length > 0));
}

/** `JSON.stringify({ op, d, t })`, key order and omissions included, for a checked Message without options. */
function messageText({ opcode, data, type }: Record<PropertyKey, any>): string {
  let data_: string | undefined;
  try {
    data_ = JSON.stringify(data);
  } catch (error) {
    throw jsonError(error);
  }
  const head = data_ === undefined ? `{"op":${opcode}` : `{"op":${opcode},"d":${data_}`;
  return type === undefined ? `${head}}` : `${head},"t":${JSON.stringify(type)}}`;
}

/** A JSON text's UTF-8 size lies between its length and three times it: measure only when it matters. */
function checkSize(json: string, limit: number): void {
  if (json.length * 3 <= limit) return;
  const bytes = json.length > limit ? json.length : Buffer.byteLength(json);
  if (bytes > limit) {
    throw new MesaValidationError(
      `Message is ${bytes} bytes of JSON, over maxPayloadBytes (${limit}). Send a reference clients can fetch instead, or raise maxPayloadBytes.`,
    );
  }
}

function toWireMessage(message: unknown): { wire: WireMessage; storable: boolean } {
  const candidate = message as Record<PropertyKey, any> | null;
  const kind = candidate?.[MESA_MESSAGE_KIND] ?? duckTypedKind(candidate);
  if (kind === 'event') {
    if (typeof candidate!.action !== 'string' || candidate!.action.length === 0) {
      throw new MesaValidationError(
        `DispatchEvent action must be a non-empty string such as 'DISCONNECT_CLIENT'; got ${describeValue(candidate!.action)}.`,
      );
    }
    return { wire: { op: OPCODE_INTERNAL_EVENT, d: {}, t: candidate!.action }, storable: false };
  }
  if (kind !== 'message') {
    throw new MesaValidationError(
      `dispatch() expects a Message or a DispatchEvent, e.g. new Message(0, data, 'NEW_MESSAGE'); got ${describeValue(message)}.`,
    );
  }
  const { opcode, data, type, options } = candidate!;
  if (!Number.isInteger(opcode) || opcode < 0) {
    throw new MesaValidationError(`Message opcode must be a non-negative integer (0 for a dispatch); got ${describeValue(opcode)}.`);
  }
  if (type !== undefined && (typeof type !== 'string' || type.length === 0)) {
    throw new MesaValidationError(
      `Message type must be a non-empty string such as 'NEW_MESSAGE', or undefined; got ${describeValue(type)}.`,
    );
  }
  const wire: WireMessage = { op: opcode, d: data, t: type };
  if (options !== undefined) wire.o = { ...options, sync: options?.sync !== false };
  return { wire, storable: options?.sync !== false };
}

/** Mesa's own `Message` / `DispatchEvent` instances (from `@cryb/mesa`) carry no brand; recognise their shape. */
function duckTypedKind(candidate: Record<string, any> | null): 'message' | 'event' | undefined {
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.serialize !== 'function') return undefined;
  if (typeof candidate.opcode === 'number') return 'message';
  if (typeof candidate.action === 'string') return 'event';
  return undefined;
}

function toJson(wire: WireMessage): string {
  try {
    return JSON.stringify(wire);
  } catch (error) {
    throw jsonError(error);
  }
}

function jsonError(error: unknown): MesaValidationError {
  return new MesaValidationError(
    `Message data cannot be sent as JSON (${(error as Error).message}). Convert BigInt values to strings and remove circular references.`,
    { cause: error },
  );
}

/**
 * Applies the seed's recipient rules: default `['*']`, `excluding` filters ids, duplicates are sent once.
 * A `'*'` mixed with ids, or combined with `excluding`, is refused instead of becoming a silent broadcast.
 */
export function normalizeRecipients(recipients: unknown = [BROADCAST], excluding?: unknown): string[] {
  const wanted = checkIds(recipients, 'recipients');
  const excluded = excluding === undefined ? EMPTY : checkExcluding(excluding);
  if (wanted.includes(BROADCAST)) {
    if (wanted.some((id) => id !== BROADCAST)) {
      throw new MesaValidationError(
        `recipients mixes '*' with user ids; '*' alone means every connected socket. Pass either ['*'] or a list of ids.`,
      );
    }
    if (excluded.length > 0) {
      throw new MesaValidationError(
        `excluding cannot be applied to a broadcast ('*'): Mesa servers deliver it to every socket. Pass the recipients' ids instead.`,
      );
    }
    return [BROADCAST];
  }
  if (wanted.length > SMALL_LIST || excluded.length > SMALL_LIST) {
    const skip = new Set(excluded);
    return [...new Set(wanted)].filter((id) => !skip.has(id));
  }
  const ids: string[] = [];
  for (const id of wanted) if (!ids.includes(id) && !excluded.includes(id)) ids.push(id);
  return ids;
}

/** Below this length, linear scans beat building Sets (the common case: a few ids). */
const SMALL_LIST = 16;
const EMPTY: readonly string[] = [];

/** Checks that `value` is an array of non-empty, non-blank string ids; `name` is used in the error. */
/** Checks an `excluding` list: non-empty string ids, and no `'*'` (it would mean "leave everyone out"). */
export function checkExcluding(value: unknown): readonly string[] {
  const ids = checkIds(value, 'excluding');
  if (ids.includes(BROADCAST)) {
    throw new MesaValidationError(`excluding cannot contain '*'; list the user ids to leave out.`);
  }
  return ids;
}

function checkIds(value: unknown, name: string): readonly string[] {
  if (!Array.isArray(value)) {
    throw new MesaValidationError(`${name} must be an array of user id strings, e.g. ['42']; got ${describeValue(value)}.`);
  }
  for (let index = 0; index < value.length; index++) {
    const id = value[index];
    if (typeof id !== 'string' || id.length === 0 || (id.charCodeAt(0) <= 32 && id.trim().length === 0)) {
      throw new MesaValidationError(
        `${name}[${index}] must be a non-empty string user id; got ${describeValue(id)}. Convert ids with String(id).`,
      );
    }
  }
  return value;
}
