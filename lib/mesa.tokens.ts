import { MESA_MODULE_OPTIONS, MESA_REDIS_CONNECTION, MESA_RESOLVED_OPTIONS } from './mesa.constants.js';

/** Token of the options `MesaModule` was given, as given, for `overrideProvider()` in tests. */
export function getMesaOptionsToken(): symbol {
  return MESA_MODULE_OPTIONS;
}

/** Token of the options after validation and defaults (a `ResolvedMesaOptions`), for `overrideProvider()` in tests. */
export function getMesaResolvedOptionsToken(): symbol {
  return MESA_RESOLVED_OPTIONS;
}

/** Token of the {@link MesaRedisConnection} the module dispatches through, for `overrideProvider()`. */
export function getMesaRedisConnectionToken(): symbol {
  return MESA_REDIS_CONNECTION;
}
