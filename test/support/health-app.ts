import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheckService } from '@nestjs/terminus';
import { MesaHealthIndicator, MesaHealthModule } from '../../lib/health/index.js';

/** The `timeout` (ms) of the health check {@link HealthTestModule} serves. */
export const HEALTH_TIMEOUT = 300;

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mesa: MesaHealthIndicator,
  ) {}

  @Get()
  check() {
    return this.health.check([() => this.mesa.isHealthy('mesa', { timeout: HEALTH_TIMEOUT })]);
  }
}

/** `GET /health` as the README's health recipe serves it: Terminus with the Mesa indicator, `timeout` 300 ms. */
@Module({ imports: [MesaHealthModule], controllers: [HealthController] })
export class HealthTestModule {}
