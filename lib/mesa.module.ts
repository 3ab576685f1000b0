import { type DynamicModule, Module } from '@nestjs/common';
import { DispatcherService } from './dispatcher.service.js';
import type { MesaModuleOptions } from './interfaces/mesa-module-options.interface.js';
import { MESA_REDIS_CONNECTION } from './mesa.constants.js';
import { MesaConfigurableModuleClass, MESA_MODULE_OPTIONS, type MesaModuleForRootOptions } from './mesa.module-definition.js';
import { MesaRedisConnection } from './redis/redis-connection.js';
import { validateMesaOptions } from './validation/mesa-options.validator.js';
import { MESA_PORTAL_IMPORTS, MESA_PORTAL_PROVIDERS } from './portal/index.js';

/**
 * Connects a Nest application to Mesa servers through Redis and provides {@link DispatcherService}
 * (and so `@Dispatch`).
 *
 * ```ts
 * MesaModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ url: config.getOrThrow('REDIS_URL'), sync: { enabled: true } }),
 * })
 * ```
 *
 * Global unless `isGlobal: false`. Bootstrap fails with MesaConfigurationError for invalid options and
 * with MesaConnectionError when Redis is not reachable within `connectTimeout`.
 */
@Module({
  imports: [...MESA_PORTAL_IMPORTS],
  providers: [
    {
      provide: MESA_REDIS_CONNECTION,
      inject: [MESA_MODULE_OPTIONS],
      useFactory: (options: MesaModuleOptions) => MesaRedisConnection.open(validateMesaOptions(options)),
    },
    DispatcherService,
    ...MESA_PORTAL_PROVIDERS,
  ],
  exports: [DispatcherService, MESA_REDIS_CONNECTION],
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
