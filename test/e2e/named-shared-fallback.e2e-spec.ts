import { Test } from '@nestjs/testing';
import { DispatcherService, getDispatcherToken, Message, MesaModule } from '../../lib/index.js';
import { RedisServer } from '../support/redis-server.js';
import { withoutCount } from '../support/stored-backlog.js';

describe('named registrations sharing one connection to a Redis without Lua scripts', () => {
  it('their WATCH/MULTI transactions never interleave: every dispatch of every registration is stored, in order', async () => {
    const redis = await RedisServer.start(['--rename-command', 'EVAL', '', '--rename-command', 'EVALSHA', '']);
    const moduleRef = await Test.createTestingModule({
      imports: [
        MesaModule.forRoot({ url: redis.url, sync: { enabled: true } }),
        MesaModule.forRoot({ name: 'chat', url: redis.url, namespace: 'chat', sync: { enabled: true } }),
        MesaModule.forRoot({ name: 'news', url: redis.url, namespace: 'news', sync: { enabled: true } }),
      ],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    const db = redis.client();
    try {
      expect(await redis.connectionsNamed()).toBe(1);
      const dispatchers: Array<[string, DispatcherService]> = [
        ['undelivered_messages', moduleRef.get(DispatcherService)],
        ['undelivered_messages_chat', moduleRef.get(getDispatcherToken('chat'))],
        ['undelivered_messages_news', moduleRef.get(getDispatcherToken('news'))],
      ];
      const outcomes = await Promise.allSettled(
        Array.from({ length: 300 }, (_, n) =>
          dispatchers.map(([, dispatcher]) => dispatcher.dispatch(new Message(0, { n }, 'N'), ['away'])),
        ).flat(),
      );
      expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).toEqual([]);
      for (const [key] of dispatchers) {
        const stored = withoutCount(JSON.parse((await db.hget(key, 'away'))!));
        expect({ key, stored: stored.map((m) => m.d.n) }).toEqual({ key, stored: Array.from({ length: 300 }, (_, n) => n) });
      }
    } finally {
      db.disconnect();
      await moduleRef.close();
      await redis.stop();
    }
  });
});
