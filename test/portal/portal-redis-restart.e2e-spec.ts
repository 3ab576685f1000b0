import { eventually } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { RedisServer } from '../support/redis-server.js';
import { verbose } from '../support/verbose.js';
import { PoolAnnouncements, PortalSender, mesaConnected, poolMembers, sleep, startPortalApp } from './support/portal-harness.js';
import { SeqInbox, SeqStream, untilListed } from './support/seq-traffic.js';

describe('Portal after Redis restarts without persistence', () => {
  it('rejoins without making the Mesa servers list it twice: a later graceful departure loses nothing', async () => {
    const redis = await RedisServer.start();
    const mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 2, portal: true });
    await mesaConnected(redis, 2);
    const logger = new RecordingLogger();
    const leaving = await startPortalApp(redis.url, { id: 'leaving' }, { providers: [SeqInbox], logger });
    const staying = await startPortalApp(redis.url, { id: 'staying' }, { providers: [SeqInbox], logger });
    const senders = [await PortalSender.connect(mesa.url(0), 'alice'), await PortalSender.connect(mesa.url(1), 'bob')];
    const db = redis.client();
    let announcements: PoolAnnouncements | undefined;
    const stream = new SeqStream(senders);
    const bothListed = () => untilListed(senders, [leaving.get(SeqInbox), staying.get(SeqInbox)]);
    try {
      await bothListed();

      await redis.stop();
      await redis.restart();
      announcements = await PoolAnnouncements.listen(redis.url);
      await eventually(async () => (await poolMembers(db)).join() === 'leaving,staying', 10_000, 'both back in the pool SET');
      await mesaConnected(redis, 2);
      await bothListed();
      await leaving.close();
      const left = Date.now();

      const lost: number[] = [];
      for (const at of [4_000, 14_000]) {
        await sleep(left + at - Date.now());
        const sent = await stream.burst(90);
        await sleep(1_000);
        lost.push(sent.filter((k) => !staying.get(SeqInbox).seq.has(k)).length);
      }
      verbose(`after a Redis restart and a graceful departure: events lost at +4 s / +14 s: ${lost.join(' / ')} of 90`);
      expect(lost).toEqual([0, 0]);
      expect(announcements.seen).toEqual([{ id: 'leaving', ready: false }]);
      expect(logger.lines.filter((l) => /because Redis lost its data .* added back without an announcement/.test(l.message))).toHaveLength(
        2,
      );
    } finally {
      senders.forEach((sender) => sender.close());
      await leaving.close();
      await staying.close();
      await announcements?.close();
      db.disconnect();
      await mesa.stop();
      await redis.stop();
    }
  }, 90_000);
});
