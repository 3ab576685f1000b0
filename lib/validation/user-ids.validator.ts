import { MesaValidationError } from '../errors/mesa.errors.js';
import { BROADCAST } from '../mesa.constants.js';
import { describeValue } from '../errors/describe-value.js';
import { isWellFormedText } from '../messages/well-formed-text.js';

/**
 * Checks that `value` is an array of user ids (non-empty, non-blank, well-formed strings) and returns a copy
 * read exactly once, so an array whose elements are getters (or a Proxy) cannot answer one thing to the
 * check and another to the publish. `name` (e.g. `'recipients'`) is used in the error.
 * @throws MesaValidationError naming the element and the fix.
 */
export function checkUserIds(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) {
    throw new MesaValidationError(`${name} must be an array of user id strings, e.g. ['42']; got ${describeValue(value)}.`);
  }
  const length = value.length;
  const ids = new Array<string>(length);
  for (let index = 0; index < length; index++) {
    const id: unknown = value[index];
    // the element's name (`recipients[2]`) is built only for the error: most lists are valid
    ids[index] = isPlainUserId(id) ? id : checkUserId(id, `${name}[${index}]`);
  }
  return ids;
}

/** The common case of {@link checkUserId}, without building a name: a string that starts visible and is well-formed. */
function isPlainUserId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.charCodeAt(0) > 32 && isWellFormedText(id);
}

/**
 * Checks one user id: a non-empty, non-blank, well-formed string. `name` (e.g. `'recipients[2]'`) is used in the error.
 * @throws MesaValidationError naming the argument and the fix.
 */
export function checkUserId(id: unknown, name: string): string {
  if (typeof id !== 'string') {
    throw new MesaValidationError(`${name} must be a non-empty string user id; got ${describeValue(id)}. Convert ids with String(id).`);
  }
  if (id.length === 0 || (id.charCodeAt(0) <= 32 && id.trim().length === 0)) {
    throw new MesaValidationError(
      `${name} must be a non-empty string user id; got ${describeValue(id)}, which ${id.length === 0 ? 'is empty' : 'holds only whitespace'} ` +
        "and names nobody. Ids are what your Mesa server's authenticate callback returns: leave out users without one, and trim ids " +
        'that come from input before checking them.',
    );
  }
  if (!isWellFormedText(id)) {
    throw new MesaValidationError(
      `${name} is not well-formed Unicode (it holds a lone surrogate, U+D800 to U+DFFF): Redis stores ids as UTF-8, where a lone ` +
        'UTF-16 surrogate turns into U+FFFD and could reach another user. Refuse such ids where users choose them.',
    );
  }
  return id;
}

/**
 * Checks an id that names one user, as `MesaPresence` and `MesaBacklog` take them: {@link checkUserId}, and never
 * `'*'` (Mesa's "every socket").
 * @throws MesaValidationError naming the argument and the fix.
 */
export function checkNamedUserId(id: unknown, name: string): string {
  if (checkUserId(id, name) === BROADCAST) {
    throw new MesaValidationError(`${name} cannot be '*': Mesa uses it for "every socket", never as a user id.`);
  }
  return id as string;
}

/**
 * Checks a list of ids that each name one user (see {@link checkNamedUserId}); returns them, read once.
 * @throws MesaValidationError for a non-array or any invalid element (named by its index).
 */
export function checkNamedUserIds(value: unknown, name: string): string[] {
  const ids = checkUserIds(value, name);
  ids.forEach((id, index) => checkNamedUserId(id, `${name}[${index}]`));
  return ids;
}

/**
 * Checks what a `@Dispatch` `recipients` or `excluding` function returned: an array of user ids and nothing
 * else. `undefined`, `null`, a string, a Set... are refused, never read as "everyone" or "nobody"; `'*'` is
 * refused in both (only `{ broadcast: true }` broadcasts). Returns the ids, read once.
 * @throws MesaValidationError saying what the function returned and what it must return.
 */
export function checkSelectedIds(value: unknown, selector: 'recipients' | 'excluding'): string[] {
  checkSelectedArray(value, selector);
  const ids = checkUserIds(value, selector);
  if (ids.includes(BROADCAST)) throw selectedBroadcastError(selector);
  return ids;
}

/**
 * Checks that a `@Dispatch` `recipients` or `excluding` function returned an array (its elements are checked apart).
 * @throws MesaValidationError saying what the function returned and what it must return.
 */
export function checkSelectedArray(value: unknown, selector: 'recipients' | 'excluding'): asserts value is unknown[] {
  if (Array.isArray(value)) return;
  const hint =
    selector === 'recipients' ? `return [] to send to nobody; only { broadcast: true } sends to everyone` : 'return [] to leave nobody out';
  throw new MesaValidationError(
    `the ${selector} function returned ${describeValue(value)}; it must return an array of user id strings, e.g. ['42'] (${hint}).`,
  );
}

/** The error for a `'*'` among the ids a `@Dispatch` `recipients` or `excluding` function returned. */
export function selectedBroadcastError(selector: 'recipients' | 'excluding'): MesaValidationError {
  return new MesaValidationError(
    selector === 'recipients'
      ? `the recipients function returned '*'; ids from data never broadcast. Declare { broadcast: true } to send to everyone.`
      : `excluding cannot contain '*'; list the user ids to leave out.`,
  );
}

/**
 * Checks an optional whole-number option within `[1, max]` (a scan's `count`, a peek's `limit`).
 * @throws MesaValidationError naming the option and the accepted range.
 */
export function checkPositiveInteger(value: unknown, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new MesaValidationError(
      `${name} must be a whole number from 1 to ${max}; got ${typeof value === 'number' ? value : describeValue(value)}.`,
    );
  }
  return value;
}
