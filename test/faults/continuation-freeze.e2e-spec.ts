import { Message, type DispatchResult } from '../../lib/index.js';
import { createMesaModule } from '../support/mesa-app.js';
import { RedisServer } from '../support/redis-server.js';
import { mesaBacklogText, withoutCount } from '../support/stored-backlog.js';
import { poll, sleep } from './support/processes.js';

const DISPATCH_TIMEOUT = 1_000;
const settled = (promise: Promise<DispatchResult>) =>
  promise.then(
    () => 'resolved',
    (error: Error) => error.message,
  );

/**
 * A dispatch to 40 users at the 1 MiB cap is stored in about 20 script calls. Redis is frozen (SIGSTOP) in the middle
 * of them, with dispatches waiting behind: the first must fail as "may have been published" (it reached some users),
 * those waiting as "not sent", and none of those may reach Redis when it wakes; the hold key must not stop later
 * dispatches.
 */
describe('Redis frozen while a dispatch is stored in several calls', () => {
  it('the dispatch fails as "may have been published", those behind it as not sent and never sent; later ones go through', async () => {
    const redis = await RedisServer.start();
    const db = redis.client();
    const ids = Array.from({ length: 40 }, (_, k) => `frozen-${k}`);
    const text = mesaBacklogText(1_048_576 - 4_000);
    for (const id of ids) await db.hset('undelivered_messages', id, text);
    const { moduleRef, dispatcher } = await createMesaModule({
      url: redis.url,
      sync: { enabled: true },
      dispatchTimeout: DISPATCH_TIMEOUT,
    });
    try {
      await dispatcher.dispatch(new Message(0, { n: 0 }, 'ROOM'), ids);
      const wide = settled(dispatcher.dispatch(new Message(0, { n: 1 }, 'ROOM'), ids));
      // a user stored in a continuation call: the module has read the first call's answer and paused its queue
      const storedFor = async (id: string) => ((await db.hget('undelivered_messages', id)) ?? '').slice(-200).includes('"d":{"n":1}');
      await poll(() => storedFor(ids[10]), 5_000, 'a continuation call to store');
      redis.pause();
      const behind = [
        settled(dispatcher.dispatch(new Message(0, { n: 2 }, 'BEHIND'), ['other'])),
        settled(dispatcher.dispatch(new Message(0, { n: 3 }, 'BEHIND', { sync: false }), ['other'])),
      ];
      const outcomes = await Promise.all([wide, ...behind]);
      redis.resume();

      expect(outcomes[0]).toMatch(/no answer within dispatchTimeout \(1000 ms\); the message may have been published/);
      // it did reach some users (stored in the calls before the freeze), not all
      expect(await storedFor(ids[0])).toBe(true);
      expect(await storedFor(ids[39])).toBe(false);
      expect(outcomes.slice(1)).toEqual([0, 0].map(() => expect.stringMatching(/the message was not sent and will not be/)));
      const after = await dispatcher.dispatch(new Message(0, { n: 4 }, 'AFTER'), ['other']);
      expect(after.storedFor).toEqual(['other']);
      await sleep(200);
      expect(withoutCount(JSON.parse((await db.hget('undelivered_messages', 'other'))!)).map((m) => m.t)).toEqual(['AFTER']);
      expect(await db.keys('nestjs_mesa_stores_held:*')).toEqual([]);
    } finally {
      redis.resume();
      await moduleRef.close();
      db.disconnect();
      await redis.stop();
    }
  });
});
