import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/** The content type of Prometheus' text exposition format, version 0.0.4 (what Prometheus scrapes). */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** One scrape: the Prometheus text, and what the collection reported as failed (the text then lacks those metrics). */
export interface Scrape {
  text: string;
  errors: unknown[];
}

/**
 * The sample's OpenTelemetry metrics SDK: a `MeterProvider` whose only reader is a `PrometheusExporter` that
 * starts no server of its own (`GET /metrics` on the Nest app serves it), registered as the process' global
 * meter provider, which is where nestjs-mesa takes its meter from.
 *
 * The metrics API has no proxy provider: a meter or instrument taken from the global before an SDK is
 * registered stays a no-op for good. So {@link SampleMetrics.acquire} runs before `NestFactory.create`, before
 * `MesaModule` builds the library's services (and `start.ts` imports nothing that takes a meter on import).
 *
 * One per process, shared by the sample apps running in it (tests start two at once), counted: the last
 * {@link release} shuts the provider down and unregisters it, so that the next app registers a fresh one.
 */
export class SampleMetrics {
  private static current: { metrics: SampleMetrics; users: number } | undefined;

  /** Whether the provider is the global one (false when the process had registered another first). */
  readonly global: boolean;
  private readonly serializer = new PrometheusSerializer();

  private constructor(
    private readonly exporter: PrometheusExporter,
    private readonly provider: MeterProvider,
  ) {
    this.global = metrics.setGlobalMeterProvider(provider);
  }

  /** The process' sample metrics, registered on first use; pair every call with {@link release}. */
  static acquire(): SampleMetrics {
    if (!SampleMetrics.current) {
      const exporter = new PrometheusExporter({ preventServerStart: true });
      SampleMetrics.current = { metrics: new SampleMetrics(exporter, new MeterProvider({ readers: [exporter] })), users: 0 };
    }
    SampleMetrics.current.users += 1;
    return SampleMetrics.current.metrics;
  }

  /** Collects every instrument now and renders the Prometheus text (cumulative since the provider started). */
  async scrape(): Promise<Scrape> {
    const { resourceMetrics, errors } = await this.exporter.collect();
    return { text: this.serializer.serialize(resourceMetrics), errors };
  }

  /** Gives one {@link acquire} back (call it once per acquire); the last shuts the provider down and unregisters it. */
  async release(): Promise<void> {
    const current = SampleMetrics.current;
    if (current?.metrics !== this || --current.users > 0) return;
    SampleMetrics.current = undefined;
    if (this.global) metrics.disable();
    await this.provider.shutdown();
  }
}
