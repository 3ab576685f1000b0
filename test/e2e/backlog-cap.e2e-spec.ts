import { Message } from '../../lib/index.js';
import { createMesaModule } from '../support/mesa-app.js';
import { withoutCount } from '../support/stored-backlog.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RedisServer } from '../support/redis-server.js';

/** Data that a naive comma count would get wrong: commas, brackets, braces and escaped quotes in strings. */
const tricky = (n: number) => ({ n, text: `a, [b], {c}, "d\\", e ${n}`, nested: [{ x: [1, 2] }, ','] });

describe.each([
  ['with Lua scripts', []],
  ['without Lua scripts (WATCH/MULTI fallback)', ['--rename-command', 'EVAL', '', '--rename-command', 'EVALSHA', '']],
])('maxStoredPerUser caps an offline user’s backlog, %s', (_name, redisArgs) => {
  it('drops the oldest messages, reports each drop in the dispatch result, and Mesa redelivers what is kept', async () => {
    const redis = await RedisServer.start(redisArgs as string[]);
    const mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 1, sync: true });
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync: { enabled: true }, maxStoredPerUser: 3 });
    const db = redis.client();
    try {
      const older = Array.from({ length: 5 }, (_, n) => JSON.stringify({ op: 0, d: tricky(n), t: 'OLD' }));
      await db.hset('undelivered_messages', 'ann', `[${older.join(',')}]`);

      const first = await dispatcher.dispatch(new Message(0, tricky(100), 'NEW'), ['ann', 'ben']);
      const concurrent = await Promise.all(
        [101, 102, 103].map((n) => dispatcher.dispatch(new Message(0, tricky(n), 'NEW'), ['ann', 'ben'])),
      );

      expect(first.storedFor).toEqual(['ann', 'ben']);
      expect(first.dropped).toEqual({ ann: 3 });
      expect(concurrent.map((r) => r.dropped)).toEqual([{ ann: 1 }, { ann: 1 }, { ann: 1, ben: 1 }]);
      const kept = withoutCount(JSON.parse((await db.hget('undelivered_messages', 'ann'))!));
      expect(kept).toEqual([101, 102, 103].map((n) => ({ op: 0, d: tricky(n), t: 'NEW' })));
      const ann = await MesaUser.connect(mesa.url(), 'ann');
      await ann.waitFor((u) => u.received.length === 3, 5_000, 'three redelivered');
      expect(ann.received.map((m) => [m.s, m.d.n])).toEqual([
        [1, 101],
        [2, 102],
        [3, 103],
      ]);
      ann.close();
      expect(JSON.parse((await db.hget('undelivered_messages', 'ben'))!).map((m: { d: { n: number } }) => m.d.n)).toEqual([101, 102, 103]);
    } finally {
      db.disconnect();
      await moduleRef.close();
      await mesa.stop();
      await redis.stop();
    }
  });
});
