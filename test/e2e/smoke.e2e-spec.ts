import { Test } from '@nestjs/testing';
import { DispatcherService, Message, MesaModule } from '../../lib/index.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';

describe('smoke', () => {
  let redis: RedisServer;
  let mesa: MesaCluster;
  beforeAll(async () => {
    redis = await RedisServer.start();
    mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 2 });
  });
  afterAll(async () => {
    await mesa.stop();
    await redis.stop();
  });

  it('delivers', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [MesaModule.forRoot({ url: redis.url })] }).compile();
    await moduleRef.init();
    const alice = await MesaUser.connect(mesa.url(0), 'alice');
    const bob = await MesaUser.connect(mesa.url(1), 'bob');
    const result = await moduleRef.get(DispatcherService).dispatch(new Message(0, { hi: 1 }, 'HELLO'), ['alice', 'bob']);
    expect(result.receivers).toBe(2);
    await alice.waitFor((u) => u.of('HELLO').length === 1);
    await bob.waitFor((u) => u.of('HELLO').length === 1);
    alice.close();
    bob.close();
    await moduleRef.close();
  });
});
