import { Controller, Get, Header, Logger, ServiceUnavailableException } from '@nestjs/common';
import { PROMETHEUS_CONTENT_TYPE, SampleMetrics } from './sample-metrics.js';

/**
 * `GET /metrics`: what the OpenTelemetry SDK holds, in Prometheus' text format, for Prometheus to scrape and for
 * the page's Dispatches panel. No session needed, as a scrape target usually is; the values are counts per
 * channel and error type, never user ids or message data (nestjs-mesa keeps its attributes low-cardinality).
 */
@Controller()
export class MetricsController {
  private readonly logger = new Logger('Metrics');

  constructor(private readonly metrics: SampleMetrics) {}

  /** The Prometheus text; 503 when the SDK cannot collect (it is shutting down). */
  @Get('metrics')
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  async scrape(): Promise<string> {
    let scrape;
    try {
      scrape = await this.metrics.scrape();
    } catch (error) {
      throw new ServiceUnavailableException(`Metrics cannot be collected: ${(error as Error).message}`);
    }
    // Some instrument's callback failed: its series are missing from this answer, the rest is served.
    if (scrape.errors.length) this.logger.warn(`Collection errors: ${scrape.errors.map((error) => String(error)).join('; ')}`);
    return scrape.text;
  }
}
