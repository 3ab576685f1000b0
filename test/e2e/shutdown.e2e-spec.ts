import { DispatcherService, Message, MesaDispatchError } from '../../lib/index.js';
import { ChannelSpy } from '../support/channel-spy.js';
import { createMesaModule } from '../support/mesa-app.js';
import { RedisServer } from '../support/redis-server.js';

describe('shutdown: app.close() with dispatches in flight', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis.stop());

  const moduleConnections = () => redis.connectionsNamed('nestjs-mesa');

  it.each([false, true])('waits for every dispatch to be published, then closes its connection (sync: %s)', async (sync) => {
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync: { enabled: sync }, maxStoredPerUser: Infinity });
    const spy = await ChannelSpy.listen(redis.url);
    const db = redis.client();
    await db.sadd('connected_clients', 'online');
    expect(await moduleConnections()).toBe(1);
    const settled: string[] = [];

    for (let n = 0; n < 2_000; n++) {
      dispatcher.dispatch(new Message(0, { n }, 'IN_FLIGHT'), ['online', 'offline']).then(
        () => settled.push('resolved'),
        () => settled.push('rejected'),
      );
    }
    await moduleRef.close();

    expect(settled.filter((s) => s === 'resolved')).toHaveLength(2_000);
    expect((await spy.waitForCount(2_000)).map((e) => e.message.d.n)).toEqual(Array.from({ length: 2_000 }, (_, n) => n));
    if (sync) expect(JSON.parse((await db.hget('undelivered_messages', 'offline'))!)).toHaveLength(2_000);
    expect(await moduleConnections()).toBe(0);
    await expect(dispatcher.dispatch(new Message(0, {}, 'LATE'), ['online'])).rejects.toThrow(MesaDispatchError);
    await expect(dispatcher.dispatch(new Message(0, {}, 'LATE'), ['online'])).rejects.toThrow(/shut down/);
    await db.flushall();
    db.disconnect();
    await spy.close();
  });

  it('the service is the one the module provides (sanity for the test above)', async () => {
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url });
    expect(dispatcher).toBeInstanceOf(DispatcherService);
    await moduleRef.close();
  });
});
