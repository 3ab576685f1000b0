import { MESA_PORTAL_DEFAULTS } from '../../lib/mesa.constants.js';
import { eventually } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { RedisServer } from '../support/redis-server.js';
import { PortalSender, mesaConnected, poolMembers, sleep, startPortalApp } from './support/portal-harness.js';
import { verbose } from '../support/verbose.js';
import { PortalChild } from './support/portal-child-process.js';
import { SeqInbox, SeqStream, untilListed } from './support/seq-traffic.js';

const TTL = MESA_PORTAL_DEFAULTS.heartbeatTtl;
/** The documented bound: one TTL for the heartbeat to lapse, a third of it for the next reaping pass. */
const DOCUMENTED_WINDOW = TTL + TTL / 3;
/** Room for a loaded 2-core machine (timers, pub/sub and the servers' processing). */
const SLACK = 1_000;

describe('Portal crash: a SIGKILLed instance stops receiving events within the documented window', () => {
  it('measures the lost window over three kills, delivers everything after it to the survivor, and the restarted instance (same id) rejoins', async () => {
    const redis = await RedisServer.start();
    const mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 2, portal: true });
    await mesaConnected(redis, 2);
    const db = redis.client();
    const survivor = await startPortalApp(redis.url, { id: 'survivor' }, { providers: [SeqInbox] });
    const senders = [await PortalSender.connect(mesa.url(0), 'alice'), await PortalSender.connect(mesa.url(1), 'bob')];
    const windows: number[] = [];
    const stream = new SeqStream(senders);
    const { sentAt } = stream;
    let child: PortalChild | undefined;
    try {
      for (let round = 0; round < 3; round++) {
        child = await PortalChild.start({ redisUrl: redis.url, id: 'doomed', heartbeatTtl: TTL });
        const inbox = survivor.get(SeqInbox);
        await untilListed(senders, [child, inbox]);
        const sent = await stream.until(Date.now() + 300);
        const killedAt = Date.now();
        await child.kill();
        sent.push(...(await stream.until(killedAt + DOCUMENTED_WINDOW + SLACK + 1_000)));
        await eventually(
          () => stream.sentAfter(killedAt + DOCUMENTED_WINDOW + SLACK).every((k) => inbox.seq.has(k)),
          10_000,
          'the tail handled',
        );
        await sleep(300);

        const lost = sent.filter((k) => !inbox.seq.has(k) && !child!.handled.has(k));
        const window = lost.length === 0 ? 0 : Math.max(...lost.map((k) => sentAt.get(k)!)) - killedAt;
        windows.push(window);
        expect(lost.length).toBeGreaterThan(0);
        expect(window).toBeLessThanOrEqual(DOCUMENTED_WINDOW + SLACK);
        const afterWindow = stream.sentAfter(killedAt + window);
        expect(afterWindow.every((k) => inbox.seq.has(k))).toBe(true);
        expect(afterWindow.length).toBeGreaterThan(50);
        expect(await poolMembers(db)).toEqual(['survivor']);
      }
      verbose(`dead-portal lost window (heartbeatTtl ${TTL} ms), ms: ${windows.join(', ')}`);
    } finally {
      await child?.kill();
      senders.forEach((sender) => sender.close());
      await survivor.close();
      db.disconnect();
      await mesa.stop();
      await redis.stop();
    }
  }, 180_000);

  it('a frozen instance (SIGSTOP) loses nothing it was sent before it was reaped: after SIGCONT it handles it, as late as the freeze lasted', async () => {
    const FREEZE = 8_000;
    const redis = await RedisServer.start();
    const mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 2, portal: true });
    await mesaConnected(redis, 2);
    const survivor = await startPortalApp(redis.url, { id: 'survivor' }, { providers: [SeqInbox] });
    const senders = [await PortalSender.connect(mesa.url(0), 'alice'), await PortalSender.connect(mesa.url(1), 'bob')];
    const child = await PortalChild.start({ redisUrl: redis.url, id: 'frozen', heartbeatTtl: TTL });
    const inbox = survivor.get(SeqInbox);
    const stream = new SeqStream(senders);
    const { sentAt } = stream;
    try {
      await untilListed(senders, [child, inbox]);
      await stream.until(Date.now() + 300, 10);
      await child.kill('SIGSTOP');
      const frozenAt = Date.now();
      await stream.until(frozenAt + FREEZE, 10);
      await child.kill('SIGCONT');
      await stream.until(Date.now() + 2_000, 10);
      const handled = (k: number) => inbox.seq.has(k) || child.handled.has(k);
      await eventually(() => [...sentAt.keys()].every(handled), 15_000, 'every event handled by one of them').catch(() => undefined);
      const late = [...child.handledAt].filter(([k]) => sentAt.get(k)! >= frozenAt).map(([k, at]) => at - sentAt.get(k)!);
      const lost = [...sentAt.keys()].filter((k) => !handled(k));
      verbose(
        `frozen ${FREEZE} ms: ${late.length} events it was sent meanwhile handled after SIGCONT, up to ${Math.max(...late)} ms late; ` +
          `${lost.length} of ${sentAt.size} lost`,
      );
      expect(lost).toEqual([]);
      expect(late.length).toBeGreaterThan(0);
      expect(Math.max(...late)).toBeGreaterThan(FREEZE - DOCUMENTED_WINDOW - SLACK);
      expect(Math.max(...late)).toBeLessThanOrEqual(FREEZE + SLACK);
      const db = redis.client();
      expect(await poolMembers(db)).toEqual(['frozen', 'survivor']);
      db.disconnect();
    } finally {
      await child.kill('SIGCONT');
      await child.kill();
      senders.forEach((sender) => sender.close());
      await survivor.close();
      await mesa.stop();
      await redis.stop();
    }
  }, 90_000);
});
