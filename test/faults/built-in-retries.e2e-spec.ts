import type { Redis } from 'ioredis';
import {
  getMesaRedisConnectionToken,
  Message,
  MesaDispatchError,
  type DispatchResult,
  type MesaModuleForRootOptions,
  type MesaRedisConnection,
} from '../../lib/index.js';
import { ChannelSpy } from '../support/channel-spy.js';
import { createMesaModule } from '../support/mesa-app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { RedisServer } from '../support/redis-server.js';
import { withoutCount } from '../support/stored-backlog.js';
import { verbose } from '../support/verbose.js';
import { moduleConnectionIds, repeated } from './support/exactly-once.js';
import { poll, sleep } from './support/processes.js';
import { TcpGate } from './support/tcp-gate.js';

interface Outcome {
  result?: DispatchResult;
  error?: MesaDispatchError;
}
const settled = (promise: Promise<DispatchResult>): Promise<Outcome> =>
  promise.then(
    (result) => ({ result }),
    (error: MesaDispatchError) => ({ error }),
  );

/**
 * The module's `retry` option against real redis-server faults: the caller sees one settlement; what failed "not sent"
 * is tried again; "may have been published" only with an idempotency key; every key reaches the wire once.
 */
describe('built-in retries (retry: { attempts, delay })', () => {
  let redis: RedisServer;
  let gate: TcpGate;
  let db: Redis;
  let spy: ChannelSpy;
  const closers: Array<() => Promise<unknown>> = [];

  beforeEach(async () => {
    redis = await RedisServer.start();
    gate = await TcpGate.open(redis.port);
    db = redis.client();
    spy = await ChannelSpy.listen(redis.url);
    await db.sadd('connected_clients', 'on'); // as a Mesa server marks a user online: 'on' is published to
  });
  afterEach(async () => {
    redis.resume();
    gate.releaseReplies();
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    await gate.close();
    await spy.close();
    db.disconnect();
    await redis.stop();
  });

  const mesa = async (options: Omit<MesaModuleForRootOptions, 'url'>, logger: RecordingLogger | false = false) => {
    const { moduleRef, dispatcher } = await createMesaModule({ url: gate.url, sync: { enabled: true }, ...options }, { logger });
    closers.push(() => moduleRef.close());
    return { moduleRef, dispatcher };
  };
  /** Closes the gate and waits until the module knows its connection is gone (nothing is sent from then on). */
  const cutOff = async (moduleRef: { get<T>(token: symbol): T }) => {
    await gate.close();
    const connection = moduleRef.get<MesaRedisConnection>(getMesaRedisConnectionToken());
    await poll(() => connection.client.status !== 'ready', 5_000, 'the module to see its connection closed');
  };
  const published = async (type: string) =>
    (await spy.received()).filter((envelope) => envelope.message.t === type).map((envelope) => envelope.message.d.n as number);
  const stored = async (id: string, type: string) =>
    withoutCount(JSON.parse((await db.hget('undelivered_messages', id)) ?? '[]'))
      .filter((message) => message.t === type)
      .map((message) => message.d.n as number);

  it('the connection killed after Redis ran 64 batches whose answers are lost: every keyed dispatch resolves, each once on the wire and in the backlog; a keyless one fails "may have been published", tried once', async () => {
    const { moduleRef, dispatcher } = await mesa({ retry: { attempts: 3, delay: 50 }, dispatchTimeout: 5_000 });
    await dispatcher.dispatch(new Message(0, {}, 'WARM-UP'), ['off']);
    await spy.clear();
    gate.holdReplies();
    const outcomes: Array<Promise<Outcome>> = [];
    for (let n = 0; n < 200; n++) {
      // every fourth without a key
      const options = n % 4 === 3 ? {} : { idempotencyKey: `k-${n}` };
      outcomes.push(settled(dispatcher.dispatch(new Message(0, { n }, n % 4 === 3 ? 'KEYLESS' : 'KEYED', options), ['on', 'off'])));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await poll(async () => (await spy.received(1_000)).length === 64, 10_000, 'Redis to run 64 batches');
    const client = moduleRef.get<MesaRedisConnection>(getMesaRedisConnectionToken()).client;
    const closed = new Promise((resolve) => client.once('close', resolve));
    const [connection] = await moduleConnectionIds(db);
    expect(await db.client('KILL', 'ID', connection)).toBe(1);
    await closed;
    gate.releaseReplies();
    const all = await Promise.all(outcomes);

    const keyed = all.filter((_, n) => n % 4 !== 3);
    const keyless = all.filter((_, n) => n % 4 === 3);
    expect(keyed.filter((outcome) => outcome.error)).toEqual([]);
    expect(keyed.filter((outcome) => outcome.result!.duplicate)).toHaveLength(48); // the keyed among the 64 Redis ran
    expect(repeated(await published('KEYED'))).toEqual({});
    expect((await published('KEYED')).length).toBe(150);
    expect(repeated(await stored('off', 'KEYED'))).toEqual({});
    expect((await stored('off', 'KEYED')).length).toBe(150);
    // keyless: the 16 among the 64 Redis ran fail, once published (tried once), the others resolve
    const lost = keyless.filter((outcome) => outcome.error);
    expect(lost.map((outcome) => outcome.error!.message)).toEqual(
      Array.from({ length: 16 }, () =>
        expect.stringMatching(/lost the connection before answering .*; the message may have been published\.$/),
      ),
    );
    expect(repeated(await published('KEYLESS'))).toEqual({});
    expect((await published('KEYLESS')).length).toBe(50);
  }, 60_000);

  it('Redis paused past dispatchTimeout: every keyed dispatch resolves within attempts × 2 × dispatchTimeout + (attempts − 1) × delay, each once on the wire', async () => {
    const [attempts, delay, dispatchTimeout] = [4, 100, 500];
    const { dispatcher } = await mesa({ retry: { attempts, delay }, dispatchTimeout });
    await dispatcher.dispatch(new Message(0, {}, 'WARM-UP'), ['off']);
    await spy.clear();
    redis.pause();
    const started = Date.now();
    const times: number[] = [];
    const outcomes = Array.from({ length: 100 }, (_, n) =>
      settled(
        dispatcher
          .dispatch(new Message(0, { n }, 'KEYED', { idempotencyKey: `p-${n}` }), ['on', 'off'])
          .finally(() => times.push(Date.now() - started)),
      ),
    );
    await sleep(2.6 * dispatchTimeout);
    redis.resume();
    const all = await Promise.all(outcomes);
    verbose(
      `paused ${2.6 * dispatchTimeout} ms; settled after ${Math.min(...times)}–${Math.max(...times)} ms; ${all.filter((o) => o.result?.duplicate).length} duplicates`,
    );

    expect(all.filter((outcome) => outcome.error)).toEqual([]);
    expect(Math.max(...times)).toBeLessThanOrEqual(attempts * 2 * dispatchTimeout + (attempts - 1) * delay);
    expect(all.filter((outcome) => outcome.result!.duplicate).length).toBe(100); // the first try ran when Redis woke
    expect(repeated(await published('KEYED'))).toEqual({});
    expect((await published('KEYED')).length).toBe(100);
    expect((await stored('off', 'KEYED')).length).toBe(100);
  }, 60_000);

  it('Redis paused past every try: each keyed dispatch fails within the bound, "may have been published"; when Redis wakes, each key reaches the wire once', async () => {
    const [attempts, delay, dispatchTimeout] = [3, 100, 400];
    const bound = attempts * 2 * dispatchTimeout + (attempts - 1) * delay;
    const { dispatcher } = await mesa({ retry: { attempts, delay }, dispatchTimeout });
    await dispatcher.dispatch(new Message(0, {}, 'WARM-UP'), ['off']);
    await spy.clear();
    redis.pause();
    const started = Date.now();
    const outcomes = Array.from({ length: 50 }, (_, n) =>
      settled(dispatcher.dispatch(new Message(0, { n }, 'KEYED', { idempotencyKey: `q-${n}` }), ['on', 'off'])),
    );
    const all = await Promise.all(outcomes);
    const elapsed = Date.now() - started;
    redis.resume();
    verbose(`all failed after ${elapsed} ms (bound ${bound} ms)`);

    expect(elapsed).toBeLessThanOrEqual(bound);
    expect(all.map((outcome) => outcome.error?.mayHaveBeenPublished)).toEqual(all.map(() => true));
    expect(all[0].error!.message).toMatch(/no answer within dispatchTimeout \(400 ms\); the message may have been published\.$/);
    // every try was sent, and runs now: the first publishes and stores, the others are duplicates
    await spy.waitFor((envelopes) => envelopes.length >= 50, 5_000, 'the first tries');
    await sleep(300);
    expect(repeated(await published('KEYED'))).toEqual({});
    expect((await published('KEYED')).length).toBe(50);
    expect((await stored('off', 'KEYED')).length).toBe(50);
  }, 60_000);

  it('"not sent" is tried again, without a key too: Redis unreachable for a while (whenDisconnected: "fail") costs nothing', async () => {
    const { moduleRef, dispatcher } = await mesa({ retry: { attempts: 10, delay: 100 }, whenDisconnected: 'fail' });
    await cutOff(moduleRef);
    const outcomes = Array.from({ length: 20 }, (_, n) => settled(dispatcher.dispatch(new Message(0, { n }, 'PLAIN'), ['off'])));
    await sleep(400);
    await gate.reopen();
    const all = await Promise.all(outcomes);
    expect(all.filter((outcome) => outcome.error)).toEqual([]);
    expect((await stored('off', 'PLAIN')).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, n) => n));
  }, 30_000);

  it('a dispatch nobody awaits is logged once, with its last failure; an awaited one rejects once, with the last failure', async () => {
    const logger = new RecordingLogger();
    const { moduleRef, dispatcher } = await mesa({ retry: { attempts: 3, delay: 50 }, whenDisconnected: 'fail' }, logger);
    await cutOff(moduleRef);
    void dispatcher.dispatch(new Message(0, { n: 1 }, 'LOST'), ['off']);
    const awaited = await settled(dispatcher.dispatch(new Message(0, { n: 2 }, 'LOST'), ['off']));
    await sleep(300);

    expect(awaited.error?.message).toMatch(/is unreachable \(connection .*\); the message was not sent \(whenDisconnected: 'fail'\)\.$/);
    expect(logger.errors(/^A dispatch nobody awaited failed/)).toEqual([
      expect.stringMatching(/^A dispatch nobody awaited failed: Redis at .* is unreachable .*the message was not sent/),
    ]);
  }, 30_000);

  it('app.close() waits for a try waiting for its delay: it is sent, and settles, before the connection closes', async () => {
    const { moduleRef, dispatcher } = await mesa({ retry: { attempts: 2, delay: 500 }, whenDisconnected: 'fail' });
    await cutOff(moduleRef);
    const outcome = settled(dispatcher.dispatch(new Message(0, { n: 1 }, 'LATE'), ['off']));
    await sleep(50);
    await gate.reopen();
    await poll(() => moduleRef.get<MesaRedisConnection>(getMesaRedisConnectionToken()).client.status === 'ready', 5_000, 'reconnected');
    await moduleRef.close();
    expect((await outcome).result?.storedFor).toEqual(['off']);
    expect(await stored('off', 'LATE')).toEqual([1]);
  }, 30_000);
});
