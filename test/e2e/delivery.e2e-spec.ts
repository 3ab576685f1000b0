import { createRequire } from 'node:module';
import { DispatchEvent, Message } from '../../lib/index.js';
import { createMesaModule } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { useMesaStack } from '../support/mesa-stack.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';

const mesaPackage = createRequire(import.meta.url)('@cryb/mesa');

describe('DispatcherService delivers to real Mesa servers (two replicas, no sync)', () => {
  const stack = useMesaStack({ replicas: 2 });

  it('reaches users on either replica, and reports what it did', async () => {
    const alice = await stack.connect(0, 'alice');
    const bob = await stack.connect(1, 'bob');
    const carol = await stack.connect(1, 'carol');

    const result = await stack.dispatcher.dispatch(new Message(0, { text: 'hi' }, 'NEW_MESSAGE'), ['alice', 'bob']);

    expect(result).toEqual({ recipients: ['alice', 'bob'], publishedTo: ['alice', 'bob'], storedFor: [], receivers: 3 });
    await alice.waitFor((u) => u.of('NEW_MESSAGE').length === 1);
    await bob.waitFor((u) => u.of('NEW_MESSAGE').length === 1);
    expect(alice.of('NEW_MESSAGE')[0]).toEqual({ op: 0, d: { text: 'hi' }, t: 'NEW_MESSAGE', s: undefined });
    await stack.dispatcher.dispatch(new Message(0, {}, 'MARK'), ['carol']);
    await carol.waitFor((u) => u.of('MARK').length === 1);
    expect(carol.of('NEW_MESSAGE')).toEqual([]);
  });

  it('leaves out excluded ids and sends duplicates once', async () => {
    const alice = await stack.connect(0, 'alice');
    const bob = await stack.connect(1, 'bob');

    const result = await stack.dispatcher.dispatch(new Message(0, { n: 1 }, 'ROOM'), ['alice', 'bob', 'alice', 'bob'], ['bob']);

    expect(result.recipients).toEqual(['alice']);
    expect((await stack.spy.received()).map((e) => e.recipients)).toEqual([['alice']]);
    await alice.waitFor((u) => u.of('ROOM').length === 1);
    await stack.dispatcher.dispatch(new Message(0, {}, 'MARK'), ['bob']);
    await bob.waitFor((u) => u.of('MARK').length === 1);
    expect(bob.of('ROOM')).toEqual([]);
    expect(alice.of('ROOM')).toHaveLength(1);
  });

  it("broadcasts to every socket, unauthenticated ones too, with the default ['*'] or broadcast()", async () => {
    const alice = await stack.connect(0, 'alice');
    const guest = await stack.connect(1, 'guest', { authenticate: false });

    const viaDefault = await stack.dispatcher.dispatch(new Message(0, { n: 1 }, 'ALERT'));
    const viaBroadcast = await stack.dispatcher.broadcast(new Message(0, { n: 2 }, 'ALERT'));

    expect(viaDefault.publishedTo).toEqual(['*']);
    expect(viaBroadcast.publishedTo).toEqual(['*']);
    for (const user of [alice, guest]) {
      await user.waitFor((u) => u.of('ALERT').length === 2, 5_000, 'two alerts');
      expect(user.of('ALERT').map((m) => m.d.n)).toEqual([1, 2]);
    }
  });

  it('closes the recipients’ sockets with DISCONNECT_CLIENT, on any replica, and no one else’s', async () => {
    const alice = await stack.connect(0, 'alice');
    const bob = await stack.connect(1, 'bob');
    const carol = await stack.connect(1, 'carol');

    await stack.dispatcher.dispatch(new DispatchEvent('DISCONNECT_CLIENT'), ['alice']);
    await stack.dispatcher.disconnect(['bob', 'carol'], ['carol']);

    await alice.waitFor((u) => u.closeCode !== undefined, 5_000, 'alice disconnected');
    await bob.waitFor((u) => u.closeCode !== undefined, 5_000, 'bob disconnected');
    expect([alice.closeCode, bob.closeCode]).toEqual([1000, 1000]);
    expect((await stack.spy.received()).map((e) => e.message)).toEqual([
      { op: 5, d: {}, t: 'DISCONNECT_CLIENT' },
      { op: 5, d: {}, t: 'DISCONNECT_CLIENT' },
    ]);
    expect(carol.open).toBe(true);
  });

  it('accepts Mesa’s own Message and DispatchEvent instances (migration from new Dispatcher())', async () => {
    const alice = await stack.connect(0, 'alice');

    await stack.dispatcher.dispatch(new mesaPackage.Message(0, { legacy: true }, 'LEGACY'), ['alice']);
    await stack.dispatcher.dispatch(new mesaPackage.DispatchEvent('DISCONNECT_CLIENT'), ['alice']);

    await alice.waitFor((u) => u.closeCode === 1000, 5_000, 'alice disconnected');
    expect(alice.of('LEGACY').map((m) => m.d)).toEqual([{ legacy: true }]);
  });

  it('publishes nothing for an empty recipient list, or one emptied by excluding', async () => {
    const alice = await stack.connect(0, 'alice');

    const empty = await stack.dispatcher.dispatch(new Message(0, {}, 'NOTHING'), []);
    const excluded = await stack.dispatcher.dispatch(new Message(0, {}, 'NOTHING'), ['alice'], ['alice']);
    await stack.dispatcher.dispatch(new Message(0, {}, 'MARK'), ['alice']);

    expect(empty).toEqual({ recipients: [], publishedTo: [], storedFor: [], receivers: 0 });
    expect(excluded.receivers).toBe(0);
    await alice.waitFor((u) => u.of('MARK').length === 1);
    expect(await stack.spy.types()).toEqual(['MARK']);
    expect(alice.of('NOTHING')).toEqual([]);
  });

  it('keeps call order for many concurrent dispatches to one user', async () => {
    const alice = await stack.connect(1, 'alice');

    await Promise.all(Array.from({ length: 500 }, (_, n) => stack.dispatcher.dispatch(new Message(0, { n }, 'SEQ'), ['alice'])));

    await alice.waitFor((u) => u.of('SEQ').length === 500, 10_000, '500 messages');
    expect(alice.of('SEQ').map((m) => m.d.n)).toEqual(Array.from({ length: 500 }, (_, n) => n));
  });
});

describe('DispatcherService with a namespace', () => {
  it('publishes on ws_<namespace>, which only that namespace’s Mesa servers hear', async () => {
    const redis = await RedisServer.start();
    const api = await MesaCluster.start({ redisUrl: redis.url, replicas: 1, namespace: 'api' });
    const other = await MesaCluster.start({ redisUrl: redis.url, replicas: 1 });
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, namespace: 'api' });
    const inApi = await MesaUser.connect(api.url(), 'alice');
    const elsewhere = await MesaUser.connect(other.url(), 'alice');
    try {
      const result = await dispatcher.dispatch(new Message(0, { ns: 'api' }, 'SCOPED'), ['alice']);
      await dispatcher.dispatch(new Message(0, {}, 'MARK'), ['alice']);

      expect(result.receivers).toBe(1);
      await inApi.waitFor((u) => u.of('MARK').length === 1 && u.of('SCOPED').length === 1);
      expect(elsewhere.received).toEqual([]);
    } finally {
      inApi.close();
      elsewhere.close();
      await moduleRef.close();
      await api.stop();
      await other.stop();
      await redis.stop();
    }
  });
});
