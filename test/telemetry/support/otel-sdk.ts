import { context, metrics, trace, type Attributes, type AttributeValue } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';

/** A MetricReader the test collects from when it wants (no timer, no exporter). */
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** One data point of a metric: its attributes and its value (a sum, a gauge's value, or a histogram's count). */
export interface Point {
  attributes: Attributes;
  value: number;
}

/**
 * The real OpenTelemetry SDK registered globally, as an application registers it: a tracer provider exporting to
 * memory through a SimpleSpanProcessor, the AsyncLocalStorage context manager, and a meter provider with a reader the
 * test collects. {@link OtelSdk.stop} unregisters all three (trace/metrics/context.disable()).
 */
export class OtelSdk {
  readonly spans = new InMemorySpanExporter();
  private readonly reader = new CollectingReader();
  private readonly tracerProvider: BasicTracerProvider;
  private readonly meterProvider: MeterProvider;

  private constructor(sampler?: Sampler) {
    this.tracerProvider = new BasicTracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor(this.spans)] });
    this.meterProvider = new MeterProvider({ readers: [this.reader] });
  }

  /** Registers the SDK globally (before the Nest application is created, as OpenTelemetry's setup does). */
  static register(options: { sampler?: Sampler } = {}): OtelSdk {
    const sdk = new OtelSdk(options.sampler);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(sdk.tracerProvider);
    metrics.setGlobalMeterProvider(sdk.meterProvider);
    return sdk;
  }

  /** The finished spans named `name` (every one without a name). */
  finished(name?: string): ReadableSpan[] {
    const spans = this.spans.getFinishedSpans();
    return name === undefined ? spans : spans.filter((span) => span.name === name);
  }

  /** Every metric collected now, by instrument name. */
  async collect(): Promise<Map<string, MetricData>> {
    const { resourceMetrics } = await this.reader.collect();
    const byName = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
    return byName;
  }

  /** The points of metric `name` now (a histogram's value is its count); none when it recorded nothing. */
  async points(name: string): Promise<Point[]> {
    const metric = (await this.collect()).get(name);
    return (metric?.dataPoints ?? []).map((point) => ({
      attributes: point.attributes,
      value: typeof point.value === 'number' ? point.value : (point.value as { count: number }).count,
    }));
  }

  /** The sum of metric `name`'s points whose attributes include `match`. */
  async sum(name: string, match: Attributes = {}): Promise<number> {
    const points = await this.points(name);
    return points
      .filter((point) => Object.entries(match).every(([key, value]) => point.attributes[key] === value))
      .reduce((total, point) => total + point.value, 0);
  }

  /** Every attribute value of every span (its own and its links') and every metric point collected now. */
  async everyAttributeValue(): Promise<AttributeValue[]> {
    const values: AttributeValue[] = [];
    const add = (attributes: Attributes | undefined) => {
      for (const value of Object.values(attributes ?? {})) if (value !== undefined) values.push(value);
    };
    for (const span of this.finished()) {
      add(span.attributes);
      span.links.forEach((link) => add(link.attributes));
      span.events.forEach((event) => add(event.attributes));
    }
    for (const metric of (await this.collect()).values()) metric.dataPoints.forEach((point) => add(point.attributes));
    return values;
  }

  /** Shuts the providers down and unregisters the globals, so that the next test starts from no SDK. */
  async stop(): Promise<void> {
    await this.tracerProvider.shutdown();
    await this.meterProvider.shutdown();
    trace.disable();
    metrics.disable();
    context.disable();
  }
}
