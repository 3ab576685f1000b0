import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Message, MesaDispatchError, MesaMetricNames, MesaTelemetryAttributes as A } from '../../lib/index.js';
import { eventually } from '../support/mesa-app.js';
import { MesaStack } from '../support/mesa-stack.js';
import { OtelSdk } from './support/otel-sdk.js';

const CHANNEL = 'ws_tel';
/** User ids no attribute value may ever hold. */
const ALICE = 'user-alice-7f3a';
const BOB = 'user-bob-91c2';
const CAROL = 'user-carol-e55d';
const USER_IDS = [ALICE, BOB, CAROL];

/** Runs `work` inside a recording span of the test's own tracer (as an HTTP request's span would be), and ends it. */
async function insideSpan<T>(name: string, work: () => Promise<T>): Promise<{ result: T; spanId: string; traceId: string }> {
  return trace.getTracer('test').startActiveSpan(name, async (span) => {
    try {
      return { result: await work(), ...span.spanContext() };
    } finally {
      span.end();
    }
  });
}

/**
 * A MesaStack started with the real SDK registered for the describe block that calls it (both stopped after it).
 * Read `sdk` inside tests: it is registered in `beforeAll`.
 */
function stackWithSdk(options: ConstructorParameters<typeof MesaStack>[0]): { stack: MesaStack; sdk: () => OtelSdk } {
  let sdk: OtelSdk;
  const stack = new MesaStack(options);
  beforeAll(async () => {
    sdk = OtelSdk.register();
    await stack.start();
  });
  afterAll(async () => {
    await stack.close();
    await sdk.stop();
  });
  return { stack, sdk: () => sdk };
}

