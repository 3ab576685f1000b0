/**
 * `nestjs-mesa/health`: a `@nestjs/terminus` health indicator for nestjs-mesa. A separate entry point
 * because `@nestjs/terminus` is an optional peer dependency: the main entry never loads it.
 */
export { getMesaHealthIndicatorToken, InjectMesaHealthIndicator, MesaHealthModule } from './mesa-health.module.js';
export {
  DEFAULT_MESA_HEALTH_TIMEOUT_MS,
  MESA_HEALTH_QUEUE_SATURATED,
  MesaHealthIndicator,
  type MesaHealthCheckOptions,
  type MesaHealthQueueDetails,
} from './mesa.health-indicator.js';
