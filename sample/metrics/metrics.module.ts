import { type DynamicModule, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller.js';
import { SampleMetrics } from './sample-metrics.js';

/** `GET /metrics` over the given {@link SampleMetrics} (registered by `createSampleApp` before the app is built). */
@Module({})
export class MetricsModule {
  /** @param metrics the process' sample metrics, from `SampleMetrics.acquire()`. */
  static forRoot(metrics: SampleMetrics): DynamicModule {
    return { module: MetricsModule, controllers: [MetricsController], providers: [{ provide: SampleMetrics, useValue: metrics }] };
  }
}
