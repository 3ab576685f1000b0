import type { TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { MesaPresence, MesaRedisError, MesaValidationError } from '../../lib/index.js';
import { createMesaModule, eventually } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { RedisServer } from '../support/redis-server.js';

// MesaPresence against real Mesa servers: the answers follow what the servers write to Redis as
// Mesa's own client connects, authenticates and disconnects.
describe('MesaPresence: who is online, as real Mesa servers record it', () => {
  let redis: RedisServer;
  let mesa: MesaCluster;
  let bare: MesaCluster;
  let moduleRef: TestingModule;
  let bareModuleRef: TestingModule;
  let presence: MesaPresence;
  let barePresence: MesaPresence;
  let db: Redis;
  const users: MesaUser[] = [];
  const connect = async (cluster: MesaCluster, replica: number, id: string) => {
    const user = await MesaUser.connect(cluster.url(replica), id);
    users.push(user);
    return user;
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 2, namespace: 'chat', sync: true });
    bare = await MesaCluster.start({ redisUrl: redis.url, replicas: 1 });
    ({ moduleRef } = await createMesaModule({ url: redis.url, namespace: 'chat', sync: { enabled: true } }));
    ({ moduleRef: bareModuleRef } = await createMesaModule({ url: redis.url, isGlobal: false }));
    presence = moduleRef.get(MesaPresence);
    barePresence = bareModuleRef.get(MesaPresence);
    db = redis.client();
  }, 60_000);
  afterEach(async () => {
    users.splice(0).forEach((user) => user.close());
    const settled = async () =>
      (await presence.count()) + (await barePresence.count()) + (await presence.sockets()) + (await barePresence.sockets());
    await eventually(async () => (await settled()) === 0, 10_000, 'everyone offline');
  });
  afterAll(async () => {
    db?.disconnect();
    await moduleRef?.close();
    await bareModuleRef?.close();
    await mesa?.stop();
    await bare?.stop();
    await redis?.stop();
  });

  it('isOnline, online, count and sockets follow users connecting and leaving across replicas', async () => {
    expect(await presence.online(['alice', 'bob'])).toEqual(new Set());
    const alice = await connect(mesa, 0, 'alice');
    await connect(mesa, 1, 'bob');
    await eventually(async () => (await presence.count()) === 2, 5_000, 'two online');

    expect(await presence.isOnline('alice')).toBe(true);
    expect(await presence.isOnline('carol')).toBe(false);
    expect([...(await presence.online(['carol', 'bob', 'alice', 'bob']))]).toEqual(['bob', 'alice']);
    expect(await presence.sockets()).toBe(2);
    const calls = async () => Number(/cmdstat_smismember:calls=(\d+)/.exec((await db.info('commandstats')) as string)?.[1] ?? 0);
    const before = await calls();
    const many = [...Array.from({ length: 2_500 }, (_, n) => `nobody-${n}`), 'bob'];
    expect([...(await presence.online(many))]).toEqual(['bob']);
    expect((await calls()) - before).toBe(3); // 1000 ids per SMISMEMBER, all in one pipeline

    alice.close();
    await eventually(async () => !(await presence.isOnline('alice')), 5_000, 'alice offline');
    expect(await presence.online(['alice', 'bob'])).toEqual(new Set(['bob']));
    expect(await presence.count()).toBe(1);
    await eventually(async () => (await presence.sockets()) === 1, 5_000, 'one socket');
  });

  it('counts unauthenticated sockets in sockets() but not in the online set', async () => {
    await connect(mesa, 0, 'dora');
    const anonymous = await MesaUser.connect(mesa.url(1), 'anonymous', { authenticate: false });
    users.push(anonymous);
    await eventually(async () => (await presence.sockets()) === 2, 5_000, 'two sockets');
    expect(await presence.count()).toBe(1);
  });

  it('Mesa’s limit: an id leaves the online set when ANY of its sockets closes', async () => {
    const firstTab = await connect(mesa, 0, 'carol');
    const secondTab = await connect(mesa, 1, 'carol');
    await eventually(async () => (await presence.sockets()) === 2, 5_000, 'two sockets');
    expect(await presence.isOnline('carol')).toBe(true);

    firstTab.close();
    await eventually(async () => (await presence.sockets()) === 1, 5_000, 'one socket left');
    expect(secondTab.open).toBe(true);
    expect(await presence.isOnline('carol')).toBe(false);
  });

  it('Mesa’s limit: a killed replica leaves its ids in the online set', async () => {
    const doomed = await MesaCluster.start({ redisUrl: redis.url, replicas: 1, namespace: 'chat', sync: true });
    try {
      await connect(doomed, 0, 'erin');
      await eventually(() => presence.isOnline('erin'), 5_000, 'erin online');
    } finally {
      await doomed.stop(); // SIGKILL: the server cannot SREM
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await presence.isOnline('erin')).toBe(true);
    await db.srem('connected_clients_chat', 'erin'); // what an operator would have to do
    await db.decr('connected_clients_count_chat');
  });

  it('honours the namespace: users of an un-namespaced Mesa are not online in "chat", and back', async () => {
    await connect(bare, 0, 'frank');
    await connect(mesa, 0, 'gina');
    await eventually(async () => (await barePresence.isOnline('frank')) && (await presence.isOnline('gina')), 5_000, 'both online');

    expect(await db.sismember('connected_clients', 'frank')).toBe(1);
    expect(await presence.isOnline('frank')).toBe(false);
    expect(await presence.online(['frank', 'gina'])).toEqual(new Set(['gina']));
    expect(await barePresence.online(['frank', 'gina'])).toEqual(new Set(['frank']));
    expect(await presence.count()).toBe(1);
    expect(await barePresence.count()).toBe(1);
    expect([await presence.sockets(), await barePresence.sockets()]).toEqual([1, 1]);
  });

  it('users() iterates over thousands of online ids, each exactly once, even while the set grows', async () => {
    const key = 'connected_clients_scan';
    const ids = Array.from({ length: 5_000 }, (_, n) => `user-${n}`);
    for (let start = 0; start < ids.length; start += 1_000) await db.sadd(key, ...ids.slice(start, start + 1_000));
    const { moduleRef: scanRef } = await createMesaModule({ url: redis.url, namespace: 'scan', isGlobal: false });
    try {
      const scanning = scanRef.get(MesaPresence);
      const seen: string[] = [];
      for await (const id of scanning.users({ count: 100 })) {
        seen.push(id);
        // growing the set mid-scan makes Redis rehash it, when SSCAN may return some members twice
        if (seen.length === 200) await db.sadd(key, ...Array.from({ length: 20_000 }, (_, n) => `late-${n}`));
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((id) => id.startsWith('user-')).sort()).toEqual([...ids].sort());

      const all: string[] = [];
      for await (const id of scanning.users()) all.push(id);
      expect(all).toHaveLength(25_000);
      expect(new Set(all).size).toBe(25_000);
    } finally {
      await scanRef.close();
      await db.del(key);
    }
  });

  it('refuses ids that are not non-empty strings, lone surrogates, "*" and bad scan counts', async () => {
    const refused = [
      () => presence.isOnline(''),
      () => presence.isOnline(42 as never),
      () => presence.isOnline('   '),
      () => presence.isOnline('ab\uD800'),
      () => presence.isOnline('*'),
      () => presence.online('alice' as never),
      () => presence.online(['alice', undefined as never]),
      async () => presence.users({ count: 0 }),
      async () => presence.users({ count: 10_001 }),
    ];
    for (const call of refused) await expect(call()).rejects.toThrow(MesaValidationError);
    await expect(presence.online(['alice', 7 as never])).rejects.toThrow('ids[1] must be a non-empty string user id; got number.');
    await expect(presence.isOnline('x\uDFFF')).rejects.toThrow(/lone UTF-16 surrogate/);
    expect(await presence.isOnline('\uD83D\uDE00')).toBe(false); // a paired surrogate (an emoji) is a fine id
  });

  it('keys of the wrong type fail with an error naming the key and the fix', async () => {
    await db.set('connected_clients_broken', 'not a set');
    await db.hset('connected_clients_count_broken', 'a', '1');
    const { moduleRef: brokenRef } = await createMesaModule({ url: redis.url, namespace: 'broken', isGlobal: false });
    try {
      const broken = brokenRef.get(MesaPresence);
      const wrongType = /Redis key 'connected_clients_broken' is not a SET \(the ids of online users\) \(WRONGTYPE\).*another namespace/;
      await expect(broken.isOnline('a')).rejects.toThrow(wrongType);
      await expect(broken.online(['a', 'b'])).rejects.toThrow(wrongType);
      await expect(broken.count()).rejects.toThrow(wrongType);
      await expect(broken.users().next()).rejects.toThrow(wrongType);
      await expect(broken.sockets()).rejects.toThrow(/'connected_clients_count_broken' is not a string counter/);
      await expect(broken.sockets()).rejects.toBeInstanceOf(MesaRedisError);
      await db.del('connected_clients_count_broken');
      await db.set('connected_clients_count_broken', 'twelve');
      await expect(broken.sockets()).rejects.toThrow(`Redis key 'connected_clients_count_broken' holds "twelve", not the integer counter`);
      await db.set('connected_clients_count_broken', '-3'); // drift after a Redis restart
      expect(await broken.sockets()).toBe(0);
    } finally {
      await brokenRef.close();
      await db.del('connected_clients_broken', 'connected_clients_count_broken');
    }
  });
});

