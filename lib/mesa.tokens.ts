import { MesaBacklogSweeper } from './backlog/backlog-sweeper.js';
import { MesaBacklog } from './backlog/mesa-backlog.service.js';
import { DispatcherService } from './dispatcher.service.js';
import { MESA_DISPATCHER_PROPERTY, MESA_MODULE_OPTIONS, MESA_REDIS_CONNECTION, MESA_RESOLVED_OPTIONS } from './mesa.constants.js';
import { checkMesaName } from './validation/mesa-name.validator.js';
import { MesaPresence } from './presence/mesa-presence.service.js';
import { MesaPublisher } from './publishing/mesa-publisher.js';

/**
 * The token of one part of a named `MesaModule` registration: `Symbol.for('nestjs-mesa:<part>:<name>')`, so
 * two copies of the library in one process still agree.
 */
function namedToken(part: string, name: string): symbol {
  return Symbol.for(`nestjs-mesa:${part}:${name}`);
}

/** The default registration's token (`name` undefined or `'default'`), else the name's own; `where` names the caller in errors. */
function tokenFor<T>(name: string | undefined, where: string, defaultToken: T, part: string): T | symbol {
  const checked = checkMesaName(name, where);
  return checked === undefined ? defaultToken : namedToken(part, checked);
}

/**
 * Token of the options `MesaModule` was given, as given, for `overrideProvider()` in tests.
 * @param name the registration's name; none (or `'default'`): the default registration's token, as before.
 * @throws MesaConfigurationError for a name that is not 1 to 100 letters, digits, `-`, `_` or `.`.
 */
export function getMesaOptionsToken(name?: string): symbol {
  return tokenFor(name, 'getMesaOptionsToken', MESA_MODULE_OPTIONS, 'module-options');
}

/**
 * Token of the options after validation and defaults (a `ResolvedMesaOptions`), for `overrideProvider()` in tests.
 * @param name the registration's name; none (or `'default'`): the default registration's token, as before.
 */
export function getMesaResolvedOptionsToken(name?: string): symbol {
  return tokenFor(name, 'getMesaResolvedOptionsToken', MESA_RESOLVED_OPTIONS, 'resolved-options');
}

/**
 * Token of the {@link MesaRedisConnection} a registration dispatches through, for `overrideProvider()`.
 * @param name the registration's name; none (or `'default'`): the default registration's token, as before.
 */
export function getMesaRedisConnectionToken(name?: string): symbol {
  return tokenFor(name, 'getMesaRedisConnectionToken', MESA_REDIS_CONNECTION, 'redis-connection');
}

/**
 * Token of a registration's {@link DispatcherService}: the class itself for the default registration (inject it
 * by type, as before), a Symbol for a named one (inject it with `@InjectDispatcher(name)`; in tests,
 * `moduleRef.get(getDispatcherToken('chat'))` or `overrideProvider(getDispatcherToken('chat'))`).
 */
export function getDispatcherToken(name?: string): typeof DispatcherService | symbol {
  return tokenFor(name, 'getDispatcherToken', DispatcherService, 'dispatcher');
}

/** Token of a registration's {@link MesaPresence}: the class for the default registration, a Symbol for a named one. */
export function getMesaPresenceToken(name?: string): typeof MesaPresence | symbol {
  return tokenFor(name, 'getMesaPresenceToken', MesaPresence, 'presence');
}

/** Token of a registration's {@link MesaBacklog}: the class for the default registration, a Symbol for a named one. */
export function getMesaBacklogToken(name?: string): typeof MesaBacklog | symbol {
  return tokenFor(name, 'getMesaBacklogToken', MesaBacklog, 'backlog');
}

/** @internal Token of a registration's publishing engine (not exported from its module): the class for the default one. */
export function getMesaPublisherToken(name?: string): typeof MesaPublisher | symbol {
  return tokenFor(name, 'getMesaPublisherToken', MesaPublisher, 'publisher');
}

/** Token of a registration's {@link MesaBacklogSweeper}: the class for the default registration, a Symbol for a named one. */
export function getMesaBacklogSweeperToken(name?: string): typeof MesaBacklogSweeper | symbol {
  return tokenFor(name, 'getMesaBacklogSweeperToken', MesaBacklogSweeper, 'backlog-sweeper');
}

/** @internal Property key under which `@Dispatch` injects a registration's dispatcher (one key per name). */
export function getDispatcherPropertyKey(name?: string): symbol {
  return tokenFor(name, '@Dispatch', MESA_DISPATCHER_PROPERTY, 'dispatcher-property');
}
