import { Message, type DispatchResult } from '../../lib/index.js';
import { createMesaModule } from '../support/mesa-app.js';
import { RedisServer } from '../support/redis-server.js';
import { orderInversions } from './support/dispatch-load.js';
import { Recorder } from './support/recorder.js';
import { TcpGate } from './support/tcp-gate.js';

/*
 * Regression test for a bug these fault tests found (README: "messages keep call order").
 *
 * Redis loses its script cache on a restart, on a failover to a replica and on SCRIPT FLUSH. Every
 * batch then in flight is answered NOSCRIPT and re-sent with EVAL as its NOSCRIPT reply is read. A
 * batch dispatched in between went out as EVALSHA, found the script that the first EVAL had loaded,
 * and ran before the EVALs still to be sent: it overtook earlier dispatches, on the channel and in
 * offline users' backlogs (which Mesa redelivers as s = 1..N). Seen first in redis-restart.e2e-spec.ts
 * (one message out of order in 2 runs of 3).
 *
 * Here the replies reach the module in 64-byte pieces, one per event-loop turn (a TcpGate in front of
 * Redis, as TCP segments on a real network), while one dispatch leaves per turn: the interleaving is
 * deterministic. Before the fix, 5 runs of 5 failed: dispatch 4 was published before dispatch 1.
 */
const DISPATCHES = 200;

describe('call order when Redis loses its script cache with batches in flight', () => {
  it.each([false, true])('the channel and the backlogs keep call order after SCRIPT FLUSH (sync: %s)', async (sync) => {
    const redis = await RedisServer.start();
    const gate = await TcpGate.open(redis.port, { replySlice: 64 });
    const db = redis.client();
    const recorder = await Recorder.listen({ host: '127.0.0.1', port: redis.port });
    const { moduleRef, dispatcher } = await createMesaModule({ url: gate.url, sync: { enabled: sync } });
    try {
      await db.sadd('connected_clients', 'online');
      await dispatcher.dispatch(new Message(0, { n: -1 }, 'WARM_UP'), ['online']);
      await db.script('FLUSH');

      const pending: Array<Promise<DispatchResult>> = [];
      for (let n = 0; n < DISPATCHES; n++) {
        pending.push(dispatcher.dispatch(new Message(0, { n }, 'ORDERED'), ['online', 'offline']));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(pending);
      await recorder.waitForAll(Array.from({ length: DISPATCHES }, (_, n) => n));

      const published = recorder.numbers().filter((n) => n >= 0);
      expect(published).toEqual(Array.from({ length: DISPATCHES }, (_, n) => n));
      if (sync) {
        const backlog = JSON.parse((await db.hget('undelivered_messages', 'offline')) ?? '[]') as Array<{ d: { n: number } }>;
        expect({ stored: backlog.length, outOfOrder: orderInversions(backlog.map((m) => m.d.n)) }).toEqual({
          stored: DISPATCHES,
          outOfOrder: 0,
        });
      }
    } finally {
      await moduleRef.close();
      recorder.close();
      db.disconnect();
      await gate.close();
      await redis.stop();
    }
  });
});