describe('MesaPresence on a Redis without SMISMEMBER (as before 6.2): pipelined SISMEMBER, found out once', () => {
  let redis: RedisServer;
  let mesa: MesaCluster;
  let moduleRef: TestingModule;
  const logger = new RecordingLogger();
  const users: MesaUser[] = [];

  beforeAll(async () => {
    // an unknown command, exactly as Redis 6.0 answers SMISMEMBER
    redis = await RedisServer.start(['--rename-command', 'SMISMEMBER', '']);
    mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 2, namespace: 'old', sync: true });
    ({ moduleRef } = await createMesaModule({ url: redis.url, namespace: 'old' }, { logger }));
  }, 60_000);
  afterAll(async () => {
    users.forEach((user) => user.close());
    await moduleRef?.close();
    await mesa?.stop();
    await redis?.stop();
  });

  it('answers online() correctly through the fallback, and says so once in the logs', async () => {
    const presence = moduleRef.get(MesaPresence);
    for (const [replica, id] of [
      [0, 'alice'],
      [1, 'bob'],
    ] as const) {
      users.push(await MesaUser.connect(mesa.url(replica), id));
    }
    await eventually(async () => (await presence.count()) === 2, 5_000, 'two online');
    const db = redis.client();
    try {
      await expect(db.smismember('connected_clients_old', 'alice')).rejects.toThrow(/unknown command/);
      const ids = ['carol', 'bob', ...Array.from({ length: 2_500 }, (_, n) => `nobody-${n}`), 'alice'];

      expect([...(await presence.online(ids))]).toEqual(['bob', 'alice']);
      expect([...(await presence.online(['alice', 'zed']))]).toEqual(['alice']);

      const fallbackNotes = logger.lines.filter((line) => /no SMISMEMBER/.test(line.message));
      expect(fallbackNotes).toHaveLength(1);
      const stats = (await db.info('commandstats')) as string;
      expect(stats).toMatch(/cmdstat_sismember:calls=(\d+)/);
      expect(Number(/cmdstat_sismember:calls=(\d+)/.exec(stats)![1])).toBeGreaterThanOrEqual(ids.length + 2);
    } finally {
      db.disconnect();
    }
  });
});

describe('MesaPresence on a frozen Redis', () => {
  let redis: RedisServer;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    redis = await RedisServer.start(['--enable-debug-command', 'yes']);
    ({ moduleRef } = await createMesaModule({ url: redis.url, namespace: 'chat', dispatchTimeout: 300 }));
  });
  afterAll(async () => {
    await moduleRef?.close();
    await redis?.stop();
  });

  it('fails a read after dispatchTimeout with a MesaRedisError, and answers again once Redis thaws', async () => {
    const presence = moduleRef.get(MesaPresence);
    const freezer = redis.client();
    try {
      await freezer.sadd('connected_clients_chat', 'alice');
      const frozen = freezer.debug('SLEEP', '2');
      await new Promise((resolve) => setTimeout(resolve, 200)); // Redis is inside DEBUG SLEEP by now
      await expect(presence.isOnline('alice')).rejects.toThrow(/did not answer SISMEMBER within 300 ms \(frozen or unreachable\)/);
      await frozen;
      await eventually(() => presence.isOnline('alice'), 5_000, 'an answer after the thaw');
    } finally {
      freezer.disconnect();
    }
  });
});
