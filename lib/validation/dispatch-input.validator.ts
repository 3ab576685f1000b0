import { BROADCAST, BROADCAST_RECIPIENTS, DEFAULT_MAX_PAYLOAD_BYTES } from '../mesa.constants.js';
import { MesaValidationError } from '../errors/mesa.errors.js';
import { prepareMessage } from '../messages/message-snapshot.js';
import { RecipientListCache, type CheckedRecipients } from './recipient-list-cache.js';
import { checkUserIds } from './user-ids.validator.js';

/** A dispatch checked and ready for Redis: nothing in it can fail to serialize any more. */
export interface PreparedDispatch {
  /** The message's JSON text, exactly as published and stored. */
  messageJson: string;
  /** De-duplicated ids after `excluding`, or `['*']`. Shared with other dispatches (see `RecipientListCache`): never mutate it. */
  recipients: readonly string[];
  /** `JSON.stringify(recipients)`. */
  recipientsJson: string;
  broadcast: boolean;
  /** Whether sync may store it for offline recipients (a message without `{ sync: false }`). */
  storable: boolean;
  /** The message's own `ttl` option (ms), when it has one. */
  ttl?: number;
  /** The message's `idempotencyKey` option, when it has one. */
  idempotencyKey?: string;
}

/**
 * Validates a message and its recipients the way every entry point must, before anything is
 * published. The message's fields are read once and serialized from that checked snapshot (see
 * {@link prepareMessage}); the id lists are read once too. Throws {@link MesaValidationError} naming
 * the problem and the fix.
 */
export function prepareDispatch(
  message: unknown,
  recipients: unknown,
  excluding: unknown,
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): PreparedDispatch {
  const { messageJson, storable, ttl, idempotencyKey } = prepareMessage(message);
  const { ids, json } = checkRecipients(recipients, excluding);
  checkSize(messageJson, maxPayloadBytes);
  const prepared: PreparedDispatch = { messageJson, recipients: ids, recipientsJson: json, broadcast: ids[0] === BROADCAST, storable };
  if (ttl !== undefined) prepared.ttl = ttl;
  if (idempotencyKey !== undefined) prepared.idempotencyKey = idempotencyKey;
  return prepared;
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

const recipientLists = new RecipientListCache();
const withoutExcluded = (wanted: string[]) => applyRecipientRules(wanted, EMPTY);

/**
 * Checks `recipients` (default `['*']`) and `excluding` and applies the recipient rules (see
 * {@link applyRecipientRules}). A list sent again without `excluding` comes from a {@link RecipientListCache}.
 */
export function checkRecipients(recipients: unknown = BROADCAST_RECIPIENTS, excluding?: unknown): CheckedRecipients {
  if (excluding === undefined) return recipientLists.get(recipients, withoutExcluded);
  const ids = applyRecipientRules(checkUserIds(recipients, 'recipients'), checkExcluding(excluding));
  return { ids, json: JSON.stringify(ids) };
}

/**
 * Applies the seed's recipient rules to checked lists: `excluding` filters ids, duplicates are sent once.
 * A `'*'` mixed with ids, or combined with `excluding`, is refused instead of becoming a silent broadcast.
 */
function applyRecipientRules(wanted: string[], excluded: readonly string[]): string[] {
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

/** Checks an `excluding` list: non-empty string ids, and no `'*'` (it would mean "leave everyone out"). */
export function checkExcluding(value: unknown): readonly string[] {
  const ids = checkUserIds(value, 'excluding');
  if (ids.includes(BROADCAST)) {
    throw new MesaValidationError(`excluding cannot contain '*'; list the user ids to leave out.`);
  }
  return ids;
}