describe('Telemetry of dispatches, with the real OpenTelemetry SDK, real Redis and real Mesa servers', () => {
  let sdk: OtelSdk;
  // the module stores for offline users, with a sweep of expired messages every 100 ms; "not sent" is tried 3 times
  const stack = new MesaStack({
    namespace: 'tel',
    replicas: 1,
    module: {
      dispatchTimeout: 400,
      maxStoredPerUser: 2,
      sync: { enabled: true, sweepInterval: 100 },
      retry: { attempts: 3, delay: 10 },
    },
  });

  beforeAll(async () => {
    sdk = OtelSdk.register();
    await stack.start();
  });
  afterEach(async () => {
    await stack.disconnectUsers();
    sdk.spans.reset();
  });
  afterAll(async () => {
    await stack.close();
    await sdk.stop();
  });

  it('dispatches inside a span get create spans (its children), linked from their batch\'s PRODUCER span "send ws_tel"', async () => {
    const alice = await stack.connect(0, ALICE);
    const sentBefore = await sdk.sum(MesaMetricNames.SENT_MESSAGES, { [A.ERROR_TYPE]: undefined });
    const batchesBefore = await sdk.sum(MesaMetricNames.OPERATION_DURATION);

    const request = await insideSpan('GET /rooms/1/notify', () =>
      Promise.all([
        stack.dispatcher.dispatch(new Message(0, { text: 'hi' }, 'NOTE'), [ALICE]),
        stack.dispatcher.dispatch(new Message(0, { text: 'later' }, 'NOTE'), [BOB]),
      ]),
    );
    await alice.waitFor((user) => user.of('NOTE').length > 0);

    expect(request.result.map((result) => result.publishedTo)).toEqual([[ALICE], []]);
    const creates = sdk.finished(`create ${CHANNEL}`);
    expect(creates).toHaveLength(2);
    for (const create of creates) {
      expect(create.kind).toBe(SpanKind.PRODUCER);
      expect(create.parentSpanContext?.spanId).toBe(request.spanId);
      expect(create.spanContext().traceId).toBe(request.traceId);
      expect(create.status.code).toBe(SpanStatusCode.UNSET);
      expect(create.instrumentationScope).toMatchObject({ name: 'nestjs-mesa', version: '0.1.0' });
      expect(create.attributes).toEqual({
        [A.SYSTEM]: 'mesa',
        [A.DESTINATION]: CHANNEL,
        [A.OPERATION_TYPE]: 'create',
        [A.OPERATION_NAME]: 'create',
        [A.NAMESPACE]: 'tel',
        [A.REGISTRATION]: 'default',
      });
    }
    const [send] = sdk.finished(`send ${CHANNEL}`);
    expect(sdk.finished(`send ${CHANNEL}`)).toHaveLength(1);
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.parentSpanContext).toBeUndefined();
    expect(send.attributes).toEqual({
      [A.SYSTEM]: 'mesa',
      [A.DESTINATION]: CHANNEL,
      [A.OPERATION_TYPE]: 'send',
      [A.OPERATION_NAME]: 'send',
      [A.NAMESPACE]: 'tel',
      [A.REGISTRATION]: 'default',
      [A.BATCH_MESSAGE_COUNT]: 2,
    });
    expect(send.links.map((link) => link.context.spanId).sort()).toEqual(creates.map((create) => create.spanContext().spanId).sort());
    expect(await sdk.sum(MesaMetricNames.SENT_MESSAGES, { [A.ERROR_TYPE]: undefined })).toBe(sentBefore + 2);
    expect(await sdk.sum(MesaMetricNames.OPERATION_DURATION)).toBe(batchesBefore + 1);
  });

  it('a dispatch outside any span makes a send span but no create span; every dispatch is counted once', async () => {
    const before = await sdk.sum(MesaMetricNames.SENT_MESSAGES);
    await Promise.all(Array.from({ length: 25 }, (_, n) => stack.dispatcher.dispatch(new Message(0, { n }, 'BULK'), [CAROL])));
    await stack.dispatcher.dispatch(new Message(0, {}, 'BULK'), [BOB]);

    expect(sdk.finished(`create ${CHANNEL}`)).toHaveLength(0);
    const sends = sdk.finished(`send ${CHANNEL}`);
    expect(sends.reduce((total, span) => total + Number(span.attributes[A.BATCH_MESSAGE_COUNT]), 0)).toBe(26);
    expect(sends.every((span) => span.links.length === 0)).toBe(true);
    expect(await sdk.sum(MesaMetricNames.SENT_MESSAGES)).toBe(before + 26);
  });

  it('counts the stored messages the caps dropped (maxStoredPerUser 2), by reason', async () => {
    const before = await sdk.sum(MesaMetricNames.DROPPED_STORED, { [A.DROP_REASON]: 'cap' });
    const offline = 'user-dave-0b7e';
    for (let n = 0; n < 5; n++) await stack.dispatcher.dispatch(new Message(0, { n }, 'KEPT'), [offline]);

    expect(await sdk.sum(MesaMetricNames.DROPPED_STORED, { [A.DROP_REASON]: 'cap' })).toBe(before + 3);
    expect(JSON.parse((await stack.db.hget('undelivered_messages_tel', offline))!)).toHaveLength(2);
    await stack.db.hdel('undelivered_messages_tel', offline);
  });

  it('counts the stored messages the sweep removed as expired', async () => {
    const expired = () => sdk.sum(MesaMetricNames.DROPPED_STORED, { [A.DROP_REASON]: 'expiry' });
    const before = await expired();
    const hal = 'user-hal-7e21';
    await stack.dispatcher.dispatch(new Message(0, {}, 'SHORT', { ttl: 1 }), [hal]);
    await eventually(async () => (await stack.db.hexists('undelivered_messages_tel', hal)) === 0, 5_000, 'the sweep');
    // Redis shows the removal before the application has read the sweep's answer, which is when it counts it
    await eventually(async () => (await expired()) > before, 2_000, 'the sweep to be counted');
    expect(await expired()).toBe(before + 1);
  });

  it('a dispatch Redis never answers (frozen past dispatchTimeout) fails with error.type may_have_been_published on its span, its batch and the counter', async () => {
    const before = await sdk.sum(MesaMetricNames.SENT_MESSAGES, { [A.ERROR_TYPE]: 'may_have_been_published' });
    stack.redis.pause();
    let failure: unknown;
    try {
      await insideSpan('job', () => stack.dispatcher.dispatch(new Message(0, {}, 'LOST'), [ALICE]).catch((error) => (failure = error)));
    } finally {
      stack.redis.resume();
    }

    expect(failure).toBeInstanceOf(MesaDispatchError);
    expect((failure as MesaDispatchError).mayHaveBeenPublished).toBe(true);
    const [create] = sdk.finished(`create ${CHANNEL}`);
    expect(create.status.code).toBe(SpanStatusCode.ERROR);
    expect(create.attributes[A.ERROR_TYPE]).toBe('may_have_been_published');
    const [send] = sdk.finished(`send ${CHANNEL}`);
    expect(send.status.code).toBe(SpanStatusCode.ERROR);
    expect(send.attributes[A.ERROR_TYPE]).toBe('may_have_been_published');
    expect(send.links[0]?.context.spanId).toBe(create.spanContext().spanId);
    expect(await sdk.sum(MesaMetricNames.SENT_MESSAGES, { [A.ERROR_TYPE]: 'may_have_been_published' })).toBe(before + 1);
    expect(await sdk.sum(MesaMetricNames.OPERATION_DURATION, { [A.ERROR_TYPE]: 'may_have_been_published' })).toBeGreaterThanOrEqual(1);
    await stack.dispatcher.dispatch(new Message(0, {}, 'AFTER'), [ALICE]);
  });

  it('a dispatch Redis refuses with an error code (OOM: maxmemory reached), tried 3 times: each batch and the one create span and count carry the code', async () => {
    const before = await sdk.sum(MesaMetricNames.SENT_MESSAGES, { [A.ERROR_TYPE]: 'OOM' });
    await stack.db.config('SET', 'maxmemory-policy', 'noeviction');
    await stack.db.config('SET', 'maxmemory', '1');
    let failure: unknown;
    try {
      await insideSpan('job', () =>
        stack.dispatcher.dispatch(new Message(0, {}, 'FULL'), ['user-erin-3c1d']).catch((error) => (failure = error)),
      );
    } finally {
      await stack.db.config('SET', 'maxmemory', '0');
    }

    expect(failure).toBeInstanceOf(MesaDispatchError);
    expect(String((failure as Error).message)).toContain('OOM');
    expect(sdk.finished(`create ${CHANNEL}`)).toHaveLength(1);
    const [create] = sdk.finished(`create ${CHANNEL}`);
    expect(create.status.code).toBe(SpanStatusCode.ERROR);
    expect(create.attributes[A.ERROR_TYPE]).toBe('OOM');
    const sends = sdk.finished(`send ${CHANNEL}`);
    expect(sends).toHaveLength(3);
    for (const send of sends) {
      expect(send.status.code).toBe(SpanStatusCode.ERROR);
      expect(send.attributes[A.ERROR_TYPE]).toBe('OOM');
      expect(send.links.map((link) => link.context.spanId)).toEqual([create.spanContext().spanId]);
    }
    expect(await sdk.sum(MesaMetricNames.SENT_MESSAGES, { [A.ERROR_TYPE]: 'OOM' })).toBe(before + 1);
  });

  it('observes the queued and unanswered dispatches', async () => {
    stack.redis.pause();
    let settled: Array<Promise<unknown>> = [];
    try {
      settled.push(stack.dispatcher.dispatch(new Message(0, {}, 'HELD'), [ALICE]).catch(() => undefined));
      await new Promise((resolve) => setImmediate(resolve));
      const unanswered = await sdk.sum(MesaMetricNames.UNANSWERED_DISPATCHES);
      expect(unanswered).toBe(1);
      expect(await sdk.sum(MesaMetricNames.QUEUED_DISPATCHES)).toBe(0);
    } finally {
      stack.redis.resume();
    }
    await Promise.all(settled);
    settled = [];
    await stack.dispatcher.dispatch(new Message(0, {}, 'AFTER'), [ALICE]);
    expect(await sdk.sum(MesaMetricNames.UNANSWERED_DISPATCHES)).toBe(0);
  });

  it('no attribute value of any span or metric is a user id the tests dispatched to', async () => {
    await insideSpan('last', () => stack.dispatcher.dispatch(new Message(0, { to: ALICE }, 'LAST'), USER_IDS));
    const values = (await sdk.everyAttributeValue()).flat();
    expect(values.length).toBeGreaterThan(10);
    for (const id of [...USER_IDS, 'user-dave-0b7e', 'user-erin-3c1d']) expect(values).not.toContain(id);
  });
});

