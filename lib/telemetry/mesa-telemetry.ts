import {
  createNoopMeter,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Counter,
  type Histogram,
  type Link,
  type Meter,
  type ObservableResult,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { DispatchResult } from '../interfaces/dispatch-result.interface.js';
import type { ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import { DEFAULT_MESA_NAME } from '../validation/mesa-name.validator.js';
import { queueLoadOf } from './queue-load.js';
import {
  MESA_MESSAGING_SYSTEM,
  MESA_PACKAGE_VERSION,
  MESA_TELEMETRY_SCOPE,
  MesaMetricNames,
  MesaTelemetryAttributes as A,
} from './telemetry-names.js';

/** Bucket bounds of the duration histograms, in seconds (the messaging conventions' advice). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * One registration's telemetry: its tracer and meter (named `nestjs-mesa`, with the package's version, from the
 * global OpenTelemetry API: no-ops until the application registers an SDK), its instruments, created once, and its
 * attribute sets, built once per value (a dispatch never builds one). With `telemetry: false` it holds neither
 * tracer nor instruments and every method returns at once.
 *
 * Metrics need the application's `MeterProvider` registered before the module is created (as OpenTelemetry's
 * setup does, before the Nest application); spans follow a `TracerProvider` registered at any time.
 */
export class MesaTelemetry {
  /** The tracer, or undefined with `telemetry: false`. */
  readonly tracer: Tracer | undefined;
  /** True when a real meter records (an SDK's `MeterProvider` was registered when the module was created). */
  readonly metered: boolean;
  /** Whether anything may be recorded: a tracer or a meter. */
  readonly enabled: boolean;
  /** Span names: `create <channel>`, `send <channel>`, `process <portal channel>`. */
  readonly createName: string;
  readonly sendName: string;
  readonly processName: string;
  /** `create` spans started and not ended yet: batches look for links only while there are some. */
  openCreates = 0;
  readonly createAttributes: Attributes;
  readonly sendAttributes: Attributes;
  private readonly sent?: Counter;
  private readonly duration?: Histogram;
  private readonly processDuration?: Histogram;
  private readonly consumed?: Counter;
  private readonly dropped?: Counter;
  private readonly base: Attributes;
  private readonly processBase: Attributes;
  private readonly failedSends = new Map<string, Attributes>();
  private readonly processSets = new Map<string, Attributes>();
  private readonly droppedSets = new Map<string, Attributes>();
  /** Dispatches that succeeded, and stored messages their results dropped, not added to the counters yet (see {@link dispatched}). */
  private readonly unreported = { sent: 0, cap: 0, expiry: 0, scheduled: false };

  constructor(private readonly options: ResolvedMesaOptions) {
    const { channel, portalEvents } = options.names;
    this.createName = `create ${channel}`;
    this.sendName = `send ${channel}`;
    this.processName = `process ${portalEvents}`;
    this.base = {
      [A.SYSTEM]: MESA_MESSAGING_SYSTEM,
      [A.DESTINATION]: channel,
      [A.REGISTRATION]: options.name ?? DEFAULT_MESA_NAME,
      ...(options.namespace === undefined ? {} : { [A.NAMESPACE]: options.namespace }),
    };
    this.createAttributes = { ...this.base, [A.OPERATION_TYPE]: 'create', [A.OPERATION_NAME]: 'create' };
    this.sendAttributes = { ...this.base, [A.OPERATION_TYPE]: 'send', [A.OPERATION_NAME]: 'send' };
    this.processBase = { ...this.base, [A.DESTINATION]: portalEvents, [A.OPERATION_TYPE]: 'process', [A.OPERATION_NAME]: 'process' };
    if (!options.telemetry) {
      this.metered = this.enabled = false;
      return;
    }
    this.tracer = trace.getTracer(MESA_TELEMETRY_SCOPE, MESA_PACKAGE_VERSION);
    const meter = metrics.getMeter(MESA_TELEMETRY_SCOPE, MESA_PACKAGE_VERSION);
    this.metered = meter !== createNoopMeter();
    this.enabled = true;
    if (!this.metered) return;
    this.sent = meter.createCounter(MesaMetricNames.SENT_MESSAGES, {
      description: 'Dispatches sent (each once it settled; error.type when it failed).',
      unit: '{message}',
    });
    const histogram = (name: string, description: string) =>
      meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: DURATION_BUCKETS } });
    this.duration = histogram(MesaMetricNames.OPERATION_DURATION, 'Duration of a batch round trip to Redis.');
    this.processDuration = histogram(MesaMetricNames.PROCESS_DURATION, 'Duration of the portal handlers of one client frame.');
    this.consumed = meter.createCounter(MesaMetricNames.CONSUMED_MESSAGES, {
      description: 'Portal client frames handled.',
      unit: '{message}',
    });
    this.dropped = meter.createCounter(MesaMetricNames.DROPPED_STORED, {
      description: 'Stored messages dropped by the backlog caps (cap) or removed as expired (expiry).',
      unit: '{message}',
    });
    this.observeQueue(meter);
  }

  /** Starts a `create` span, child of the active span, when that span records; undefined otherwise. */
  startCreate(): Span | undefined {
    if (!this.tracer || !trace.getActiveSpan()?.isRecording()) return undefined;
    const span = this.tracer.startSpan(this.createName, { kind: SpanKind.PRODUCER, attributes: this.createAttributes });
    if (!span.isRecording()) return undefined;
    this.openCreates++;
    return span;
  }

  /**
   * Starts a batch's `send` span, linked from its dispatches' `create` spans; undefined when it does not record. A
   * root span: a batch carries the dispatches of many requests, so none of their spans is its parent.
   */
  startSend(count: number, links: Link[] | undefined): Span | undefined {
    const span = this.tracer?.startSpan(this.sendName, { kind: SpanKind.PRODUCER, attributes: this.sendAttributes, links, root: true });
    if (!span?.isRecording()) return undefined;
    span.setAttribute(A.BATCH_MESSAGE_COUNT, count);
    return span;
  }

  /**
   * A dispatch settled with `result`: counted, with the stored messages it dropped; its `create` span ends. The
   * dispatches of a batch settle together: they are added to the counters once, in a microtask after them (an SDK's
   * `add` hashes its attributes each time, which per dispatch would cost more than the dispatch itself).
   */
  dispatched(result: DispatchResult, span: Span | undefined): void {
    this.endCreate(span, undefined);
    if (!this.metered) return;
    const unreported = this.unreported;
    unreported.sent++;
    if (result.dropped) unreported.cap += sum(result.dropped);
    if (result.expired) unreported.expiry += sum(result.expired);
    if (!unreported.scheduled) {
      unreported.scheduled = true;
      queueMicrotask(this.report);
    }
  }

  /** A dispatch failed with `errorType`: counted with it; its `create` span ends with status ERROR. */
  dispatchFailed(errorType: string, span: Span | undefined): void {
    this.endCreate(span, errorType);
    this.sent?.add(1, this.failedSend(errorType));
  }

  /** A batch round trip ended after `seconds`; `errorType` when it failed. */
  batchEnded(seconds: number, errorType: string | undefined): void {
    this.duration?.record(seconds, errorType ? this.failedSend(errorType) : this.sendAttributes);
  }

  /** Counts `count` stored messages dropped by the caps (`cap`) or removed as expired (`expiry`). */
  droppedStored(count: number, reason: 'cap' | 'expiry'): void {
    if (!this.dropped || count <= 0) return;
    let attributes = this.droppedSets.get(reason);
    if (!attributes) this.droppedSets.set(reason, (attributes = { ...this.base, [A.DROP_REASON]: reason }));
    this.dropped.add(count, attributes);
  }

  /**
   * The attributes of a portal frame's `process` span and metrics: its kind, and its message type only when
   * `declared` (an application handler names it), so that what clients send never becomes an attribute value.
   */
  processAttributes(event: string, messageType: string | undefined): Attributes {
    const key = messageType === undefined ? event : `${event}\u0000${messageType}`;
    let attributes = this.processSets.get(key);
    if (!attributes) {
      attributes = { ...this.processBase, [A.PORTAL_EVENT]: event };
      if (messageType !== undefined) attributes[A.PORTAL_MESSAGE_TYPE] = messageType;
      this.processSets.set(key, attributes);
    }
    return attributes;
  }

  /** A portal frame was handled in `seconds`: counted, and its duration recorded (`errorType` when a handler failed). */
  processed(attributes: Attributes, seconds: number, errorType: string | undefined): void {
    if (!this.metered) return;
    const recorded = errorType === undefined ? attributes : { ...attributes, [A.ERROR_TYPE]: errorType };
    this.consumed!.add(1, recorded);
    this.processDuration!.record(seconds, recorded);
  }

  /** Adds what {@link dispatched} counted since the last time. */
  private readonly report = (): void => {
    const unreported = this.unreported;
    const { sent, cap, expiry } = unreported;
    unreported.sent = unreported.cap = unreported.expiry = 0;
    unreported.scheduled = false;
    this.sent!.add(sent, this.sendAttributes);
    this.droppedStored(cap, 'cap');
    this.droppedStored(expiry, 'expiry');
  };

  private endCreate(span: Span | undefined, errorType: string | undefined): void {
    if (!span) return;
    this.openCreates--;
    if (errorType !== undefined) markFailed(span, errorType);
    span.end();
  }

  private failedSend(errorType: string): Attributes {
    let attributes = this.failedSends.get(errorType);
    if (!attributes) this.failedSends.set(errorType, (attributes = { ...this.sendAttributes, [A.ERROR_TYPE]: errorType }));
    return attributes;
  }

  /** Observable gauges of the dispatches waiting unsent and of those written to Redis and not answered. */
  private observeQueue(meter: Meter): void {
    const gauge = (name: string, description: string, read: (load: { queued: number; unanswered: number }) => number) =>
      meter.createObservableGauge(name, { description, unit: '{dispatch}' }).addCallback((result: ObservableResult) => {
        const load = queueLoadOf(this.options)?.();
        if (load) result.observe(read(load), this.base);
      });
    gauge(MesaMetricNames.QUEUED_DISPATCHES, 'Dispatches waiting unsent (bounded by maxQueuedDispatches).', (load) => load.queued);
    gauge(MesaMetricNames.UNANSWERED_DISPATCHES, 'Dispatches written to Redis and not answered yet.', (load) => load.unanswered);
  }
}

/** Sets a span's status to ERROR with `error.type`. */
export function markFailed(span: Span, errorType: string): void {
  span.setAttribute(A.ERROR_TYPE, errorType);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

const registrations = new WeakMap<ResolvedMesaOptions, MesaTelemetry>();

/** The telemetry of the registration whose resolved options are `options` (one per registration, built on first use). */
export function mesaTelemetryOf(options: ResolvedMesaOptions): MesaTelemetry {
  let telemetry = registrations.get(options);
  if (!telemetry) registrations.set(options, (telemetry = new MesaTelemetry(options)));
  return telemetry;
}

function sum(counts: Record<string, number>): number {
  let total = 0;
  for (const id in counts) total += counts[id];
  return total;
}
