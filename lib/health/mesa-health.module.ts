import { type DynamicModule, Inject, Module } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { checkMesaName } from '../validation/mesa-name.validator.js';
import { getMesaRedisConnectionToken, getMesaResolvedOptionsToken } from '../mesa.tokens.js';
import type { ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import type { MesaRedisConnection } from '../redis/redis-connection.js';
import { MesaHealthIndicator } from './mesa.health-indicator.js';
import { MESA_REDIS_CONNECTION, MESA_RESOLVED_OPTIONS } from '../mesa.constants.js';
import { MesaPortalService } from '../portal/portal.service.js';

/**
 * Token of the {@link MesaHealthIndicator} of the `MesaModule` registration called `name`: the class itself
 * for the default registration, a Symbol for a named one (provided by `MesaHealthModule.forFeature(name)`).
 * @throws MesaConfigurationError for a name that is not 1 to 100 letters, digits, `-`, `_` or `.`.
 */
export function getMesaHealthIndicatorToken(name?: string): typeof MesaHealthIndicator | symbol {
  const checked = checkMesaName(name, 'getMesaHealthIndicatorToken');
  return checked === undefined ? MesaHealthIndicator : Symbol.for(`nestjs-mesa:health-indicator:${checked}`);
}

/** Injects the {@link MesaHealthIndicator} of the registration called `name` (import `MesaHealthModule.forFeature(name)`). */
export function InjectMesaHealthIndicator(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getMesaHealthIndicatorToken(name));
}

/** The module `MesaHealthModule.forFeature(name)` registers for a named registration. */
@Module({})
export class MesaNamedHealthModule {}

/**
 * Provides {@link MesaHealthIndicator} (and re-exports `TerminusModule`, so `HealthCheckService` is
 * injectable too). Import it where your health controller lives; `MesaModule` must be imported in
 * the application (it is global by default).
 *
 * ```ts
 * @Module({ imports: [MesaHealthModule], controllers: [HealthController] })
 * export class HealthModule {}
 * ```
 *
 * For a named registration, import `MesaHealthModule.forFeature('chat')` and inject its indicator with
 * `@InjectMesaHealthIndicator('chat')`.
 */
@Module({
  imports: [TerminusModule],
  providers: [
    {
      provide: MesaHealthIndicator,
      inject: [HealthIndicatorService, MESA_REDIS_CONNECTION, MESA_RESOLVED_OPTIONS, { token: MesaPortalService, optional: true }],
      useFactory: (
        service: HealthIndicatorService,
        connection: MesaRedisConnection,
        options: ResolvedMesaOptions,
        portal?: MesaPortalService,
      ) => new MesaHealthIndicator(service, connection, options, portal),
    },
  ],
  exports: [MesaHealthIndicator, TerminusModule],
})
export class MesaHealthModule {
  /**
   * The indicator of the registration called `name`, under `getMesaHealthIndicatorToken(name)`; without a name
   * (or `'default'`), this module as it is (the default registration's indicator, injected by type).
   * @throws MesaConfigurationError for a name that is not 1 to 100 letters, digits, `-`, `_` or `.`.
   */
  static forFeature(name?: string): DynamicModule {
    const checked = checkMesaName(name, 'MesaHealthModule.forFeature');
    if (checked === undefined) return { module: MesaHealthModule };
    const token = getMesaHealthIndicatorToken(checked);
    return {
      module: MesaNamedHealthModule,
      imports: [TerminusModule],
      providers: [
        {
          provide: token,
          inject: [HealthIndicatorService, getMesaRedisConnectionToken(checked), getMesaResolvedOptionsToken(checked)],
          useFactory: (service: HealthIndicatorService, connection: MesaRedisConnection, options: ResolvedMesaOptions) =>
            new MesaHealthIndicator(service, connection, options),
        },
      ],
      exports: [token, TerminusModule],
    };
  }
}
