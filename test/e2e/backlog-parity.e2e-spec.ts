import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { StoredBacklog } from '../../lib/backlog/stored-backlog.js';
import { BACKLOG_SWEEP_SCRIPT } from '../../lib/redis/backlog-sweep.script.js';
import { DISPATCH_BATCH_SCRIPT } from '../../lib/redis/dispatch-batch.script.js';
import { Message, RecordingDispatcher, type DispatchResult, type MesaModuleForRootOptions } from '../../lib/index.js';
import { createMesaModule } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';
import { withoutCount } from '../support/stored-backlog.js';

const NO_SCRIPTS = ['--rename-command', 'EVAL', '', '--rename-command', 'EVALSHA', ''];
const LONG = 60_000;
const SHORT = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One step of a case: a dispatch of message `n` (its ttl, its padding) to `to`, or a pause. */
type Step = { n: number; ttl: number; to?: string[]; pad?: string } | { sleep: number };

/** The same caps and expiry rule in three places: the batch script, its WATCH/MULTI fallback, RecordingDispatcher. */
const CASES: Array<{ name: string; caps: Pick<MesaModuleForRootOptions, 'maxStoredPerUser' | 'maxStoredBytesPerUser'>; steps: Step[] }> = [
  {
    // issue 17's case: #4 and #5 expired in the middle of a full backlog
    name: 'count cap 5, messages 4 and 5 expired in the middle',
    caps: { maxStoredPerUser: 5 },
    steps: [
      ...[1, 2, 3].map((n) => ({ n, ttl: LONG })),
      ...[4, 5].map((n) => ({ n, ttl: SHORT })),
      { sleep: SHORT + 200 },
      ...[6, 7, 8, 9].map((n) => ({ n, ttl: LONG })),
    ],
  },
  {
    name: 'byte cap, expiries out of order, multi-byte text',
    caps: { maxStoredBytesPerUser: 700 },
    steps: [
      { n: 1, ttl: LONG, pad: 'é'.repeat(60) },
      { n: 2, ttl: SHORT, pad: 'ü'.repeat(60) },
      { n: 3, ttl: LONG, pad: 'a'.repeat(100) },
      { n: 4, ttl: SHORT, pad: '€'.repeat(30) },
      { n: 5, ttl: LONG, pad: 'b'.repeat(100) },
      { sleep: SHORT + 200 },
      { n: 6, ttl: LONG, pad: 'c'.repeat(150) },
      { n: 7, ttl: LONG, pad: 'd'.repeat(200), to: ['u', 'v'] },
      { n: 8, ttl: LONG, pad: 'ö'.repeat(120) },
    ],
  },
  {
    name: 'both caps, everything expired then a message over the byte cap',
    caps: { maxStoredPerUser: 3, maxStoredBytesPerUser: 400 },
    steps: [
      ...[1, 2, 3, 4].map((n) => ({ n, ttl: SHORT })),
      { sleep: SHORT + 200 },
      { n: 5, ttl: LONG, pad: 'z'.repeat(500) },
      { n: 6, ttl: LONG },
      { n: 7, ttl: SHORT },
      { n: 8, ttl: LONG },
    ],
  },
];

/** A dispatcher under test, and how to read what it stores for a user as Mesa would redeliver it. */
interface Place {
  name: string;
  dispatch(message: Message, to: string[]): Promise<DispatchResult>;
  stored(id: string): Promise<Array<{ t?: string; d: { n: number } }>>;
  close(): Promise<void>;
}

