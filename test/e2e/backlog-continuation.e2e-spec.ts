import type { Redis } from 'ioredis';
import { Message, type DispatchResult } from '../../lib/index.js';
import { createMesaModule } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';
import { mesaBacklogText, withoutCount } from '../support/stored-backlog.js';

const CAP = 1_048_576;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A dispatch whose stores would rewrite more than one call's budget of backlogs is finished in continuation calls
 * (see `dispatch-batch.script.ts`). Batches the module pipelines meanwhile must not overtake it, and a user is
 * checked for being online in the very call that stores for it.
 */
describe('stores finished in further script calls (real Redis, real Mesa with sync)', () => {
  let redis: RedisServer;
  let mesa: MesaCluster;
  let db: Redis;
  let monitor: Redis | undefined;
  /** The batch script calls and SADDs Redis ran since {@link watch}, in order (MONITOR), arguments cut to 200 characters. */
  let ran: string[][] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 1, sync: true });
    db = redis.client();
  });
  afterEach(async () => {
    monitor?.disconnect();
    monitor = undefined;
    ran = [];
    await db.flushall();
  });
  afterAll(async () => {
    db.disconnect();
    await mesa.stop();
    await redis.stop();
  });

  const watch = async () => {
    const client = redis.client();
    monitor = await client.monitor();
    client.disconnect();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0] === 'evalsha' || args[0] === 'sadd' || args[0] === 'echo') ran.push(args.map((arg) => arg.slice(0, 200)));
    });
  };
  /** Waits until MONITOR has reported every command run so far. */
  const caughtUp = async () => {
    const fence = `fence-${Date.now()}-${Math.random()}`;
    await db.echo(fence);
    while (!ran.some((args) => args[0] === 'echo' && args[1] === fence)) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  const seedAtCap = async (ids: string[]) => {
    const text = mesaBacklogText(CAP - 4_000);
    for (const id of ids) await db.hset('undelivered_messages', id, text);
  };
  const stored = async (id: string) => withoutCount(JSON.parse((await db.hget('undelivered_messages', id))!));
  /** The batch script calls that carried `marker` (a message's JSON), in the order Redis ran them. */
  const scriptCallsWith = (marker: string) => ran.filter((args) => args[0] === 'evalsha' && args.some((arg) => arg.includes(marker)));

  it('two dispatches to the same offline user at the cap, with batches pipelined in between, are stored and redelivered in call order', async () => {
    const ids = Array.from({ length: 12 }, (_, k) => `deep-${k}`);
    const [first, last] = [ids[0], ids[11]];
    await seedAtCap(ids);
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync: { enabled: true } });
    try {
      await dispatcher.dispatch(new Message(0, { n: 0 }, 'ROOM'), ids);
      await watch();

      // one batch per turn: 2 to 5 reach Redis while the stores of 1 are still deferred
      const pending: Array<Promise<DispatchResult>> = [dispatcher.dispatch(new Message(0, { n: 1 }, 'ROOM'), ids)];
      const later: Array<[number, string[], object?]> = [
        [2, [last]],
        [3, [last], { sync: false }],
        [4, [first, last]],
        [5, [last]],
      ];
      for (const [n, to, options] of later) {
        await nextTurn();
        pending.push(dispatcher.dispatch(new Message(0, { n }, 'NEXT', options), to));
      }
      const results = await Promise.all(pending);
      await caughtUp();

      expect(results.map((result) => result.storedFor)).toEqual([ids, [last], [], [first, last], [last]]);
      // dispatch 1 took several calls; dispatch 2 was held by the first of them, then sent again after the last
      const calls = (marker: string) => scriptCallsWith(marker).map((args) => ran.indexOf(args));
      const one = calls('{"op":0,"d":{"n":1},"t":"ROOM"}');
      const two = calls('{"op":0,"d":{"n":2},"t":"NEXT"}');
      expect(one.length).toBeGreaterThan(2);
      expect(two).toHaveLength(2);
      expect(two[0]).toBeLessThan(one.at(-1)!);
      expect(two[1]).toBeGreaterThan(one.at(-1)!);
      const newest = (messages: any[], count: number) => messages.slice(-count).map((message) => [message.t, message.d.n]);
      expect(newest(await stored(last), 5)).toEqual([
        ['ROOM', 0],
        ['ROOM', 1],
        ['NEXT', 2],
        ['NEXT', 4],
        ['NEXT', 5],
      ]);
      expect(newest(await stored(first), 3)).toEqual([
        ['ROOM', 0],
        ['ROOM', 1],
        ['NEXT', 4],
      ]);
      const user = await MesaUser.connect(mesa.url(), last);
      try {
        await user.waitFor((u) => u.of('NEXT').length === 3, 20_000, 'the whole backlog redelivered');
        expect(user.received.map((message) => message.s)).toEqual(user.received.map((_, k) => k + 1));
        expect(user.received.slice(-5).map((message) => [message.t, message.d.n])).toEqual([
          ['ROOM', 0],
          ['ROOM', 1],
          ['NEXT', 2],
          ['NEXT', 4],
          ['NEXT', 5],
        ]);
      } finally {
        user.close();
      }
    } finally {
      await moduleRef.close();
    }
  });

  it('a deferred user who comes online before its store is published to, not stored for', async () => {
    const ids = Array.from({ length: 40 }, (_, k) => `wide-${k}`);
    const late = ids[39];
    await seedAtCap(ids);
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync: { enabled: true } });
    let user: MesaUser | undefined;
    try {
      await dispatcher.dispatch(new Message(0, { n: 0 }, 'ROOM'), ids);
      await watch();
      const marker = '{"op":0,"d":{"n":1},"t":"ROOM"}';
      // the user signs in on a real Mesa server as soon as the dispatch's first call has run
      let signingIn: Promise<MesaUser> | undefined;
      const onCommand = (_time: string, args: string[]) => {
        if (!signingIn && args[0] === 'evalsha' && args.includes(marker)) signingIn = MesaUser.connect(mesa.url(), late);
      };
      monitor!.on('monitor', onCommand);

      const result = await dispatcher.dispatch(new Message(0, { n: 1 }, 'ROOM'), ids);
      await caughtUp();
      user = await signingIn!;

      // it was offline when the first call ran (Mesa marked it online after that call, before the last one)
      const calls = scriptCallsWith(marker).map((args) => ran.indexOf(args));
      const online = ran.findIndex((args) => args[0] === 'sadd' && args.includes(late));
      expect(calls.length).toBeGreaterThan(2);
      expect(online).toBeGreaterThan(calls[0]);
      expect(online).toBeLessThan(calls.at(-1)!);
      expect(result.publishedTo).toEqual([late]);
      expect(result.storedFor).toEqual(ids.slice(0, 39));
      await user.waitFor((u) => u.of('ROOM').some((message) => message.d.n === 1 && message.s === undefined), 10_000, 'the live message');
      expect(await db.hexists('undelivered_messages', late)).toBe(0);
    } finally {
      user?.close();
      await moduleRef.close();
    }
  });
});
