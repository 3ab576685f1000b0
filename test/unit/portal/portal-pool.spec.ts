import type { Redis } from 'ioredis';
import { PortalPool, type PortalHeartbeat } from '../../../lib/portal/portal-pool.js';
import { mesaRedisNames } from '../../../lib/redis/mesa-redis-names.js';
import { eventually } from '../../support/mesa-app.js';
import { RedisServer } from '../../support/redis-server.js';

const names = mesaRedisNames('unit');
const TTL = 3_000;

/** PortalPool's membership, heartbeats, announcements and reaping, against a real redis-server (no Mesa server). */
describe('PortalPool', () => {
  let redis: RedisServer;
  let db: Redis;
  let listener: Redis;
  let announced: string[];
  const clients: Redis[] = [];
  const pools: PortalPool[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    db = redis.client();
    listener = redis.client();
    listener.on('message', (_channel: string, text: string) => announced.push(text));
    await listener.subscribe(names.portalPool);
  });
  beforeEach(async () => {
    announced = [];
    await announcements(); // what the pools of the test before announced as they closed
    announced = [];
    await db.flushall();
  });
  afterEach(async () => {
    for (const pool of pools.splice(0)) await pool.close().catch(() => undefined);
    for (const client of clients.splice(0)) client.disconnect();
  });
  afterAll(async () => {
    listener.disconnect();
    db.disconnect();
    await redis.stop();
  });

  const pool = async (id: string) => {
    const client = redis.client();
    clients.push(client);
    await client.ping(); // ready before the pool listens: a 'ready' afterwards means a reconnection, and beats at once
    const events = { beats: [] as PortalHeartbeat[], reaped: [] as string[], failed: [] as string[] };
    const created = new PortalPool(client, names, id, TTL, {
      beat: (outcome) => events.beats.push(outcome),
      reaped: (dead) => events.reaped.push(dead),
      failed: (step, error) => events.failed.push(`${step}: ${error.message}`),
    });
    pools.push(created);
    return { pool: created, events };
  };
  /** Starts the heartbeat (its first beat runs at once) and waits for that beat, or its failure. */
  const started = async ({ pool: started, events }: Awaited<ReturnType<typeof pool>>) => {
    started.start();
    await eventually(() => events.beats.length + events.failed.length > 0, 2_000, 'the first beat');
  };
  /** Every announcement published so far (a PING on the listener's connection fences them in). */
  const announcements = async () => {
    const fence = redis.client();
    await fence.publish(names.portalPool, 'fence');
    fence.disconnect();
    await eventually(() => announced.includes('fence'), 2_000, 'the fence');
    return announced.filter((text) => text !== 'fence').map((text) => JSON.parse(text) as { id: string; ready: boolean });
  };

  it('joins once: in the pool SET, a heartbeat deadline in Redis time, one ready:true; later beats only refresh', async () => {
    const a = await pool('a');
    const { events } = a;
    await started(a);
    const [seconds] = await db.time();
    const deadline = Number(await db.zscore(names.portalHeartbeats, 'a'));
    await a.pool.tick();
    expect(events.beats).toEqual(['joined', 'refreshed']);
    expect(await db.smembers(names.portalPool)).toEqual(['a']);
    expect(deadline).toBeGreaterThan(Number(seconds) * 1000);
    expect(deadline).toBeLessThanOrEqual(Number(seconds) * 1000 + TTL + 1_000);
    expect(await announcements()).toEqual([{ id: 'a', ready: true }]);
  });

  it('reaps a portal whose heartbeat lapsed: out of the SET and the ZSET, one ready:false, reported once', async () => {
    await db.sadd(names.portalPool, 'dead');
    await db.zadd(names.portalHeartbeats, 1, 'dead');
    const [a, b] = [await pool('a'), await pool('b')];
    await Promise.all([started(a), started(b)]);
    await Promise.all([a.pool.tick(), b.pool.tick()]);
    expect([...a.events.reaped, ...b.events.reaped]).toEqual(['dead']);
    expect((await db.smembers(names.portalPool)).sort()).toEqual(['a', 'b']);
    expect(await db.zscore(names.portalHeartbeats, 'dead')).toBeNull();
    expect((await announcements()).filter((a) => a.id === 'dead')).toEqual([{ id: 'dead', ready: false }]);
  });

  it('leaves with one ready:false for the one ready:true in effect, and announces nothing when it is no longer listed', async () => {
    const a = await pool('a');
    await started(a);
    expect(await a.pool.leave()).toBe(true);
    expect(await a.pool.leave()).toBe(false);
    expect(await db.exists(names.portalPool, names.portalHeartbeats)).toBe(0);
    expect(await announcements()).toEqual([
      { id: 'a', ready: true },
      { id: 'a', ready: false },
    ]);
  });

  it('after close(), start() does not join again', async () => {
    const { pool: a, events } = await pool('a');
    await a.close();
    a.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events.beats).toEqual([]);
    expect(await db.smembers(names.portalPool)).toEqual([]);
  });

  it('reports a failing step and keeps going: a pool key of the wrong type fails the heartbeat, not the process', async () => {
    await db.set(names.portalPool, 'a string');
    const a = await pool('a');
    await started(a);
    expect(a.events.failed).toEqual([expect.stringMatching(/^heartbeat: WRONGTYPE/)]);
    await db.del(names.portalPool);
    await a.pool.tick();
    expect(a.events.beats).toEqual(['joined']);
  });
});
