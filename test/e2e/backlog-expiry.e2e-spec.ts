import type { Redis } from 'ioredis';
import { Message, MesaBacklogSweeper, MesaValidationError, type DispatcherService } from '../../lib/index.js';
import { createMesaModule, eventually } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';
import { withoutCount } from '../support/stored-backlog.js';

const note = (n: number, options?: { ttl?: number }) => new Message(0, { n }, 'NOTE', options);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stored messages expire: `sync.ttl`, a message's `ttl`, removal on append and by one sweeper across instances. */
describe('stored-message expiry (real Redis, real Mesa with sync)', () => {
  let redis: RedisServer;
  let mesa: MesaCluster;
  let db: Redis;
  const closers: Array<() => Promise<unknown>> = [];
  const stored = async (id: string) => withoutCount(JSON.parse((await db.hget('undelivered_messages', id)) ?? '[]'));

  beforeAll(async () => {
    redis = await RedisServer.start();
    mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 1, sync: true });
    db = redis.client();
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await db.flushall();
  });
  afterAll(async () => {
    db.disconnect();
    await mesa.stop();
    await redis.stop();
  });
  const app = async (sync: object, extra: object = {}) => {
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync: { enabled: true, ...sync }, ...extra });
    closers.push(() => moduleRef.close());
    return { moduleRef, dispatcher };
  };

  it('a user who comes back after the TTL gets nothing expired from a real Mesa server; a message with its own longer ttl still arrives', async () => {
    const { dispatcher } = await app({ ttl: 300, sweepInterval: 100 });
    await dispatcher.dispatch(note(1), ['late']);
    await dispatcher.dispatch(note(2, { ttl: 60_000 }), ['late']);
    const stored2 = await stored('late');
    expect(stored2.map((m) => [m.d.n, typeof m.x])).toEqual([
      [1, 'number'],
      [2, 'number'],
    ]);
    const started = Date.now();
    await eventually(async () => (await stored('late')).length === 1, 3_000, 'the expired message swept');
    // swept after its expiry (300 ms), within one sweepInterval (100 ms) and a pass
    expect(Date.now() - started).toBeLessThan(300 + 100 + 1_000);
    const user = await MesaUser.connect(mesa.url(), 'late');
    closers.push(async () => user.close());
    await user.waitFor((u) => u.of('NOTE').length === 1, 5_000, 'the live message redelivered');
    await user.quietFor(300);
    expect(user.of('NOTE').map((m) => [m.s, m.d])).toEqual([[1, { n: 2 }]]);
  });

  it('appending to a backlog removes its expired head and reports it in the result (no sweep needed)', async () => {
    const { dispatcher } = await app({ ttl: 150, sweepInterval: 600_000 });
    await dispatcher.dispatch(note(1), ['away']);
    await dispatcher.dispatch(note(2), ['away']);
    await sleep(250);
    const result = await dispatcher.dispatch(note(3), ['away', 'other']);
    expect(result.expired).toEqual({ away: 2 });
    expect((await stored('away')).map((m) => m.d.n)).toEqual([3]);
  });

  it('refuses a message ttl when no sweep runs, naming the fix; without sync a ttl changes nothing', async () => {
    const { dispatcher } = await app({});
    await expect(dispatcher.dispatch(note(1, { ttl: 1_000 }), ['away'])).rejects.toThrow(MesaValidationError);
    await expect(dispatcher.dispatch(note(1, { ttl: 1_000 }), ['away'])).rejects.toThrow(/set sync\.ttl or sync\.sweepInterval/);
    await expect(dispatcher.dispatch(note(1, { ttl: 0 }), ['away'])).rejects.toThrow(/ttl option must be a positive whole number/);
    const { dispatcher: plain } = await createMesaModule({ url: redis.url });
    closers.push(() => plain.onApplicationShutdown());
    await expect(plain.dispatch(note(1, { ttl: 1_000 }), ['away'])).resolves.toMatchObject({ publishedTo: ['away'] });
  });

  it('one sweeper across instances: the lock holder sweeps, the other stands by, and takes over when the holder shuts down', async () => {
    const first = await app({ ttl: 100, sweepInterval: 600_000 });
    const second = await app({ ttl: 100, sweepInterval: 600_000 });
    const sweepers = [first, second].map(({ moduleRef }) => moduleRef.get(MesaBacklogSweeper));
    const dispatchers: DispatcherService[] = [first.dispatcher, second.dispatcher];
    await dispatchers[0].dispatch(note(1), ['u1']);
    await sleep(150);
    const [a, b] = await Promise.all(sweepers.map((sweeper) => sweeper.sweep()));
    expect([a.swept, b.swept].sort()).toEqual([false, true]);
    expect(a.removed + b.removed).toBe(1);
    const holder = a.swept ? 0 : 1;
    expect(await db.get('nestjs_mesa_sweep_lock')).toBe((sweepers[holder] as unknown as { token: string }).token);

    await [first, second][holder].moduleRef.close();
    closers.splice(holder, 1);
    expect(await db.exists('nestjs_mesa_sweep_lock')).toBe(0);
    await dispatchers[1 - holder].dispatch(note(2), ['u2']);
    await sleep(150);
    expect(await sweepers[1 - holder].sweep()).toEqual({ removed: 1, users: 1, swept: true });
    expect(await db.hexists('undelivered_messages', 'u2')).toBe(0);
  });

  it('the sweep rewrites only what expired, keeps Mesa-written messages and the count, and leaves non-arrays alone', async () => {
    const { moduleRef, dispatcher } = await app({ ttl: 100, sweepInterval: 600_000 });
    const tricky = { text: '{"x":1,"op":0} , ] [ "\\', nested: [{ x: 1 }] };
    await db.hset('undelivered_messages', 'mixed', JSON.stringify([{ op: 0, d: tricky, t: 'MESA' }]));
    await dispatcher.dispatch(note(1), ['mixed']);
    await dispatcher.dispatch(new Message(0, tricky, 'KEEP', { ttl: 60_000 }), ['mixed']);
    await db.hset('undelivered_messages', 'odd', '{"not":"an array","x":1}');
    await sleep(150);
    expect(await moduleRef.get(MesaBacklogSweeper).sweep()).toMatchObject({ removed: 1, users: 1 });
    const raw = JSON.parse((await db.hget('undelivered_messages', 'mixed'))!);
    expect(raw.at(-1).n).toBe(2);
    expect(withoutCount(raw).map((m) => [m.t, m.d])).toEqual([
      ['MESA', tricky],
      ['KEEP', tricky],
    ]);
    expect(await db.hget('undelivered_messages', 'odd')).toBe('{"not":"an array","x":1}');
  });
});
