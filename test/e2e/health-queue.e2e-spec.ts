import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DispatcherService, Message, MesaModule } from '../../lib/index.js';
import { HealthTestModule } from '../support/health-app.js';
import { RedisServer } from '../support/redis-server.js';

describe('MesaHealthIndicator: the dispatch queue fill', () => {
  let redis: RedisServer;
  let app: INestApplication;
  let baseUrl: string;
  const getHealth = async () => {
    const response = await fetch(`${baseUrl}/health`);
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    const moduleRef = await Test.createTestingModule({
      imports: [
        MesaModule.forRoot({ url: redis.url, maxUnansweredBatches: 1, maxQueuedDispatches: 10, dispatchTimeout: 3_000 }),
        HealthTestModule,
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    redis.resume();
    await app.close();
    await redis.stop();
  });

  it('is up with the queue empty, down naming the fill when Redis stalls and it reaches 90 %, and up again once Redis answers', async () => {
    const dispatcher = app.get(DispatcherService);
    const idle = await getHealth();
    expect(idle.status).toBe(200);
    expect(idle.body.info.mesa).toMatchObject({ status: 'up', queue: { waiting: 0, unanswered: 0, fillPercent: 0 } });

    redis.pause();
    const dispatches: Array<Promise<unknown>> = [];
    let saturated: { status: number; body: any };
    try {
      dispatches.push(dispatcher.dispatch(new Message(0, {}, 'FIRST'), ['*']));
      await new Promise((resolve) => setImmediate(resolve));
      for (let n = 0; n < 8; n++) dispatches.push(dispatcher.dispatch(new Message(0, { n }, 'WAITING'), ['*']));
      const filling = await getHealth();
      expect(filling.body.details.mesa.queue).toEqual({ waiting: 8, unanswered: 1, fillPercent: 80 });
      dispatches.push(dispatcher.dispatch(new Message(0, {}, 'NINTH'), ['*']));
      saturated = await getHealth();
    } finally {
      redis.resume();
    }

    expect(saturated.status).toBe(503);
    expect(saturated.body.error.mesa).toMatchObject({
      status: 'down',
      queue: { waiting: 9, unanswered: 1, fillPercent: 90 },
      message: expect.stringContaining('dispatch queue is 90 % full'),
    });
    expect(saturated.body.error.mesa.message).toContain('maxQueuedDispatches 10');
    await Promise.all(dispatches);
    const recovered = await getHealth();
    expect(recovered.status).toBe(200);
    expect(recovered.body.info.mesa.queue).toEqual({ waiting: 0, unanswered: 0, fillPercent: 0 });
  });
});
