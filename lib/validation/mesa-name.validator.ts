import { MesaConfigurationError } from '../errors/mesa.errors.js';
import { describeValue } from '../errors/describe-value.js';

/** The name of the default (unnamed) `MesaModule` registration; giving it is the same as giving no name. */
export const DEFAULT_MESA_NAME = 'default';

/** Longest accepted name of a `MesaModule` registration. */
export const MAX_MESA_NAME_LENGTH = 100;

const NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** Whether `name` designates the default registration (`undefined` or `'default'`). */
export function isDefaultMesaName(name: string | undefined): name is undefined | typeof DEFAULT_MESA_NAME {
  return name === undefined || name === DEFAULT_MESA_NAME;
}

/**
 * Checks the name of a `MesaModule` registration (or the `dispatcher` of `@Dispatch`, the name given to
 * `@InjectDispatcher()` or a token getter): `undefined`, or 1 to 100 letters, digits, `-`, `_` or `.`.
 * @param where prefix of the error message, such as `MesaModule.forRoot`.
 * @returns the name, `undefined` for the default registration.
 * @throws MesaConfigurationError naming the problem and the fix.
 */
export function checkMesaName(name: unknown, where: string): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_MESA_NAME_LENGTH || !NAME_PATTERN.test(name)) {
    throw new MesaConfigurationError(
      `${where}: name must be a string of 1 to ${MAX_MESA_NAME_LENGTH} letters, digits, '-', '_' or '.', such as 'chat' ` +
        `(omit it for the default registration); got ${describeValue(name)}.`,
    );
  }
  return isDefaultMesaName(name) ? undefined : name;
}
