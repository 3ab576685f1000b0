import { type DynamicModule, Module } from '@nestjs/common';
import { MesaConfigurableModuleClass, type MesaModuleForRootOptions } from './mesa.module-definition.js';
import { mesaRegistrationExports, mesaRegistrationProviders } from './mesa.providers.js';
import { MesaCoreModule } from './named/mesa-core.module.js';
import { MESA_PORTAL_IMPORTS, MESA_PORTAL_PROVIDERS, MesaPortalService } from './portal/index.js';
import { validateMesaOptions } from './validation/mesa-options.validator.js';

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
  providers: [...mesaRegistrationProviders(), ...MESA_PORTAL_PROVIDERS],
  exports: [...mesaRegistrationExports(), MesaPortalService],
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
