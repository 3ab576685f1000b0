import type { Redis } from 'ioredis';
import { getMesaRedisConnectionToken, Message, MesaDispatchError, type DispatchResult, type MesaRedisConnection } from '../../lib/index.js';
import { ChannelSpy } from '../support/channel-spy.js';
import { createMesaModule } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';
import { mesaBacklogText, withoutCount } from '../support/stored-backlog.js';
import { verbose } from '../support/verbose.js';
import { poll, sleep } from './support/processes.js';
import { moduleConnectionIds, repeated } from './support/exactly-once.js';
import { TcpGate } from './support/tcp-gate.js';

/**
 * A caller who gets "may have been published" and sends the message again with its idempotency key: every message
 * must reach the wire and the backlogs exactly once, whatever Redis had run before the connection died.
 */
describe('the caller retries with the idempotency key: exactly once, on the wire and in the backlogs', () => {
  let redis: RedisServer;
  let mesa: MesaCluster;
  let db: Redis;
  let spy: ChannelSpy;

  beforeEach(async () => {
    redis = await RedisServer.start();
    mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 1, sync: true });
    db = redis.client();
    spy = await ChannelSpy.listen(redis.url);
  });
  afterEach(async () => {
    redis.resume();
    await spy.close();
    db.disconnect();
    await mesa.stop();
    await redis.stop();
  });

  /** Sends `message` until it resolves, with the same key, at most `tries` times; the errors on the way are kept. */
  const untilResolved = async (send: () => Promise<DispatchResult>, errors: MesaDispatchError[], tries = 20) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (!(error instanceof MesaDispatchError) || attempt === tries) throw error;
        errors.push(error);
        await sleep(100);
      }
    }
  };

  it('the connection killed (CLIENT KILL) with 200 keyed dispatches in flight, Redis having run 64 batches whose answers are lost: each retried → each once', async () => {
    const gate = await TcpGate.open(redis.port);
    const { moduleRef, dispatcher } = await createMesaModule(
      { url: gate.url, sync: { enabled: true }, dispatchTimeout: 5_000 },
      { logger: false },
    );
    const on = await MesaUser.connect(mesa.url(), 'on');
    await poll(async () => (await db.sismember('connected_clients', 'on')) === 1, 5_000, 'on online');
    try {
      const errors: MesaDispatchError[] = [];
      const [connection] = await moduleConnectionIds(db);
      const send = (n: number) => () => dispatcher.dispatch(new Message(0, { n }, 'KEYED', { idempotencyKey: `k-${n}` }), ['on', 'off']);
      await dispatcher.dispatch(new Message(0, {}, 'WARM-UP'), ['off']); // Redis has the script: EVALSHA runs it
      await spy.clear();
      // Redis runs what it is sent, and its answers stay in the gate: the module has 64 batches unanswered (its bound)
      gate.holdReplies();
      const outcomes: Array<Promise<DispatchResult>> = [];
      for (let n = 0; n < 200; n++) {
        outcomes.push(untilResolved(send(n), errors));
        await new Promise((resolve) => setImmediate(resolve)); // one batch per dispatch
      }
      await poll(async () => (await spy.received(1_000)).length === 64, 10_000, 'Redis to run 64 batches');
      const client = moduleRef.get<MesaRedisConnection>(getMesaRedisConnectionToken()).client;
      const closed = new Promise((resolve) => client.once('close', resolve));
      expect(await db.client('KILL', 'ID', connection)).toBe(1);
      await closed; // the answers held die with the connection; the next one's go through
      gate.releaseReplies();
      const results = await Promise.all(outcomes);
      verbose(`${errors.length} failed tries; ${results.filter((r) => r.duplicate).length} retries were duplicates`);

      // the wire: each message once (the spy, and Mesa's own client online)
      const published = (await spy.received()).filter((e) => e.message.t === 'KEYED').map((e) => e.message.d.n as number);
      expect(repeated(published)).toEqual({});
      expect(new Set(published).size).toBe(200);
      await on.waitFor((user) => user.of('KEYED').length >= 200, 10_000, 'every message on the socket');
      await on.quietFor(300);
      expect(repeated(on.of('KEYED').map((message) => message.d.n))).toEqual({});
      // the backlog: each message stored once for the offline recipient
      const stored = withoutCount(JSON.parse((await db.hget('undelivered_messages', 'off'))!))
        .filter((message) => message.t === 'KEYED')
        .map((message) => message.d.n as number);
      expect(repeated(stored)).toEqual({});
      expect(stored.length).toBe(200);
      // the 64 Redis ran failed as "may have been published"; retried with their keys, each came back a duplicate
      expect(errors.map((error) => error.mayHaveBeenPublished)).toEqual(Array.from({ length: 64 }, () => true));
      expect(results.filter((result) => result.duplicate).map((result) => result.publishedTo)).toEqual(
        Array.from({ length: 64 }, () => []),
      );
    } finally {
      gate.releaseReplies();
      on.close();
      await moduleRef.close();
      await gate.close();
    }
  }, 60_000);

  it('a keyed dispatch split across script calls, Redis frozen between two of them: the retry stores only what is left', async () => {
    const ids = Array.from({ length: 40 }, (_, k) => `far-${k}`);
    const text = mesaBacklogText(1_048_576 - 4_000);
    for (const id of ids) await db.hset('undelivered_messages', id, text);
    const { moduleRef, dispatcher } = await createMesaModule(
      { url: redis.url, sync: { enabled: true }, dispatchTimeout: 1_000 },
      { logger: false },
    );
    const on = await MesaUser.connect(mesa.url(), 'on');
    await poll(async () => (await db.sismember('connected_clients', 'on')) === 1, 5_000, 'on online');
    const copies = async (id: string) => ((await db.hget('undelivered_messages', id)) ?? '').split('"t":"SPLIT"').length - 1;
    const send = () => dispatcher.dispatch(new Message(0, { n: 1 }, 'SPLIT', { idempotencyKey: 'split-1' }), ['on', ...ids]);
    try {
      const first = send().catch((error: MesaDispatchError) => error);
      await poll(async () => (await copies(ids[10])) === 1, 10_000, 'a continuation call to store');
      redis.pause();
      const failure = await first;
      redis.resume();
      expect(failure).toBeInstanceOf(MesaDispatchError);
      expect((failure as MesaDispatchError).mayHaveBeenPublished).toBe(true);
      const before = await Promise.all(ids.map(copies));
      expect(before.filter((count) => count === 0).length).toBeGreaterThan(0);

      const retried = await send();
      const again = await send();

      expect(retried).toMatchObject({ publishedTo: [], receivers: 0, duplicate: true });
      expect(retried.storedFor.length).toBeGreaterThan(0);
      expect(again).toEqual({ recipients: ['on', ...ids], publishedTo: [], storedFor: [], receivers: 0, duplicate: true });
      // every offline user has the message once; what the retry stored is exactly what the first try had not
      expect(await Promise.all(ids.map(copies))).toEqual(ids.map(() => 1));
      expect(retried.storedFor.sort()).toEqual(ids.filter((_, k) => before[k] === 0).sort());
      // the online user got it once, from the first try
      expect((await spy.received()).filter((e) => e.message.t === 'SPLIT').map((e) => e.recipients)).toEqual([['on']]);
      await on.waitFor((user) => user.of('SPLIT').length === 1);
      await on.quietFor(300);
      expect(on.of('SPLIT')).toHaveLength(1);
      expect(await db.smembers('nestjs_mesa_idempotency:default:split-1')).toEqual(['']);
    } finally {
      redis.resume();
      on.close();
      await moduleRef.close();
    }
  }, 60_000);
});
