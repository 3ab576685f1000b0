import { MESA_REDIS_CONNECTION } from './mesa.constants.js';
import { MESA_MODULE_OPTIONS } from './mesa.module-definition.js';

/** Token of the options `MesaModule` was given, for `overrideProvider()` in tests. */
export function getMesaOptionsToken(): string | symbol {
  return MESA_MODULE_OPTIONS;
}

/** Token of the {@link MesaRedisConnection} the module dispatches through, for `overrideProvider()`. */
export function getMesaRedisConnectionToken(): symbol {
  return MESA_REDIS_CONNECTION;
}
