import { Injectable } from '@nestjs/common';
import { OnMesaMessage, type MesaClientMessage } from '../../lib/index.js';
import { MESA_PORTAL_DEFAULTS } from '../../lib/mesa.constants.js';
import { eventually } from '../support/mesa-app.js';
import { MesaCluster } from '../support/mesa-cluster.js';
import { RedisServer } from '../support/redis-server.js';
import { PortalSender, mesaConnected, poolMembers, sleep, startPortalApp } from './support/portal-harness.js';
import { verbose } from '../support/verbose.js';
import { PortalChild } from './support/portal-child-process.js';

const TTL = MESA_PORTAL_DEFAULTS.heartbeatTtl;
/** The documented bound: one TTL for the heartbeat to lapse, a third of it for the next reaping pass. */
const DOCUMENTED_WINDOW = TTL + TTL / 3;
/** Room for a loaded 2-core machine (timers, pub/sub and the servers' processing). */
const SLACK = 1_000;

@Injectable()
class Inbox {
  readonly seq = new Set<number>();
  readonly warm = new Set<string>();
  @OnMesaMessage('SEQ')
  onSeq(message: MesaClientMessage) {
    this.seq.add((message.data as { n: number }).n);
  }
  @OnMesaMessage('WARM')
  onWarm(message: MesaClientMessage) {
    this.warm.add(message.clientId!);
  }
}

describe('Portal crash: a SIGKILLed instance stops receiving events within the documented window', () => {
  it('measures the lost window over three kills, delivers everything after it to the survivor, and the restarted instance (same id) rejoins', async () => {
    const redis = await RedisServer.start();
    const mesa = await MesaCluster.start({ redisUrl: redis.url, replicas: 2, portal: true });
    await mesaConnected(redis, 2);
    const db = redis.client();
    const survivor = await startPortalApp(redis.url, { id: 'survivor' }, { providers: [Inbox] });
    const senders = [await PortalSender.connect(mesa.url(0), 'alice'), await PortalSender.connect(mesa.url(1), 'bob')];
    const windows: number[] = [];
    let child: PortalChild | undefined;
    let n = 0;
    try {
      for (let round = 0; round < 3; round++) {
        child = await PortalChild.start({ redisUrl: redis.url, id: 'doomed', heartbeatTtl: TTL });
        const inbox = survivor.get(Inbox);
        inbox.warm.clear();
        await eventually(
          async () => {
            senders.forEach((sender) => sender.send('WARM', {}));
            await sleep(20);
            return senders.every((s) => child!.warm.has(s.id) && inbox.warm.has(s.id));
          },
          15_000,
          'both portals listed by both replicas',
        );
        const sentAt = new Map<number, number>();
        const first = n;
        const send = () => {
          sentAt.set(n, Date.now());
          senders[n % 2]!.send('SEQ', { n: n++ });
        };
        const streamUntil = async (deadline: number) => {
          while (Date.now() < deadline) {
            send();
            await sleep(5);
          }
        };
        await streamUntil(Date.now() + 300);
        const killedAt = Date.now();
        await child.kill();
        await streamUntil(killedAt + DOCUMENTED_WINDOW + SLACK + 1_000);
        const last = n - 1;
        await eventually(
          () => [...sentAt.keys()].filter((k) => sentAt.get(k)! > killedAt + DOCUMENTED_WINDOW + SLACK).every((k) => inbox.seq.has(k)),
          10_000,
          'the tail handled',
        );
        await sleep(300);

        const lost = [...sentAt.keys()].filter((k) => !inbox.seq.has(k) && !child!.handled.has(k));
        const window = lost.length === 0 ? 0 : Math.max(...lost.map((k) => sentAt.get(k)!)) - killedAt;
        windows.push(window);
        expect(lost.length).toBeGreaterThan(0);
        expect(window).toBeLessThanOrEqual(DOCUMENTED_WINDOW + SLACK);
        const afterWindow = [...sentAt.keys()].filter((k) => sentAt.get(k)! > killedAt + window);
        expect(afterWindow.every((k) => inbox.seq.has(k))).toBe(true);
        expect(afterWindow.length).toBeGreaterThan(50);
        expect(lost.every((k) => k >= first && k <= last)).toBe(true);
        expect(await poolMembers(db)).toEqual(['survivor']);
      }
      // eslint-disable-next-line no-console
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
    const survivor = await startPortalApp(redis.url, { id: 'survivor' }, { providers: [Inbox] });
    const senders = [await PortalSender.connect(mesa.url(0), 'alice'), await PortalSender.connect(mesa.url(1), 'bob')];
    const child = await PortalChild.start({ redisUrl: redis.url, id: 'frozen', heartbeatTtl: TTL });
    const inbox = survivor.get(Inbox);
    const sentAt = new Map<number, number>();
    let n = 0;
    const streamFor = async (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        sentAt.set(n, Date.now());
        senders[n % 2]!.send('SEQ', { n: n++ });
        await sleep(10);
      }
    };
    try {
      await eventually(
        async () => {
          senders.forEach((sender) => sender.send('WARM', {}));
          await sleep(20);
          return senders.every((s) => child.warm.has(s.id) && inbox.warm.has(s.id));
        },
        15_000,
        'both portals listed by both replicas',
      );
      await streamFor(300);
      await child.kill('SIGSTOP');
      const frozenAt = Date.now();
      await streamFor(FREEZE);
      await child.kill('SIGCONT');
      await streamFor(2_000);
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
