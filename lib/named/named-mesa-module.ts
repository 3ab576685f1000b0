import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { MesaBacklog } from '../backlog/mesa-backlog.service.js';
import { DispatcherService } from '../dispatcher.service.js';
import { MesaConfigurationError } from '../errors/mesa.errors.js';
import { MESA_MODULE_OPTIONS } from '../mesa.constants.js';
import {
  getDispatcherToken,
  getMesaBacklogToken,
  getMesaOptionsToken,
  getMesaPresenceToken,
  getMesaPublisherToken,
  getMesaRedisConnectionToken,
  getMesaResolvedOptionsToken,
} from '../mesa.tokens.js';
import { resolveMesaOptions, type ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import { MesaPresence } from '../presence/mesa-presence.service.js';
import { MesaPublisher } from '../publishing/mesa-publisher.js';
import { MesaConnectionRegistry } from '../redis/mesa-connection-registry.js';
import type { MesaRedisConnection } from '../redis/redis-connection.js';
import { MesaCoreModule } from './mesa-core.module.js';

/**
 * The module a named `MesaModule.forRoot({ name })` / `forRootAsync({ name })` registers: the same parts as
 * the default registration, each under the name's own token (see `getDispatcherToken(name)` etc.), so that
 * registrations never see (or override) each other's parts. It exports only those named tokens.
 */
@Module({ imports: [MesaCoreModule] })
export class MesaNamedModule {}

/**
 * Turns the definition `ConfigurableModuleBuilder` built (its options provider, the async `imports`) into a
 * named registration.
 */
export function namedMesaModule(definition: DynamicModule, name: string, global: boolean): DynamicModule {
  const optionsToken = getMesaOptionsToken(name);
  const given = (definition.providers ?? []).map((provider) =>
    typeof provider === 'object' && 'provide' in provider && provider.provide === MESA_MODULE_OPTIONS
      ? ({ ...provider, provide: optionsToken } as Provider)
      : provider,
  );
  const exported = [
    getDispatcherToken(name),
    getMesaPresenceToken(name),
    getMesaBacklogToken(name),
    getMesaRedisConnectionToken(name),
    getMesaResolvedOptionsToken(name),
    optionsToken,
  ];
  return { ...definition, module: MesaNamedModule, global, providers: [...given, ...namedMesaProviders(name)], exports: exported };
}

/** The parts of a named registration, built by factories so that each one receives the name's own options and connection. */
function namedMesaProviders(name: string): Provider[] {
  const resolved = getMesaResolvedOptionsToken(name);
  const connection = getMesaRedisConnectionToken(name);
  const publisher = getMesaPublisherToken(name);
  return [
    {
      provide: resolved,
      inject: [getMesaOptionsToken(name), MesaConnectionRegistry],
      useFactory: (options: unknown, registry: MesaConnectionRegistry) => {
        registry.claim(name);
        const result = resolveMesaOptions(options, name);
        if (result.given.portal?.enabled === true) {
          throw new MesaConfigurationError(
            `MesaModule '${name}': portal is available on the default (unnamed) registration only, because @OnMesa… ` +
              'handlers do not say which registration they belong to. Enable the portal on the default MesaModule.forRoot().',
          );
        }
        return result;
      },
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
  ];
}
