import { BROADCAST, BROADCAST_RECIPIENTS, DEFAULT_MAX_PAYLOAD_BYTES } from '../mesa.constants.js';
import { MesaValidationError } from '../errors/mesa.errors.js';
import { prepareMessage } from '../messages/message-snapshot.js';
import { idListJson } from './id-list-json.js';
import { RecipientListCache, type CheckedRecipients } from './recipient-list-cache.js';
import { preparedOf, SealedMessage } from './sealed-dispatch.js';
import { checkSelectedArray, checkUserIds, selectedBroadcastError } from './user-ids.validator.js';

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
 * {@link prepareMessage}); the id lists are read once too. A message `@Dispatch` sealed (see
 * {@link SealedMessage}), handed over with the lists it was sealed for, is not prepared again. Throws
 * {@link MesaValidationError} naming the problem and the fix.
 */
export function prepareDispatch(
  message: unknown,
  recipients: unknown,
  excluding: unknown,
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): PreparedDispatch {
  if (typeof message === 'object' && message !== null && SealedMessage.is(message)) {
    const sealed = SealedMessage.preparedFor(message, recipients, excluding, maxPayloadBytes);
    return sealed ?? preparedOf(SealedMessage.messageOf(message), checkRecipients(recipients, excluding), maxPayloadBytes);
  }
  return preparedOf(prepareMessage(message), checkRecipients(recipients, excluding), maxPayloadBytes);
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
  return { ids, json: idListJson(ids) };
}

const withoutExcludedSelected = (wanted: string[]) => {
  if (wanted.includes(BROADCAST)) throw selectedBroadcastError('recipients');
  return applyRecipientRules(wanted, EMPTY);
};

/**
 * Checks what a `@Dispatch` `recipients` function returned, with no `excluding` function: an array of ids without
 * `'*'` (see {@link checkSelectedIds}), with the recipient rules applied. An array returned again comes from the
 * same {@link RecipientListCache} as `dispatch()`'s lists.
 * @throws MesaValidationError saying what the function returned and what it must return.
 */
export function checkSelectedRecipients(value: unknown): CheckedRecipients {
  checkSelectedArray(value, 'recipients');
  const checked = recipientLists.get(value, withoutExcludedSelected);
  // a list cached by dispatch() may be ['*']
  if (checked.ids[0] === BROADCAST) throw selectedBroadcastError('recipients');
  return checked;
}

/**
 * The recipient rules applied to what `@Dispatch`'s `recipients` and `excluding` functions returned, both already
 * checked (see {@link checkSelectedIds}).
 */
export function excludeSelected(wanted: string[], excluded: readonly string[]): CheckedRecipients {
  const ids = applyRecipientRules(wanted, excluded);
  return { ids, json: idListJson(ids) };
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
  // `wanted` itself when nothing is left out (the common case): it is the caller's checked copy
  let ids: string[] | undefined;
  for (let index = 0; index < wanted.length; index++) {
    const id = wanted[index];
    const kept = wanted.indexOf(id) === index && !excluded.includes(id);
    if (ids !== undefined) {
      if (kept) ids.push(id);
    } else if (!kept) {
      ids = wanted.slice(0, index);
    }
  }
  return ids ?? wanted;
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
