import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MesaHealthIndicator } from './mesa.health-indicator.js';

/**
 * Provides {@link MesaHealthIndicator} (and re-exports `TerminusModule`, so `HealthCheckService` is
 * injectable too). Import it where your health controller lives; `MesaModule` must be imported in
 * the application (it is global by default).
 *
 * ```ts
 * @Module({ imports: [MesaHealthModule], controllers: [HealthController] })
 * export class HealthModule {}
 * ```
 */
@Module({
  imports: [TerminusModule],
  providers: [MesaHealthIndicator],
  exports: [MesaHealthIndicator, TerminusModule],
})
export class MesaHealthModule {}
