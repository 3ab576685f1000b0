import 'reflect-metadata';
import { Message, MesaValidationError } from '../../lib/index.js';
import { createMesaModule, eventually } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { useMesaStack } from '../support/mesa-stack.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';

describe('broadcast(message, { excluding }) reaches online authenticated users but the excluded (two replicas)', () => {
  const stack = useMesaStack({ replicas: 2, sync: true });

  it('authenticated users on both replicas get it; the excluded and unauthenticated sockets do not; nothing is stored', async () => {
    const alice = await stack.connect(0, 'alice');
    const bob = await stack.connect(1, 'bob');
    const carol = await stack.connect(1, 'carol');
    const guest = await stack.connect(0, 'guest', { authenticate: false });
    await stack.online('alice', 'bob', 'carol');

    const result = await stack.dispatcher.broadcast(new Message(0, { n: 1 }, 'EXCEPT'), { excluding: ['carol', 'nobody'] });
    await stack.dispatcher.broadcast(new Message(0, {}, 'MARK'));

    expect([...result.publishedTo].sort()).toEqual(['alice', 'bob']);
    expect([...result.recipients].sort()).toEqual(['alice', 'bob']);
    expect(result).toMatchObject({ storedFor: [], receivers: 3 });
    const [envelope] = await stack.spy.received();
    expect(envelope.message).toEqual({ op: 0, d: { n: 1 }, t: 'EXCEPT' });
    expect([...envelope.recipients].sort()).toEqual(['alice', 'bob']);
    for (const user of [alice, bob, carol, guest]) await user.waitFor((u) => u.of('MARK').length === 1, 5_000, 'MARK');
    expect(alice.of('EXCEPT').map((m) => m.d)).toEqual([{ n: 1 }]);
    expect(bob.of('EXCEPT').map((m) => m.d)).toEqual([{ n: 1 }]);
    expect(carol.of('EXCEPT')).toEqual([]);
    expect(guest.of('EXCEPT')).toEqual([]);
    expect(await stack.db.hgetall('undelivered_messages')).toEqual({});
  });

  it('with nobody online but the excluded, publishes nothing; { excluding: [] } reaches every authenticated user', async () => {
    const alice = await stack.connect(0, 'alice');
    const bob = await stack.connect(1, 'bob');
    await stack.online('alice', 'bob');

    const nobody = await stack.dispatcher.broadcast(new Message(0, {}, 'NONE'), { excluding: ['alice', 'bob'] });
    const everyone = await stack.dispatcher.broadcast(new Message(0, {}, 'ALL'), { excluding: [] });

    expect(nobody).toEqual({ recipients: [], publishedTo: [], storedFor: [], receivers: 0 });
    expect([...everyone.publishedTo].sort()).toEqual(['alice', 'bob']);
    for (const user of [alice, bob]) await user.waitFor((u) => u.of('ALL').length === 1, 5_000, 'ALL');
    expect(await stack.spy.types()).toEqual(['ALL']);
  });

  it('keeps call order with the other dispatches', async () => {
    const alice = await stack.connect(1, 'alice');
    await stack.online('alice');

    await Promise.all(
      Array.from({ length: 300 }, (_, n) =>
        n % 3 === 1
          ? stack.dispatcher.broadcast(new Message(0, { n }, 'SEQ'), { excluding: ['bob'] })
          : stack.dispatcher.dispatch(new Message(0, { n }, 'SEQ'), ['alice', 'bob']),
      ),
    );

    await alice.waitFor((u) => u.of('SEQ').length === 300, 10_000, '300 messages');
    expect(alice.of('SEQ').map((m) => m.d.n)).toEqual(Array.from({ length: 300 }, (_, n) => n));
  });

  it('refuses an invalid excluding with MesaValidationError, publishing nothing', async () => {
    const message = new Message(0, {}, 'BAD');
    for (const options of [{ excluding: ['*'] }, { excluding: [''] }, { excluding: 'bob' }, { excluding: [42] }, {}, null]) {
      await expect(stack.dispatcher.broadcast(message, options as never)).rejects.toThrow(MesaValidationError);
    }
    await expect(stack.dispatcher.broadcast(message, { excluding: ['*'] })).rejects.toThrow(/excluding cannot contain '\*'/);
    await stack.dispatcher.broadcast(new Message(0, {}, 'MARK'));
    expect(await stack.spy.types()).toEqual(['MARK']);
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
