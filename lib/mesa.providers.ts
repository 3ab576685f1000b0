import type { Provider } from '@nestjs/common';
import { MesaBacklogSweeper } from './backlog/backlog-sweeper.js';
import { MesaBacklog } from './backlog/mesa-backlog.service.js';
import { DispatcherService } from './dispatcher.service.js';
import { MesaConfigurationError } from './errors/mesa.errors.js';
import {
  getDispatcherToken,
  getMesaBacklogSweeperToken,
  getMesaBacklogToken,
  getMesaOptionsToken,
  getMesaPresenceToken,
  getMesaPublisherToken,
  getMesaRedisConnectionToken,
  getMesaResolvedOptionsToken,
} from './mesa.tokens.js';
import { resolveMesaOptions, type ResolvedMesaOptions } from './options/resolved-mesa-options.js';
import { MesaPresence } from './presence/mesa-presence.service.js';
import { MesaPublisher } from './publishing/mesa-publisher.js';
import { MesaConnectionRegistry } from './redis/mesa-connection-registry.js';
import type { MesaRedisConnection } from './redis/redis-connection.js';

/**
 * The parts of one `MesaModule` registration, the default one (`name` undefined: the parts are injected by class
 * and the tokens of before) or a named one (each part under the name's own token), built by factories so that each
 * part receives its registration's options and connection: options → connection → publisher → dispatcher, presence,
 * backlog and its sweeper. One wiring style for the whole module: every part (the portal's and the health
 * indicator's too) is built by a factory that names its tokens, and the classes carry no Nest decorator.
 */
export function mesaRegistrationProviders(name?: string): Provider[] {
  const resolved = getMesaResolvedOptionsToken(name);
  const connection = getMesaRedisConnectionToken(name);
  const publisher = getMesaPublisherToken(name);
  return [
    {
      provide: resolved,
      inject: [getMesaOptionsToken(name), MesaConnectionRegistry],
      useFactory: (options: unknown, registry: MesaConnectionRegistry) => resolveRegistration(options, name, registry),
    },
    {
      provide: connection,
      inject: [resolved, MesaConnectionRegistry],
      useFactory: (options: ResolvedMesaOptions, registry: MesaConnectionRegistry) => registry.open(options),
    },
    {
      provide: publisher,
      inject: [resolved, connection],
      useFactory: (options: ResolvedMesaOptions, redis: MesaRedisConnection) => new MesaPublisher(options, redis),
    },
    {
      provide: getDispatcherToken(name),
      inject: [resolved, publisher],
      useFactory: (options: ResolvedMesaOptions, engine: MesaPublisher) => new DispatcherService(options, engine),
    },
    {
      provide: getMesaPresenceToken(name),
      inject: [resolved, connection],
      useFactory: (options: ResolvedMesaOptions, redis: MesaRedisConnection) => new MesaPresence(options, redis),
    },
    {
      provide: getMesaBacklogToken(name),
      inject: [resolved, connection],
      useFactory: (options: ResolvedMesaOptions, redis: MesaRedisConnection) => new MesaBacklog(options, redis),
    },
    {
      provide: getMesaBacklogSweeperToken(name),
      inject: [resolved, connection],
      useFactory: (options: ResolvedMesaOptions, redis: MesaRedisConnection) => new MesaBacklogSweeper(options, redis),
    },
  ];
}

/** What a registration exports: its dispatcher, presence, backlog, sweeper, connection and options. */
export function mesaRegistrationExports(name?: string): Array<symbol | Function> {
  return [
    getDispatcherToken(name),
    getMesaPresenceToken(name),
    getMesaBacklogToken(name),
    getMesaBacklogSweeperToken(name),
    getMesaRedisConnectionToken(name),
    getMesaResolvedOptionsToken(name),
  ];
}

/** Resolves a registration's options; a named one claims its name (one per application) and cannot run a portal. */
function resolveRegistration(options: unknown, name: string | undefined, registry: MesaConnectionRegistry): ResolvedMesaOptions {
  if (name === undefined) return resolveMesaOptions(options);
  registry.claim(name);
  const resolved = resolveMesaOptions(options, name);
  if (resolved.portal.enabled) {
    throw new MesaConfigurationError(
      `MesaModule '${name}': portal is available on the default (unnamed) registration only, because @OnMesa… ` +
        'handlers do not say which registration they belong to. Enable the portal on the default MesaModule.forRoot().',
    );
  }
  return resolved;
}
