import type { TestingModule } from '@nestjs/testing';
import { Message, type DispatcherService } from '../../lib/index.js';
import { ChannelSpy } from '../support/channel-spy.js';
import { createMesaModule } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';

const post = (n: number) => new Message(0, { n }, 'POST');

/**
 * A room's member array sent to again and again is checked once and remembered (issue "Performance, round two"):
 * the remembered list must follow the array as it changes, and what a result hands back must be the caller's own.
 */
describe('a recipient array sent again: remembered, never trusted blindly (real Redis, Mesa server and clients)', () => {
  let redis: RedisServer;
  let mesa: MesaCluster;
  let moduleRef: TestingModule;
  let dispatcher: DispatcherService;
  let spy: ChannelSpy;
  const users: MesaUser[] = [];
  const connect = async (id: string) => {
    const user = await MesaUser.connect(mesa.url(0), id);
    users.push(user);
    return user;
  };
  const posts = (user: MesaUser) => user.of('POST').map((message) => (message.d as { n: number }).n);

  beforeAll(async () => {
    redis = await RedisServer.start();
    mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 1 });
    ({ moduleRef, dispatcher } = await createMesaModule({ url: redis.url }));
    spy = await ChannelSpy.listen(redis.url);
  });
  afterAll(async () => {
    users.splice(0).forEach((user) => user.close());
    await spy.close();
    await moduleRef.close();
    await mesa.stop();
    await redis.stop();
  });

  it('follows an array changed in place between dispatches: a member swapped out stops receiving, the new one starts', async () => {
    const [alice, bob, mallory] = [await connect('alice'), await connect('bob'), await connect('mallory')];
    const room = ['alice', 'bob'];
    await dispatcher.dispatch(post(1), room);
    await dispatcher.dispatch(post(2), room);
    room[1] = 'mallory';
    await dispatcher.dispatch(post(3), room);
    room.push('bob');
    room.length = 2;
    await dispatcher.dispatch(post(4), room);
    const flagged = await Promise.all([dispatcher.dispatch(post(5), room), dispatcher.dispatch(post(6), room)]);
    room[0] = '';
    await expect(dispatcher.dispatch(post(7), room)).rejects.toThrow(/recipients\[0\] must be a non-empty string/);

    await alice.waitFor((u) => u.of('POST').length === 6);
    await mallory.waitFor((u) => u.of('POST').length === 4);
    expect(posts(alice)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(posts(bob)).toEqual([1, 2]);
    expect(posts(mallory)).toEqual([3, 4, 5, 6]);
    expect(flagged.map((result) => result.recipients)).toEqual([
      ['alice', 'mallory'],
      ['alice', 'mallory'],
    ]);
    expect((await spy.received()).map((envelope) => envelope.recipients)).toEqual([
      ['alice', 'bob'],
      ['alice', 'bob'],
      ['alice', 'mallory'],
      ['alice', 'mallory'],
      ['alice', 'mallory'],
      ['alice', 'mallory'],
    ]);
  });

  it('hands every result its own lists: changing one changes neither the next dispatch nor another result', async () => {
    const carol = await connect('carol');
    const room = ['carol'];
    const [first, second] = await Promise.all([dispatcher.dispatch(post(10), room), dispatcher.dispatch(post(11), room)]);
    first.recipients.push('eve');
    first.publishedTo.push('eve');
    expect(second.recipients).toEqual(['carol']);
    expect(second.publishedTo).toEqual(['carol']);
    const third = await dispatcher.dispatch(post(12), room);
    expect(third.recipients).toEqual(['carol']);
    await carol.waitFor((u) => u.of('POST').length === 3);
    expect((await spy.received()).slice(-3).map((envelope) => envelope.recipients)).toEqual([['carol'], ['carol'], ['carol']]);
  });
});
