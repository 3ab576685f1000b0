import type { Redis } from 'ioredis';
import { Message, MesaConnectionError, type DispatcherService } from '../../lib/index.js';
import { ChannelSpy } from '../support/channel-spy.js';
import { createMesaModule, eventually } from '../support/mesa-app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { RedisServer } from '../support/redis-server.js';
import { withoutCount } from '../support/stored-backlog.js';

const note = (n: number) => new Message(0, { n }, 'NOTE');
const settle = (promises: Array<Promise<unknown>>) => Promise.allSettled(promises);
const reasons = (outcomes: PromiseSettledResult<unknown>[]) =>
  outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => String(o.reason?.message));

/** The engine at the edges: what one caller, one user or one sick Redis can do to everyone else (issue "Trust at the edges"). */
describe('trust at the edges: the publishing engine', () => {
  let redis: RedisServer;
  let db: Redis;
  let spy: ChannelSpy;
  const closers: Array<() => Promise<unknown>> = [];

  beforeEach(async () => {
    redis = await RedisServer.start();
    db = redis.client();
    spy = await ChannelSpy.listen(redis.url);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    redis.resume();
    await spy.close();
    db.disconnect();
    await redis.stop();
  });
  const mesa = async (options: object = {}, logger?: RecordingLogger): Promise<DispatcherService> => {
    const { moduleRef, dispatcher } = await createMesaModule(
      { url: redis.url, sync: { enabled: true }, ...options },
      logger ? { logger } : {},
    );
    closers.push(() => moduleRef.close());
    return dispatcher;
  };

  it('never shares a recipient list between ids that a separator could join: ["a","b"] and ["a\\u0000b"] in one batch', async () => {
    const dispatcher = await mesa();
    await db.sadd('connected_clients', 'a', 'b');
    const [toBoth, toOne] = await Promise.all([dispatcher.dispatch(note(1), ['a', 'b']), dispatcher.dispatch(note(2), ['a\u0000b'])]);
    const [reverseOne, reverseBoth] = await Promise.all([
      dispatcher.dispatch(note(3), ['a\u0000b']),
      dispatcher.dispatch(note(4), ['a', 'b']),
    ]);
    expect([toBoth.publishedTo, toOne.storedFor, reverseOne.storedFor, reverseBoth.publishedTo]).toEqual([
      ['a', 'b'],
      ['a\u0000b'],
      ['a\u0000b'],
      ['a', 'b'],
    ]);
    const envelopes = await spy.waitForCount(2);
    expect(envelopes.map((e) => [e.message.d.n, e.recipients])).toEqual([
      [1, ['a', 'b']],
      [4, ['a', 'b']],
    ]);
    expect(withoutCount(JSON.parse((await db.hget('undelivered_messages', 'a\u0000b'))!)).map((m) => m.d.n)).toEqual([2, 3]);
    expect(await db.hlen('undelivered_messages')).toBe(1);
  });

  it('a key of the wrong type fails only the dispatches that read it, before anything of theirs is published', async () => {
    const dispatcher = await mesa();
    await db.set('connected_clients', 'not a set');
    const outcomes = await settle([
      dispatcher.broadcast(note(1)),
      dispatcher.dispatch(note(2), ['ann']),
      dispatcher.dispatch(new Message(0, { n: 3 }, 'NOTE', { sync: false }), ['bob']),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(reasons(outcomes)[0]).toMatch(/WRONGTYPE: connected_clients holds a string, not a set.*the message was not sent\.$/);
    expect((await spy.received()).map((e) => e.message.d.n)).toEqual([1, 3]);
  });

  it('Redis out of memory refuses a sync dispatch before it runs: nothing published, "not sent", and scripts stay in use', async () => {
    const logger = new RecordingLogger();
    const dispatcher = await mesa({}, logger);
    await db.sadd('connected_clients', 'online');
    await db.config('SET', 'maxmemory-policy', 'noeviction');
    await db.config('SET', 'maxmemory', '1');
    const outcomes = await settle(Array.from({ length: 50 }, (_, n) => dispatcher.dispatch(note(n), ['online', 'offline'])));
    await db.config('SET', 'maxmemory', '0');
    expect(reasons(outcomes)).toHaveLength(50);
    for (const reason of reasons(outcomes)) expect(reason).toMatch(/out of memory.*OOM.*the message was not sent\.$/);
    expect(await spy.received()).toHaveLength(0);
    expect(await db.hlen('undelivered_messages')).toBe(0);
    expect(logger.text()).not.toMatch(/Lua scripts are unavailable/);
    await dispatcher.dispatch(note(99), ['online', 'offline']);
    expect((await spy.received()).map((e) => e.message.d.n)).toEqual([99]);
  });

  it('refuses, at bootstrap, a connection to a read-only replica', async () => {
    const replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(redis.port)]);
    try {
      await expect(createMesaModule({ url: replica.url }, { logger: false })).rejects.toThrow(MesaConnectionError);
      await expect(createMesaModule({ url: replica.url }, { logger: false })).rejects.toThrow(
        /read-only replica.*Connect to the primary, or through Sentinel/,
      );
    } finally {
      await replica.stop();
    }
  });

  it('a dispatch to 130,000 recipients neither overflows the stack nor sinks the dispatches of its tick', async () => {
    const dispatcher = await mesa();
    const crowd = Array.from({ length: 130_000 }, (_, n) => `user-${n}`);
    const [small, huge, after] = await Promise.all([
      dispatcher.dispatch(note(1), ['ann']),
      dispatcher.dispatch(note(2), crowd),
      dispatcher.dispatch(note(3), ['bob']),
    ]);
    expect([small.storedFor, huge.storedFor.length, after.storedFor]).toEqual([['ann'], 130_000, ['bob']]);
    expect(await db.hlen('undelivered_messages')).toBe(130_002);
  }, 60_000);

  it('caps a backlog by default (1000 messages): one written by Mesa (no count) is trimmed from its end, and the drop counted exactly', async () => {
    const dispatcher = await mesa();
    // what Mesa's own Dispatcher writes: JSON.stringify of the array, with data that looks like structure
    const old = (n: number) => ({ op: 0, d: { n, text: 'a, [b], {c}, "d\\", e', nested: [{ op: 1 }, [1, ','], '\\'] }, t: 'OLD' });
    await db.hset('undelivered_messages', 'away', JSON.stringify(Array.from({ length: 1_200 }, (_, n) => old(n))));
    const result = await dispatcher.dispatch(note(1_200), ['away']);
    expect(result.dropped?.away).toBe(201);
    const again = await dispatcher.dispatch(note(1_201), ['away']);
    expect(again.dropped?.away).toBe(1);
    const raw = JSON.parse((await db.hget('undelivered_messages', 'away'))!);
    expect(raw.filter((m: object) => 'n' in m).length).toBe(1);
    const kept = withoutCount(raw);
    expect(kept).toHaveLength(1_000);
    expect(kept[0]).toEqual(old(202));
    expect(kept.slice(-2).map((m) => m.d.n)).toEqual([1_200, 1_201]);
  });

  it('reports drops for an id named __proto__ like any other id', async () => {
    const dispatcher = await mesa({ maxStoredPerUser: 1 });
    await dispatcher.dispatch(note(1), ['__proto__']);
    const result = await dispatcher.dispatch(note(2), ['__proto__']);
    expect(Object.keys(result.dropped!)).toEqual(['__proto__']);
    expect(result.dropped!['__proto__']).toBe(1);
  });

  it('a frozen Redis (SIGSTOP) bounds what is written and held: the rest fails "not sent", and nothing told "not sent" arrives later', async () => {
    const dispatcher = await mesa({
      sync: { enabled: false },
      maxUnansweredBatches: 2,
      maxQueuedDispatches: 2_000,
      dispatchTimeout: 1_000,
    });
    await dispatcher.dispatch(note(-1), ['warm']);
    await spy.clear();
    redis.pause();
    const promises = Array.from({ length: 20_000 }, (_, n) => dispatcher.dispatch(note(n), ['someone']));
    const outcomes = await settle(promises);
    const all = reasons(outcomes);
    const mayHave = all.filter((reason) => /may have been published/.test(reason));
    const notSent = all.filter((reason) => /was not sent/.test(reason));
    expect(mayHave.length + notSent.length).toBe(20_000);
    expect(mayHave.length).toBeLessThanOrEqual(2 * 256);
    expect(notSent.some((reason) => /Too many dispatches are waiting/.test(reason))).toBe(true);
    expect(notSent.some((reason) => /dispatchTimeout/.test(reason))).toBe(true);
    redis.resume();
    await eventually(async () => (await db.ping()) === 'PONG', 5_000, 'Redis answering');
    const envelopes = await spy.received();
    const notSentIds = new Set(
      outcomes.flatMap((o, n) => (o.status === 'rejected' && /was not sent/.test(String(o.reason?.message)) ? [n] : [])),
    );
    expect(envelopes.filter((e) => notSentIds.has(e.message.d.n))).toEqual([]);
    expect(envelopes.length).toBeLessThanOrEqual(mayHave.length);
  }, 30_000);

  it('aggregates the log of unawaited failures: 5,000 failing in an outage write a few lines, with the count', async () => {
    const logger = new RecordingLogger();
    const dispatcher = await mesa({ whenDisconnected: 'fail' }, logger);
    await redis.stop();
    await eventually(() => dispatcher['publisher']['connection'].client.status !== 'ready', 5_000, 'connection lost');
    for (let n = 0; n < 5_000; n++) void dispatcher.dispatch(note(n), ['someone']);
    await eventually(() => logger.errors(/more like this/).length > 0, 5_000, 'the summary line');
    const lines = logger.errors(/A dispatch nobody awaited failed/);
    expect(lines.length).toBeLessThanOrEqual(4);
    expect(lines.join('\n')).toMatch(/\((\d+) more like this in the last 1 s\)/);
    const counted = lines.reduce((sum, line) => sum + 1 + Number(/\((\d+) more/.exec(line)?.[1] ?? 0), 0);
    expect(counted).toBeGreaterThanOrEqual(5_000);
    await redis.restart();
  });
});