describe('Telemetry of stored messages a later dispatch removed as expired', () => {
  // a sweep far apart (it runs once at start), so that only the later dispatch can remove the expired message
  const { stack, sdk } = stackWithSdk({ namespace: 'telx', replicas: 1, module: { sync: { enabled: true, sweepInterval: 60_000 } } });

  it('counts it once, with mesa.drop.reason expiry', async () => {
    const expired = () => sdk().sum(MesaMetricNames.DROPPED_STORED, { [A.DROP_REASON]: 'expiry' });
    const before = await expired();
    const gina = 'user-gina-5a0f';
    await stack.dispatcher.dispatch(new Message(0, {}, 'SHORT', { ttl: 1 }), [gina]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const result = await stack.dispatcher.dispatch(new Message(0, {}, 'LONG'), [gina]);
    expect(result.expired).toEqual({ [gina]: 1 });
    expect(await expired()).toBe(before + 1);
    await stack.db.hdel('undelivered_messages_telx', gina);
  });
});

describe('telemetry: false', () => {
  const { stack, sdk } = stackWithSdk({ namespace: 'off', replicas: 1, module: { telemetry: false } });

  it('produces no span and no metric, with the SDK registered', async () => {
    const alice = await stack.connect(0, ALICE);
    await insideSpan('request', () => stack.dispatcher.dispatch(new Message(0, {}, 'QUIET'), [ALICE]));
    await alice.waitFor((user) => user.of('QUIET').length > 0);

    expect(
      sdk()
        .finished()
        .map((span) => span.name),
    ).toEqual(['request']);
    const names = [...(await sdk().collect()).keys()];
    expect(names.filter((name) => Object.values(MesaMetricNames).includes(name as never))).toEqual([]);
  });
});
