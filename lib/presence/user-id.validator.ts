import { MesaValidationError } from '../errors/mesa.errors.js';
import { BROADCAST } from '../mesa.constants.js';
import { describeValue } from '../validation/describe-value.js';

// Paired surrogates form one code point in a `u` regex, so this matches lone ones only.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Checks one user id argument of `MesaPresence` / `MesaBacklog` (and their test doubles): a non-empty,
 * non-blank string, well-formed UTF-16 (a lone surrogate would reach Redis as U+FFFD and so name
 * another user), and not `'*'` (Mesa's "every socket", never a user).
 * @throws MesaValidationError naming the argument and the fix.
 */
export function checkUserId(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0 || (value.charCodeAt(0) <= 32 && value.trim().length === 0)) {
    throw new MesaValidationError(`${name} must be a non-empty string user id; got ${describeValue(value)}. Convert ids with String(id).`);
  }
  if (LONE_SURROGATE.test(value)) {
    throw new MesaValidationError(
      `${name} contains a lone UTF-16 surrogate, which Redis would store as U+FFFD (another user's id). Pass the id as the user authenticated with Mesa.`,
    );
  }
  if (value === BROADCAST) {
    throw new MesaValidationError(`${name} cannot be '*': Mesa uses it for "every socket", never as a user id.`);
  }
  return value;
}

/**
 * Checks a list of user ids (see {@link checkUserId}); `name` is the argument's name in errors.
 * @throws MesaValidationError for a non-array or any invalid element (named by its index).
 */
export function checkUserIds(value: unknown, name: string): readonly string[] {
  if (!Array.isArray(value)) {
    throw new MesaValidationError(`${name} must be an array of user id strings, e.g. ['42']; got ${describeValue(value)}.`);
  }
  for (let index = 0; index < value.length; index++) checkUserId(value[index], `${name}[${index}]`);
  return value;
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
