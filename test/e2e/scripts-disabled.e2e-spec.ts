import { Message } from '../../lib/index.js';
import { ChannelSpy } from '../support/channel-spy.js';
import { createMesaModule, eventually } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { MesaUser } from '../support/mesa-user.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { RedisServer } from '../support/redis-server.js';

describe('Redis without Lua scripts (EVAL and EVALSHA disabled)', () => {
  it('falls back to WATCH/MULTI, says so once, and keeps every guarantee: delivery, storage, order, per-call errors', async () => {
    const redis = await RedisServer.start(['--rename-command', 'EVAL', '', '--rename-command', 'EVALSHA', '']);
    const mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 2, sync: true });
    const logger = new RecordingLogger();
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync: { enabled: true } }, { logger });
    const spy = await ChannelSpy.listen(redis.url);
    const db = redis.client();
    const alice = await MesaUser.connect(mesa.url(1), 'alice');
    await eventually(async () => (await db.sismember('connected_clients', 'alice')) === 1);
    try {
      await db.hset('undelivered_messages', 'mallory', 'corrupt');
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, n) => dispatcher.dispatch(new Message(0, { n }, 'STORM'), ['alice', 'bob'])),
      );
      const typing = await dispatcher.dispatch(new Message(0, {}, 'TYPING', { sync: false }), ['alice', 'bob']);
      const failed = dispatcher.dispatch(new Message(0, {}, 'X'), ['mallory']);

      await expect(failed).rejects.toThrow(/user mallory is not a JSON array/);
      expect(results.every((r) => r.publishedTo[0] === 'alice' && r.storedFor[0] === 'bob')).toBe(true);
      expect(typing.storedFor).toEqual([]);
      const backlog = JSON.parse((await db.hget('undelivered_messages', 'bob'))!);
      expect(backlog.map((m: { d: { n: number } }) => m.d.n)).toEqual(Array.from({ length: 1000 }, (_, n) => n));
      await alice.waitFor((u) => u.of('STORM').length === 1000, 10_000, '1000 live');
      expect(alice.of('STORM').map((m) => m.d.n)).toEqual(Array.from({ length: 1000 }, (_, n) => n));
      const bob = await MesaUser.connect(mesa.url(0), 'bob');
      await bob.waitFor((u) => u.of('STORM').length === 1000, 10_000, '1000 redelivered');
      expect(bob.of('STORM').map((m) => m.s)).toEqual(Array.from({ length: 1000 }, (_, n) => n + 1));
      bob.close();
      expect(logger.lines.filter((line) => /Lua scripts are unavailable/.test(line.message))).toHaveLength(1);
      expect((await spy.received()).filter((e) => e.message.t === 'X')).toEqual([]);
    } finally {
      alice.close();
      db.disconnect();
      await spy.close();
      await moduleRef.close();
      await mesa.stop();
      await redis.stop();
    }
  });
});
