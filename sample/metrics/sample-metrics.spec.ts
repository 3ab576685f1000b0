import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { fileURLToPath } from 'node:url';
import { SampleMetrics } from './sample-metrics.js';

/** What the page's Dispatches panel reads from a Prometheus text (sample/public/metrics-panel.js). */
type ReadSentCounter = (text: string) => { found: boolean; sent: number; failed: number };

// The page's module is plain browser JavaScript without type declarations: imported by path, typed here.
const PANEL = fileURLToPath(new URL('../public/metrics-panel.js', import.meta.url));
const loadPanel = async () => (await import(PANEL)) as { readSentCounter: ReadSentCounter; SENT_METRIC: string };

/** Records through the global meter what nestjs-mesa records per dispatch (names from the OpenTelemetry messaging conventions). */
function recordLikeTheLibrary(sent: number, failed: number, channel = 'ws_chat') {
  const meter = metrics.getMeter('nestjs-mesa', '0.1.0');
  const counter = meter.createCounter('messaging.client.sent.messages', { unit: '{message}' });
  const duration = meter.createHistogram('messaging.client.operation.duration', { unit: 's' });
  const base = { 'messaging.system': 'mesa', 'messaging.destination.name': channel };
  for (let i = 0; i < sent; i++) counter.add(1, base);
  for (let i = 0; i < failed; i++) counter.add(1, { ...base, 'error.type': i % 2 ? 'not_sent' : 'ECONNRESET' });
  duration.record(0.002, base);
}

describe('SampleMetrics (the OpenTelemetry SDK behind GET /metrics)', () => {
  afterEach(() => metrics.disable());

  it('registers the global meter provider, so that what the library records through the API is in the Prometheus text', async () => {
    const sample = SampleMetrics.acquire();
    try {
      expect(sample.global).toBe(true);
      recordLikeTheLibrary(3, 2);
      const { text, errors } = await sample.scrape();
      expect(errors).toEqual([]);
      // The exporter's names: dots become underscores, a monotonic sum gets _total, units add no suffix.
      expect(text).toContain('# TYPE messaging_client_sent_messages_total counter');
      expect(text).toMatch(
        /^messaging_client_sent_messages_total\{messaging_system="mesa",messaging_destination_name="ws_chat",otel_scope_name="nestjs-mesa",otel_scope_version="0.1.0"\} 3$/m,
      );
      expect(text).toMatch(/^messaging_client_sent_messages_total\{[^}]*error_type="ECONNRESET"[^}]*\} 1$/m);
      expect(text).toContain('# TYPE messaging_client_operation_duration histogram');
      expect(text).toMatch(/^messaging_client_operation_duration_count\{[^}]*\} 1$/m);
    } finally {
      await sample.release();
    }
  });

  it('the page reads the sent and failed dispatches from that text, over every channel, and nothing from other metrics', async () => {
    const { readSentCounter, SENT_METRIC } = await loadPanel();
    const sample = SampleMetrics.acquire();
    try {
      expect(readSentCounter((await sample.scrape()).text)).toEqual({ found: false, sent: 0, failed: 0 });
      recordLikeTheLibrary(4, 3, 'ws_chat');
      recordLikeTheLibrary(2, 0, 'ws_other');
      // messaging_client_sent_messages_total_extra_total: a name that starts with the one the page reads
      metrics.getMeter('elsewhere').createCounter(`${SENT_METRIC}.extra`).add(50);
      expect(readSentCounter((await sample.scrape()).text)).toEqual({ found: true, sent: 9, failed: 3 });
    } finally {
      await sample.release();
    }
  });

  it('is one per process while apps share it; the last release unregisters it, and the next one starts from zero', async () => {
    const { readSentCounter } = await loadPanel();
    const first = SampleMetrics.acquire();
    const second = SampleMetrics.acquire();
    expect(second).toBe(first);
    recordLikeTheLibrary(2, 0);
    await first.release();
    expect(readSentCounter((await second.scrape()).text).sent).toBe(2); // still serving the other app
    await second.release();
    await expect(second.scrape()).rejects.toThrow(/shutdown/);

    const next = SampleMetrics.acquire();
    try {
      expect(next).not.toBe(first);
      expect(next.global).toBe(true);
      recordLikeTheLibrary(1, 0);
      expect(readSentCounter((await next.scrape()).text)).toEqual({ found: true, sent: 1, failed: 0 });
    } finally {
      await next.release();
    }
  });

  it('says so when the process registered another meter provider first, and leaves that one registered', async () => {
    const theirs = new MeterProvider();
    metrics.setGlobalMeterProvider(theirs);
    const sample = SampleMetrics.acquire();
    try {
      expect(sample.global).toBe(false);
    } finally {
      await sample.release();
    }
    expect(metrics.getMeterProvider()).toBe(theirs);
    await theirs.shutdown();
  });
});
