// The contenders of the telemetry-cost scenario: nestjs-mesa's DispatcherService with telemetry off, on with no
// OpenTelemetry SDK registered (the default: the API's no-ops), and on or off with an SDK registered whose sampler
// never samples and whose MeterProvider has a reader (never collected during a round). Registering an SDK is global
// to a process, so the scenario runs each contender in a process of its own (hosts.js, isolated).
import { createNestApp } from './nest.js';

export const TELEMETRY_LABELS = {
  'telemetry-off': 'telemetry: false, no SDK',
  'telemetry-nosdk': 'telemetry on (default), no SDK registered',
  'telemetry-sdk': 'telemetry on, SDK: AlwaysOffSampler + MeterProvider',
  'telemetry-off-sdk': 'telemetry: false, same SDK registered',
};

/** Creates telemetry contender `key` on Redis `url` from `build` (registering the SDK first for the `-sdk` ones). */
export async function telemetryContender(build, key, url) {
  if (key.endsWith('-sdk')) await registerNeverSamplingSdk();
  const options = key.startsWith('telemetry-off') ? { telemetry: false } : {};
  const { moduleRef, dispatcher, mesa } = await createNestApp(url, { build, options });
  return {
    key,
    label: TELEMETRY_LABELS[key],
    dispatch: (recipients, data, type) => dispatcher.dispatch(new mesa.Message(0, data, type), recipients),
    settle: async () => undefined,
    close: () => moduleRef.close(),
  };
}

/**
 * What an application that set OpenTelemetry up and samples nothing runs: the AsyncLocalStorage context manager, a
 * tracer provider with AlwaysOffSampler, and a MeterProvider with a reader (its instruments aggregate every add).
 */
async function registerNeverSamplingSdk() {
  const { context, metrics, trace } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { AlwaysOffSampler, BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
  const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
  class Reader extends MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
  }
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler: new AlwaysOffSampler() }));
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new Reader()] }));
}
