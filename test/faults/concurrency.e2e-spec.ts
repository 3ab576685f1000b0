import type { TestingModule } from '@nestjs/testing';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { Message, type DispatcherService, type DispatchResult } from '../../lib/index.js';
import { createMesaModule, eventually } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';
import { Recorder } from './support/recorder.js';
import { verbose } from '../support/verbose.js';

const USERS = 100;
const PER_USER = 100;
const STORM = 2_000;

describe('concurrency: sync stores under load lose nothing and keep per-user order', () => {
  let redis: RedisServer;
  let moduleRef: TestingModule;
  let dispatcher: DispatcherService;
  let db: Redis;
  beforeAll(async () => {
    redis = await RedisServer.start();
    ({ moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync: { enabled: true }, maxStoredPerUser: Infinity }));
    db = redis.client();
  });
  afterAll(async () => {
    db?.disconnect();
    await moduleRef?.close();
    await redis?.stop();
  });

  const backlog = async (id: string) =>
    (JSON.parse((await db.hget('undelivered_messages', id)) ?? '[]') as Array<{ d: { n: number } }>).map((m) => m.d.n);

  it(`${USERS * PER_USER} concurrent dispatches over ${USERS} offline users and a storm of ${STORM} to one: all stored, in call order; a real Mesa server redelivers them with s = 1..N`, async () => {
    const pending: Array<Promise<DispatchResult>> = [];
    let storm = 0;
    for (let i = 0; i < USERS * PER_USER; i++) {
      pending.push(dispatcher.dispatch(new Message(0, { n: i }, 'CONCURRENT'), [`user-${i % USERS}`]));
      if (i % 5 === 0) pending.push(dispatcher.dispatch(new Message(0, { n: storm++ }, 'STORM'), ['storm']));
    }
    const startedAt = Date.now();
    const results = await Promise.all(pending);
    verbose(`${pending.length} concurrent sync dispatches settled in ${Date.now() - startedAt} ms`);

    expect(results.filter((r) => r.storedFor.length !== 1 || r.publishedTo.length !== 0)).toEqual([]);
    expect(await db.hlen('undelivered_messages')).toBe(USERS + 1);
    for (let u = 0; u < USERS; u++) {
      expect({ user: u, stored: await backlog(`user-${u}`) }).toEqual({
        user: u,
        stored: Array.from({ length: PER_USER }, (_, k) => u + k * USERS),
      });
    }
    expect(await backlog('storm')).toEqual(Array.from({ length: STORM }, (_, k) => k));

    const mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 2, sync: true });
    const users: MesaUser[] = [];
    try {
      const sampled = ['user-0', 'user-57', 'user-99', 'storm'];
      for (const [index, id] of sampled.entries()) users.push(await MesaUser.connect(mesa.url(index), id));
      for (const user of users) {
        const type = user.id === 'storm' ? 'STORM' : 'CONCURRENT';
        const count = user.id === 'storm' ? STORM : PER_USER;
        await user.waitFor((u) => u.of(type).length === count, 15_000, `${count} redelivered to ${user.id}`);
        const u = Number(user.id.split('-')[1]);
        expect(user.of(type).map((m) => [m.s, m.d.n])).toEqual(
          Array.from({ length: count }, (_, k) => [k + 1, user.id === 'storm' ? k : u + k * USERS]),
        );
      }
      await eventually(
        async () => (await db.hlen('undelivered_messages')) === USERS + 1 - sampled.length,
        5_000,
        'redelivered backlogs cleared',
      );
    } finally {
      users.forEach((user) => user.close());
      await mesa.stop();
      await db.del('undelivered_messages');
    }
  }, 60_000);

  /*
   * Model-based property: random rounds; before each round the online set changes; within a round,
   * dispatches (random recipients with duplicates, random excluding, some { sync: false }) are issued
   * concurrently, some in the same tick and some in later ones. What was published (in order) and what
   * each offline user has stored must be exactly what the rules say, in call order.
   */
  it('property: under any interleaving, publishes and backlogs are exactly the model’s, in call order', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const dispatchArb = fc.record({
      recipients: fc.array(fc.constantFrom(...ids), { minLength: 1, maxLength: 6 }),
      excluding: fc.option(fc.subarray(ids), { nil: undefined }),
      storable: fc.boolean(),
      laterTick: fc.boolean(),
    });
    const roundArb = fc.record({ online: fc.subarray(ids), dispatches: fc.array(dispatchArb, { minLength: 1, maxLength: 25 }) });
    const recorder = await Recorder.listen({ host: '127.0.0.1', port: redis.port });
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(roundArb, { minLength: 1, maxLength: 4 }), async (rounds) => {
          await db.del('undelivered_messages', 'connected_clients');
          recorder.clear();
          const published: Array<{ n: number; recipients: string[] }> = [];
          const stored = new Map<string, number[]>();
          const expectedResults: Array<{ publishedTo: string[]; storedFor: string[] }> = [];
          const results: Array<Promise<DispatchResult>> = [];
          let n = 0;
          for (const round of rounds) {
            await db.del('connected_clients');
            if (round.online.length) await db.sadd('connected_clients', ...round.online);
            for (const spec of round.dispatches) {
              const wanted = [...new Set(spec.recipients)].filter((id) => !spec.excluding?.includes(id));
              const live = spec.storable ? wanted.filter((id) => round.online.includes(id)) : wanted;
              const offline = spec.storable ? wanted.filter((id) => !round.online.includes(id)) : [];
              if (live.length) published.push({ n, recipients: live });
              for (const id of offline) stored.set(id, [...(stored.get(id) ?? []), n]);
              expectedResults.push({ publishedTo: live, storedFor: offline });
              if (spec.laterTick) await Promise.resolve();
              const message = spec.storable ? new Message(0, { n }, 'MODEL') : new Message(0, { n }, 'MODEL', { sync: false });
              results.push(dispatcher.dispatch(message, spec.recipients, spec.excluding));
              n++;
            }
            await Promise.all(results);
          }
          expect((await Promise.all(results)).map(({ publishedTo, storedFor }) => ({ publishedTo, storedFor }))).toEqual(expectedResults);
          await recorder.waitForAll(published.map((p) => p.n));
          expect(recorder.envelopes.map((e) => ({ n: e.message.d.n, recipients: e.recipients }))).toEqual(published);
          const backlogs = Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await backlog(id)])));
          expect(backlogs).toEqual(Object.fromEntries(ids.map((id) => [id, stored.get(id) ?? []])));
        }),
        { numRuns: 40 },
      );
    } finally {
      recorder.close();
      await db.del('undelivered_messages', 'connected_clients');
    }
  }, 60_000);
});
