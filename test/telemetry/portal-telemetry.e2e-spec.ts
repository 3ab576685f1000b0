import { Injectable } from '@nestjs/common';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  DispatcherService,
  Message,
  MesaMetricNames,
  MesaTelemetryAttributes as A,
  OnMesaMessage,
  type MesaClientMessage,
} from '../../lib/index.js';
import { eventually } from '../support/mesa-app.js';
import { PortalSender, sleep, startPortalApp, usePortalServers, type PortalApp } from '../portal/support/portal-harness.js';
import { OtelSdk } from './support/otel-sdk.js';

const SENDER = 'user-frank-4d2a';

/** Portal handlers: one answers PING_ME with a dispatch, one takes every message and fails on BOOM. */
@Injectable()
class Handlers {
  readonly seen: string[] = [];
  constructor(private readonly dispatcher: DispatcherService) {}

  @OnMesaMessage('PING_ME')
  async onPing(message: MesaClientMessage) {
    await this.dispatcher.dispatch(new Message(0, { pong: true }, 'PONG'), [message.clientId!]);
    await this.dispatcher.dispatch(new Message(0, { audit: true }, 'AUDIT'), ['user-auditor-88aa']);
  }

  @OnMesaMessage()
  onAny(message: MesaClientMessage) {
    this.seen.push(message.type ?? '');
    if (message.type === 'BOOM') throw new RangeError(`no ${message.clientId}`);
  }
}

describe('Telemetry of the portal, with the real OpenTelemetry SDK, real Redis and real Mesa servers', () => {
  const servers = usePortalServers(1);
  let sdk: OtelSdk;
  let app: PortalApp;
  let sender: PortalSender;

  beforeAll(async () => {
    sdk = OtelSdk.register();
    app = await startPortalApp(servers.redis.url, { id: 'portal-tel' }, { providers: [Handlers] });
    sender = await PortalSender.connect(servers.mesa.url(0), SENDER);
    await eventually(
      async () => {
        sender.send('WARM', {});
        await sleep(50);
        return app.get(Handlers).seen.includes('WARM');
      },
      10_000,
      'the portal in the pool',
    );
  });
  afterAll(async () => {
    sender?.close();
    await app?.close();
    await sdk.stop();
  });

  it('runs the handlers inside a CONSUMER span "process portal", parent of their dispatches\' create spans', async () => {
    sdk.spans.reset();
    const consumedBefore = await sdk.sum(MesaMetricNames.CONSUMED_MESSAGES, { [A.PORTAL_MESSAGE_TYPE]: 'PING_ME' });
    sender.send('PING_ME', { secret: 'free text' });
    await eventually(() => sdk.finished('process portal').length >= 1 && sdk.finished('create ws').length >= 2, 5_000, 'the spans');

    const [process] = sdk.finished('process portal');
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.status.code).toBe(SpanStatusCode.UNSET);
    expect(process.attributes).toEqual({
      [A.SYSTEM]: 'mesa',
      [A.DESTINATION]: 'portal',
      [A.OPERATION_TYPE]: 'process',
      [A.OPERATION_NAME]: 'process',
      [A.REGISTRATION]: 'default',
      [A.PORTAL_EVENT]: 'message',
      [A.PORTAL_MESSAGE_TYPE]: 'PING_ME',
    });
    const creates = sdk.finished('create ws');
    expect(creates).toHaveLength(2);
    for (const create of creates) {
      expect(create.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
      expect(create.spanContext().traceId).toBe(process.spanContext().traceId);
    }
    await eventually(() => sdk.finished('send ws').length >= 2, 5_000, 'the send spans');
    const linked = sdk.finished('send ws').flatMap((send) => send.links.map((link) => link.context.spanId));
    expect(linked.sort()).toEqual(creates.map((create) => create.spanContext().spanId).sort());
    expect(await sdk.sum(MesaMetricNames.CONSUMED_MESSAGES, { [A.PORTAL_MESSAGE_TYPE]: 'PING_ME' })).toBe(consumedBefore + 1);
    expect(await sdk.sum(MesaMetricNames.PROCESS_DURATION, { [A.PORTAL_MESSAGE_TYPE]: 'PING_ME' })).toBeGreaterThanOrEqual(1);
  });

  it('names a message type only when a handler declares it; a failed handler makes the span ERROR with its class as error.type', async () => {
    sdk.spans.reset();
    const before = await sdk.sum(MesaMetricNames.CONSUMED_MESSAGES, { [A.ERROR_TYPE]: 'RangeError' });
    sender.send('BOOM', {});
    sender.send(`free-text ${SENDER}`, {});
    await eventually(() => sdk.finished('process portal').length >= 2, 5_000, 'two process spans');

    const spans = sdk.finished('process portal');
    expect(spans.map((span) => span.attributes[A.PORTAL_MESSAGE_TYPE])).toEqual([undefined, undefined]);
    const failed = spans.find((span) => span.status.code === SpanStatusCode.ERROR)!;
    expect(failed.attributes[A.ERROR_TYPE]).toBe('RangeError');
    expect(spans.filter((span) => span.status.code === SpanStatusCode.ERROR)).toHaveLength(1);
    expect(await sdk.sum(MesaMetricNames.CONSUMED_MESSAGES, { [A.ERROR_TYPE]: 'RangeError' })).toBe(before + 1);
    const values = (await sdk.everyAttributeValue()).flat();
    expect(values).not.toContain(SENDER);
    expect(values).not.toContain('user-auditor-88aa');
    expect(values.some((value) => String(value).includes('free-text'))).toBe(false);
  });
});
