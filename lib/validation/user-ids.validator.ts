import { MesaValidationError } from '../errors/mesa.errors.js';
import { BROADCAST } from '../mesa.constants.js';
import { describeValue } from './describe-value.js';

const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether `text` is well-formed UTF-16 (no lone surrogate), so that it survives UTF-8, the encoding Redis
 * and every Mesa server speak. A lone surrogate becomes U+FFFD there: `'x\uD800'` and `'x\uDC00'` would
 * both arrive as `'x\uFFFD'`, one user's messages stored for, or sent to, another.
 */
export function isWellFormedText(text: string): boolean {
  return nativeIsWellFormed ? nativeIsWellFormed.call(text) : !LONE_SURROGATE.test(text);
}

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
    if (typeof id !== 'string' || id.length === 0 || (id.charCodeAt(0) <= 32 && id.trim().length === 0)) {
      throw new MesaValidationError(
        `${name}[${index}] must be a non-empty string user id; got ${describeValue(id)}. Convert ids with String(id).`,
      );
    }
    if (!isWellFormedText(id)) {
      throw new MesaValidationError(
        `${name}[${index}] is not well-formed Unicode (it holds a lone surrogate, U+D800 to U+DFFF): Redis stores ids as ` +
          `UTF-8, where it would turn into U+FFFD and could reach another user. Refuse such ids where users choose them.`,
      );
    }
    ids[index] = id;
  }
  return ids;
}

/**
 * Checks what a `@Dispatch` `recipients` or `excluding` function returned: an array of user ids and nothing
 * else. `undefined`, `null`, a string, a Set... are refused, never read as "everyone" or "nobody"; `'*'` is
 * refused in both (only `{ broadcast: true }` broadcasts). Returns the ids, read once.
 * @throws MesaValidationError saying what the function returned and what it must return.
 */
export function checkSelectedIds(value: unknown, selector: 'recipients' | 'excluding'): string[] {
  if (!Array.isArray(value)) {
    const hint =
      selector === 'recipients'
        ? `return [] to send to nobody; only { broadcast: true } sends to everyone`
        : 'return [] to leave nobody out';
    throw new MesaValidationError(
      `the ${selector} function returned ${describeValue(value)}; it must return an array of user id strings, e.g. ['42'] (${hint}).`,
    );
  }
  const ids = checkUserIds(value, selector);
  if (ids.includes(BROADCAST)) {
    throw new MesaValidationError(
      selector === 'recipients'
        ? `the recipients function returned '*'; ids from data never broadcast. Declare { broadcast: true } to send to everyone.`
        : `excluding cannot contain '*'; list the user ids to leave out.`,
    );
  }
  return ids;
}