describe('the cap, expiry and idempotency rules: the script, the fallback and the double agree', () => {
  let withLua: RedisServer;
  let withoutLua: RedisServer;
  let mesa: MesaCluster;
  let dbs: Redis[];

  beforeAll(async () => {
    withLua = await RedisServer.start();
    withoutLua = await RedisServer.start(NO_SCRIPTS);
    mesa = await MesaCluster.start({ redisUrl: withLua.url, replicas: 1, sync: true });
    dbs = [withLua.client(), withoutLua.client()];
  });
  afterEach(() => Promise.all(dbs.map((db) => db.flushall())));
  afterAll(async () => {
    dbs.forEach((db) => db.disconnect());
    await mesa.stop();
    await withLua.stop();
    await withoutLua.stop();
  });

  const inRedis = async (name: string, redis: RedisServer, db: Redis, caps: object): Promise<Place> => {
    const sync = { enabled: true, sweepInterval: 600_000 };
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync, ...caps }, { logger: false });
    return {
      name,
      dispatch: (message, to) => dispatcher.dispatch(message, to),
      stored: async (id) => withoutCount(JSON.parse((await db.hget('undelivered_messages', id)) ?? '[]')),
      close: () => moduleRef.close(),
    };
  };
  const double = (options: object): Place => {
    const recording = new RecordingDispatcher({ sync: { enabled: true, sweepInterval: 600_000 }, ...options });
    return {
      name: 'RecordingDispatcher',
      dispatch: (message, to) => recording.dispatch(message, to),
      stored: async (id) => recording.storedFor(id) as Array<{ t?: string; d: { n: number } }>,
      close: async () => undefined,
    };
  };

  it.each(CASES)('$name', async ({ caps, steps }) => {
    const places = [
      await inRedis('batch script', withLua, dbs[0], caps),
      await inRedis('WATCH/MULTI fallback', withoutLua, dbs[1], caps),
      double(caps),
    ];
    try {
      const results: Array<Array<Pick<DispatchResult, 'storedFor' | 'dropped' | 'expired'>>> = places.map(() => []);
      for (const step of steps) {
        if ('sleep' in step) {
          await sleep(step.sleep);
          continue;
        }
        const message = () => new Message(0, { n: step.n, ...(step.pad ? { pad: step.pad } : {}) }, 'NOTE', { ttl: step.ttl });
        const answers = await Promise.all(places.map((place) => place.dispatch(message(), step.to ?? ['u'])));
        answers.forEach(({ storedFor, dropped, expired }, k) => results[k].push({ storedFor, dropped, expired }));
      }
      const kept = await Promise.all(places.map(async (place) => (await place.stored('u')).map((message) => message.d.n)));

      expect({ [places[1].name]: results[1], [places[2].name]: results[2] }).toEqual({
        [places[1].name]: results[0],
        [places[2].name]: results[0],
      });
      expect(kept).toEqual([kept[0], kept[0], kept[0]]);
      // the fallback writes the script's format byte for byte (expiry times aside)
      const texts = await Promise.all(dbs.map(async (db) => (await db.hget('undelivered_messages', 'u'))?.replace(/\d{13}/g, '<ms>')));
      expect(texts[1]).toEqual(texts[0]);
      // what a real Mesa server redelivers: never an expired message while unexpired ones were dropped
      const user = await MesaUser.connect(mesa.url(), 'u');
      try {
        await user.waitFor((u) => u.of('NOTE').length === kept[0].length, 5_000, 'the backlog redelivered');
        await user.quietFor(200);
        expect(user.of('NOTE').map((message) => message.d.n)).toEqual(kept[0]);
      } finally {
        user.close();
      }
    } finally {
      for (const place of places) await place.close();
    }
  });

  it.each([
    ['over the count cap', { maxStoredPerUser: 4 }, 10],
    ['over the byte cap', { maxStoredBytesPerUser: 600 }, 12],
    ['within the caps, with expiring messages of an older version', {}, 3],
  ])('a backlog another writer left, %s, is taken over alike by the script and the fallback', async (_what, caps, size) => {
    const old = (n: number) => ({
      ...(size === 3 ? { x: Date.now() + (n === 1 ? -1_000 : LONG) } : {}),
      op: 0,
      d: { n, pad: 'é'.repeat(20) },
      t: 'OLD',
    });
    const text = JSON.stringify(Array.from({ length: size }, (_, n) => old(n)));
    const places = [await inRedis('batch script', withLua, dbs[0], caps), await inRedis('WATCH/MULTI fallback', withoutLua, dbs[1], caps)];
    try {
      const results = [];
      for (const [k, place] of places.entries()) {
        await dbs[k].hset('undelivered_messages', 'u', text);
        const { storedFor, dropped, expired } = await place.dispatch(new Message(0, { n: 99 }, 'NOTE', { ttl: LONG }), ['u']);
        results.push({ storedFor, dropped, expired, kept: (await place.stored('u')).map((message) => message.d.n) });
      }
      expect(results[1]).toEqual(results[0]);
      const texts = await Promise.all(dbs.map(async (db) => (await db.hget('undelivered_messages', 'u'))?.replace(/\d{13}/g, '<ms>')));
      expect(texts[1]).toEqual(texts[0]);
    } finally {
      for (const place of places) await place.close();
    }
  });

  it('random appends (1 to 3 per call) with expiries past or far ahead, in any order: the script, its sweep and StoredBacklog write the same text', async () => {
    const db = dbs[0];
    const message = fc.record({
      n: fc.nat(99),
      pad: fc.constantFrom('', 'é', 'abc,]"}', '\\"'),
      expiry: fc.oneof(
        fc.constant(0),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 4_000_000_000_000, max: 4_000_001_000_000 }),
      ),
    });
    const foreign = fc.option(fc.array(fc.record({ op: fc.constant(0), d: fc.nat(9), t: fc.constant('OLD') }), { maxLength: 6 }));
    const calls = fc.array(fc.array(message, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 10 });
    await fc.assert(
      fc.asyncProperty(calls, foreign, fc.nat(5), fc.constantFrom(0, 400), async (steps, left, maxCount, maxBytes) => {
        await db.del('undelivered_messages');
        let text: string | undefined = left ? JSON.stringify(left) : undefined;
        if (text) await db.hset('undelivered_messages', 'u', text);
        for (const messages of steps) {
          const jsons = messages.map(({ n, pad }) => JSON.stringify({ op: 0, d: { n, pad }, t: 'T' }));
          const args = ['ws', 'e', String(maxCount), String(maxBytes), '0', 'c', '1000'];
          messages.forEach(({ expiry }, k) => args.push('s', jsons[k], expiry ? `@${expiry}` : '0', ...(k === 0 ? ['1', 'u'] : ['=1'])));
          const replies = (await db.eval(DISPATCH_BATCH_SCRIPT, 3, 'connected_clients', 'undelivered_messages', 'held', ...args)) as Array<
            [number, number, string, Array<string | number>?, Array<string | number>?]
          >;
          const backlog = StoredBacklog.load(text, { maxCount, maxBytes })!;
          backlog.removeExpired(Date.now());
          const expected = messages.map(({ expiry }, k) => {
            const dropped = backlog.append(jsons[k], expiry || undefined);
            const expired = backlog.expired;
            backlog.expired = 0;
            return { dropped, expired };
          });
          text = backlog.text();
          expect(
            replies
              .slice(0, messages.length)
              .map(([, , , dropped, expired]) => ({ dropped: dropped?.[1] ?? 0, expired: expired?.[1] ?? 0 })),
          ).toEqual(expected);
          expect((await db.hget('undelivered_messages', 'u')) ?? undefined).toEqual(text);
        }
        // and a sweep step removes the expired messages the way StoredBacklog does
        const swept = StoredBacklog.load(text, { maxCount, maxBytes });
        swept?.removeExpired(Date.now());
        const [, removed] = (await db.eval(
          BACKLOG_SWEEP_SCRIPT,
          2,
          'undelivered_messages',
          'parity-lock',
          'me',
          '1000',
          '0',
          '100',
          '10000000',
        )) as [string, number];
        expect(removed).toBe(swept?.expired ?? 0);
        expect((await db.hget('undelivered_messages', 'u')) ?? undefined).toEqual(swept && swept.expired > 0 ? swept.text() : text);
      }),
      { numRuns: 150 },
    );
  });

  it('the idempotency rule: the same key within the window is a duplicate, first wins in a batch, forgotten after the window; alike in all three', async () => {
    const window = 400;
    const idempotency = { idempotency: { window } };
    const places = [
      await inRedis('batch script', withLua, dbs[0], idempotency),
      await inRedis('WATCH/MULTI fallback', withoutLua, dbs[1], idempotency),
      double(idempotency),
    ];
    const note = (n: number, key: string) => new Message(0, { n }, 'NOTE', { idempotencyKey: key });
    try {
      const results = await Promise.all(
        places.map(async (place) => {
          const seen: Array<Pick<DispatchResult, 'storedFor' | 'duplicate'>> = [];
          const send = async (...sends: Array<[number, string]>) => {
            for (const { storedFor, duplicate } of await Promise.all(sends.map(([n, key]) => place.dispatch(note(n, key), ['u'])))) {
              seen.push({ storedFor, duplicate });
            }
          };
          await send([1, 'a']);
          await send([2, 'a']);
          await send([3, 'b'], [4, 'c'], [5, 'c']);
          await sleep(window + 150);
          await send([6, 'a'], [7, 'b']);
          return { seen, kept: (await place.stored('u')).map((message) => message.d.n) };
        }),
      );
      expect(results[0]).toEqual({
        seen: [
          { storedFor: ['u'], duplicate: undefined },
          { storedFor: [], duplicate: true },
          { storedFor: ['u'], duplicate: undefined },
          { storedFor: ['u'], duplicate: undefined },
          { storedFor: [], duplicate: true },
          { storedFor: ['u'], duplicate: undefined },
          { storedFor: ['u'], duplicate: undefined },
        ],
        kept: [1, 3, 4, 6, 7],
      });
      expect(results).toEqual([results[0], results[0], results[0]]);
      const texts = await Promise.all(dbs.map(async (db) => (await db.hget('undelivered_messages', 'u'))?.replace(/\d{13}/g, '<ms>')));
      expect(texts[1]).toEqual(texts[0]);
      expect(await Promise.all(dbs.map((db) => db.smembers('nestjs_mesa_idempotency:default:a')))).toEqual([[''], ['']]);
    } finally {
      for (const place of places) await place.close();
    }
  });

  it('a key whose earlier attempt left stores undone: the script and the fallback make only those, and the key is done', async () => {
    const places = [await inRedis('batch script', withLua, dbs[0], {}), await inRedis('WATCH/MULTI fallback', withoutLua, dbs[1], {})];
    const key = 'nestjs_mesa_idempotency:default:cut-short';
    try {
      const results = [];
      for (const [k, place] of places.entries()) {
        // as the script leaves it when a dispatch to w, x, y stored for w and its continuations never ran
        await dbs[k].sadd(key, '', 'x', 'y');
        const retried = await place.dispatch(new Message(0, { n: 1 }, 'NOTE', { idempotencyKey: 'cut-short' }), ['w', 'x', 'y']);
        const again = await place.dispatch(new Message(0, { n: 1 }, 'NOTE', { idempotencyKey: 'cut-short' }), ['w', 'x', 'y']);
        results.push({ retried, again, key: await dbs[k].smembers(key), w: await place.stored('w'), y: await place.stored('y') });
      }
      expect(results[0]).toEqual({
        retried: { recipients: ['w', 'x', 'y'], publishedTo: [], storedFor: ['x', 'y'], receivers: 0, duplicate: true },
        again: { recipients: ['w', 'x', 'y'], publishedTo: [], storedFor: [], receivers: 0, duplicate: true },
        key: [''],
        w: [],
        y: [{ op: 0, d: { n: 1 }, t: 'NOTE', o: { sync: true } }], // the key itself is never stored
      });
      expect(results[1]).toEqual(results[0]);
    } finally {
      for (const place of places) await place.close();
    }
  });

  it('issue 17: with a cap of 5 the backlog keeps #1 #2 #3 #6 #7, not #3 #4(expired) #5(expired) #6 #7', async () => {
    const place = await inRedis('batch script', withLua, dbs[0], { maxStoredPerUser: 5 });
    try {
      const note = (n: number, ttl: number) => new Message(0, { n }, 'NOTE', { ttl });
      for (const n of [1, 2, 3]) await place.dispatch(note(n, LONG), ['u']);
      for (const n of [4, 5]) await place.dispatch(note(n, SHORT), ['u']);
      await sleep(SHORT + 200);
      const sixth = await place.dispatch(note(6, LONG), ['u']);
      const seventh = await place.dispatch(note(7, LONG), ['u']);

      expect([sixth.expired, sixth.dropped, seventh.expired, seventh.dropped]).toEqual([{ u: 2 }, undefined, undefined, undefined]);
      expect((await place.stored('u')).map((message) => message.d.n)).toEqual([1, 2, 3, 6, 7]);
    } finally {
      await place.close();
    }
  });
});
