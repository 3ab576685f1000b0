import { type DynamicModule, Module } from '@nestjs/common';
import { MesaBacklog } from './backlog/mesa-backlog.service.js';
import { DispatcherService } from './dispatcher.service.js';
import { MESA_MODULE_OPTIONS, MESA_REDIS_CONNECTION, MESA_RESOLVED_OPTIONS } from './mesa.constants.js';
import { MesaConfigurableModuleClass, type MesaModuleForRootOptions } from './mesa.module-definition.js';
import { resolveMesaOptions, type ResolvedMesaOptions } from './options/resolved-mesa-options.js';
import { MesaPublisher } from './publishing/mesa-publisher.js';
import { MesaPresence } from './presence/mesa-presence.service.js';
import { validateMesaOptions } from './validation/mesa-options.validator.js';
import { MESA_PORTAL_IMPORTS, MESA_PORTAL_PROVIDERS } from './portal/index.js';
import { MesaCoreModule } from './named/mesa-core.module.js';
import { MesaConnectionRegistry } from './redis/mesa-connection-registry.js';

/**
 * Connects a Nest application to Mesa servers through Redis and provides {@link DispatcherService}
 * (and so `@Dispatch`).
 *
 * ```ts
 * MesaModule.forRootAsync({
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ url: config.getOrThrow('REDIS_URL'), sync: { enabled: true } }),
 * })
 * ```
 *
 * Several registrations (several namespaces or Redis servers): give each but one a `name`
 * (`MesaModule.forRoot({ name: 'chat', ... })`) and inject its services with `@InjectDispatcher('chat')`,
 * `@InjectMesaPresence('chat')`, `@InjectMesaBacklog('chat')` (docs/named-modules.md). The default (unnamed)
 * registration is injected by type, as always.
 *
 * Global unless `isGlobal: false`. Bootstrap fails with MesaConfigurationError for invalid options and
 * with MesaConnectionError when Redis is not reachable within `connectTimeout` or is a read-only replica.
 */
@Module({
  imports: [...MESA_PORTAL_IMPORTS, MesaCoreModule],
  providers: [
    { provide: MESA_RESOLVED_OPTIONS, inject: [MESA_MODULE_OPTIONS], useFactory: resolveMesaOptions },
    {
      provide: MESA_REDIS_CONNECTION,
      inject: [MESA_RESOLVED_OPTIONS, MesaConnectionRegistry],
      useFactory: (options: ResolvedMesaOptions, registry: MesaConnectionRegistry) => registry.open(options),
    },
    MesaPublisher,
    DispatcherService,
    MesaPresence,
    MesaBacklog,
    ...MESA_PORTAL_PROVIDERS,
  ],
  exports: [DispatcherService, MESA_REDIS_CONNECTION, MESA_RESOLVED_OPTIONS, MesaPresence, MesaBacklog],
})
export class MesaModule extends MesaConfigurableModuleClass {
  /**
   * Registers the module with static options (validated when the application bootstraps).
   * @throws MesaConfigurationError when `options` is not an object.
   */
  static override forRoot(options: MesaModuleForRootOptions): DynamicModule {
    if (typeof options !== 'object' || options === null) validateMesaOptions(options);
    return super.forRoot(options);
  }
}
