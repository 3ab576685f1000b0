import { MesaBacklogSweeper } from './backlog/backlog-sweeper.js';
import { MesaBacklog } from './backlog/mesa-backlog.service.js';
import { DispatcherService } from './dispatcher.service.js';
import { MESA_DISPATCHER_PROPERTY, MESA_MODULE_OPTIONS, MESA_REDIS_CONNECTION, MESA_RESOLVED_OPTIONS } from './mesa.constants.js';
import { checkMesaName } from './named/mesa-name.js';
import { MesaPresence } from './presence/mesa-presence.service.js';
import { MesaPublisher } from './publishing/mesa-publisher.js';

/**
 * The token of one part of a named `MesaModule` registration: `Symbol.for('nestjs-mesa:<part>:<name>')`, so
 * two copies of the library in one process still agree.
 */
function namedToken(part: string, name: string): symbol {
  return Symbol.for(`nestjs-mesa:${part}:${name}`);
}

/**
 * Token of the options `MesaModule` was given, as given, for `overrideProvider()` in tests.
 * @param name the registration's name; none (or `'default'`): the default registration's token, as before.
 * @throws MesaConfigurationError for a name that is not 1 to 100 letters, digits, `-`, `_` or `.`.
 */
export function getMesaOptionsToken(name?: string): symbol {
  const checked = checkMesaName(name, 'getMesaOptionsToken');
  return checked === undefined ? MESA_MODULE_OPTIONS : namedToken('module-options', checked);
}

/**
 * Token of the options after validation and defaults (a `ResolvedMesaOptions`), for `overrideProvider()` in tests.
 * @param name the registration's name; none (or `'default'`): the default registration's token, as before.
 */
export function getMesaResolvedOptionsToken(name?: string): symbol {
  const checked = checkMesaName(name, 'getMesaResolvedOptionsToken');
  return checked === undefined ? MESA_RESOLVED_OPTIONS : namedToken('resolved-options', checked);
}

/**
 * Token of the {@link MesaRedisConnection} a registration dispatches through, for `overrideProvider()`.
 * @param name the registration's name; none (or `'default'`): the default registration's token, as before.
 */
export function getMesaRedisConnectionToken(name?: string): symbol {
  const checked = checkMesaName(name, 'getMesaRedisConnectionToken');
  return checked === undefined ? MESA_REDIS_CONNECTION : namedToken('redis-connection', checked);
}

/**
 * Token of a registration's {@link DispatcherService}: the class itself for the default registration (inject it
 * by type, as before), a Symbol for a named one (inject it with `@InjectDispatcher(name)`; in tests,
 * `moduleRef.get(getDispatcherToken('chat'))` or `overrideProvider(getDispatcherToken('chat'))`).
 */
export function getDispatcherToken(name?: string): typeof DispatcherService | symbol {
  const checked = checkMesaName(name, 'getDispatcherToken');
  return checked === undefined ? DispatcherService : namedToken('dispatcher', checked);
}

/** Token of a registration's {@link MesaPresence}: the class for the default registration, a Symbol for a named one. */
export function getMesaPresenceToken(name?: string): typeof MesaPresence | symbol {
  const checked = checkMesaName(name, 'getMesaPresenceToken');
  return checked === undefined ? MesaPresence : namedToken('presence', checked);
}

/** Token of a registration's {@link MesaBacklog}: the class for the default registration, a Symbol for a named one. */
export function getMesaBacklogToken(name?: string): typeof MesaBacklog | symbol {
  const checked = checkMesaName(name, 'getMesaBacklogToken');
  return checked === undefined ? MesaBacklog : namedToken('backlog', checked);
}

/** @internal Token of a registration's publishing engine (not exported from its module): the class for the default one. */
export function getMesaPublisherToken(name?: string): typeof MesaPublisher | symbol {
  const checked = checkMesaName(name, 'getMesaPublisherToken');
  return checked === undefined ? MesaPublisher : namedToken('publisher', checked);
}

/** Token of a registration's {@link MesaBacklogSweeper}: the class for the default registration, a Symbol for a named one. */
export function getMesaBacklogSweeperToken(name?: string): typeof MesaBacklogSweeper | symbol {
  const checked = checkMesaName(name, 'getMesaBacklogSweeperToken');
  return checked === undefined ? MesaBacklogSweeper : namedToken('backlog-sweeper', checked);
}

/** @internal Property key under which `@Dispatch` injects a registration's dispatcher (one key per name). */
export function getDispatcherPropertyKey(name?: string): symbol {
  const checked = checkMesaName(name, '@Dispatch');
  return checked === undefined ? MESA_DISPATCHER_PROPERTY : namedToken('dispatcher-property', checked);
}
