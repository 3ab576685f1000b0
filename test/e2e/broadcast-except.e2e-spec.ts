import 'reflect-metadata';
import type { TestingModule } from '@nestjs/testing';
import { DispatcherService, Message, MesaValidationError } from '../../lib/index.js';
import { ChannelSpy } from '../support/channel-spy.js';
import { createMesaModule, eventually } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';

describe('broadcast(message, { excluding }) reaches online authenticated users but the excluded (two replicas)', () => {
  let redis: RedisServer;
  let mesa: MesaCluster;
  let moduleRef: TestingModule;
  let dispatcher: DispatcherService;
  let spy: ChannelSpy;
  const users: MesaUser[] = [];
  const connect = async (replica: number, id: string, options?: { authenticate?: boolean }) => {
    const user = await MesaUser.connect(mesa.url(replica), id, options);
    users.push(user);
    return user;
  };
  const online = async (...ids: string[]) => {
    const db = redis.client();
    try {
      await eventually(async () => (await db.smismember('connected_clients', ...ids)).every((flag) => flag === 1), 5_000, `${ids} online`);
    } finally {
      db.disconnect();
    }
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 2, sync: true });
    ({ moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync: { enabled: true } }));
    spy = await ChannelSpy.listen(redis.url);
  });
  afterEach(async () => {
    users.splice(0).forEach((user) => user.close());
    await spy.clear();
    // Mesa SREMs on socket close: wait for it, or it could remove the same id reconnected by the next test
    const db = redis.client();
    try {
      await eventually(async () => (await db.scard('connected_clients')) === 0, 5_000, 'every user offline');
    } finally {
      db.disconnect();
    }
  });
  afterAll(async () => {
    await spy.close();
    await moduleRef.close();
    await mesa.stop();
    await redis.stop();
  });

  it('authenticated users on both replicas get it; the excluded and unauthenticated sockets do not; nothing is stored', async () => {
    const alice = await connect(0, 'alice');
    const bob = await connect(1, 'bob');
    const carol = await connect(1, 'carol');
    const guest = await connect(0, 'guest', { authenticate: false });
    await online('alice', 'bob', 'carol');

    const result = await dispatcher.broadcast(new Message(0, { n: 1 }, 'EXCEPT'), { excluding: ['carol', 'nobody'] });
    await dispatcher.broadcast(new Message(0, {}, 'MARK'));

    expect([...result.publishedTo].sort()).toEqual(['alice', 'bob']);
    expect([...result.recipients].sort()).toEqual(['alice', 'bob']);
    expect(result).toMatchObject({ storedFor: [], receivers: 3 });
    const [envelope] = await spy.received();
    expect(envelope.message).toEqual({ op: 0, d: { n: 1 }, t: 'EXCEPT' });
    expect([...envelope.recipients].sort()).toEqual(['alice', 'bob']);
    for (const user of [alice, bob, carol, guest]) await user.waitFor((u) => u.of('MARK').length === 1, 5_000, 'MARK');
    expect(alice.of('EXCEPT').map((m) => m.d)).toEqual([{ n: 1 }]);
    expect(bob.of('EXCEPT').map((m) => m.d)).toEqual([{ n: 1 }]);
    expect(carol.of('EXCEPT')).toEqual([]);
    expect(guest.of('EXCEPT')).toEqual([]);
    const db = redis.client();
    expect(await db.hgetall('undelivered_messages')).toEqual({});
    db.disconnect();
  });

  it('with nobody online but the excluded, publishes nothing; { excluding: [] } reaches every authenticated user', async () => {
    const alice = await connect(0, 'alice');
    const bob = await connect(1, 'bob');
    await online('alice', 'bob');

    const nobody = await dispatcher.broadcast(new Message(0, {}, 'NONE'), { excluding: ['alice', 'bob'] });
    const everyone = await dispatcher.broadcast(new Message(0, {}, 'ALL'), { excluding: [] });

    expect(nobody).toEqual({ recipients: [], publishedTo: [], storedFor: [], receivers: 0 });
    expect([...everyone.publishedTo].sort()).toEqual(['alice', 'bob']);
    for (const user of [alice, bob]) await user.waitFor((u) => u.of('ALL').length === 1, 5_000, 'ALL');
    expect(await spy.types()).toEqual(['ALL']);
  });

  it('keeps call order with the other dispatches', async () => {
    const alice = await connect(1, 'alice');
    await online('alice');

    await Promise.all(
      Array.from({ length: 300 }, (_, n) =>
        n % 3 === 1
          ? dispatcher.broadcast(new Message(0, { n }, 'SEQ'), { excluding: ['bob'] })
          : dispatcher.dispatch(new Message(0, { n }, 'SEQ'), ['alice', 'bob']),
      ),
    );

    await alice.waitFor((u) => u.of('SEQ').length === 300, 10_000, '300 messages');
    expect(alice.of('SEQ').map((m) => m.d.n)).toEqual(Array.from({ length: 300 }, (_, n) => n));
  });

  it('refuses an invalid excluding with MesaValidationError, publishing nothing', async () => {
    const message = new Message(0, {}, 'BAD');
    for (const options of [{ excluding: ['*'] }, { excluding: [''] }, { excluding: 'bob' }, { excluding: [42] }, {}, null]) {
      await expect(dispatcher.broadcast(message, options as never)).rejects.toThrow(MesaValidationError);
    }
    await expect(dispatcher.broadcast(message, { excluding: ['*'] })).rejects.toThrow(/excluding cannot contain '\*'/);
    await dispatcher.broadcast(new Message(0, {}, 'MARK'));
    expect(await spy.types()).toEqual(['MARK']);
  });
});

describe('broadcast(message, { excluding }) on Redis without Lua scripts', () => {
  it('reads connected_clients in the WATCH/MULTI fallback, with the same result and order', async () => {
    const redis = await RedisServer.start(['--rename-command', 'EVAL', '', '--rename-command', 'EVALSHA', '']);
    const mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 1 });
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync: { enabled: true } }, { logger: false });
    const alice = await MesaUser.connect(mesa.url(), 'alice');
    const bob = await MesaUser.connect(mesa.url(), 'bob');
    const db = redis.client();
    try {
      await eventually(async () => (await db.scard('connected_clients')) === 2);
      const [first, except, last] = await Promise.all([
        dispatcher.dispatch(new Message(0, { n: 0 }, 'SEQ'), ['alice', 'offline']),
        dispatcher.broadcast(new Message(0, { n: 1 }, 'SEQ'), { excluding: ['bob'] }),
        dispatcher.broadcast(new Message(0, { n: 2 }, 'SEQ'), { excluding: [] }),
      ]);

      expect(first.storedFor).toEqual(['offline']);
      expect(except).toEqual({ recipients: ['alice'], publishedTo: ['alice'], storedFor: [], receivers: 1 });
      expect([...last.publishedTo].sort()).toEqual(['alice', 'bob']);
      await alice.waitFor((u) => u.of('SEQ').length === 3, 5_000, 'three');
      await bob.waitFor((u) => u.of('SEQ').length === 1, 5_000, 'one');
      expect(alice.of('SEQ').map((m) => m.d.n)).toEqual([0, 1, 2]);
      expect(bob.of('SEQ').map((m) => m.d.n)).toEqual([2]);
    } finally {
      alice.close();
      bob.close();
      db.disconnect();
      await moduleRef.close();
      await mesa.stop();
      await redis.stop();
    }
  });
});
