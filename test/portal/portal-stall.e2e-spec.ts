import { Injectable } from '@nestjs/common';
import { OnMesaMessage } from '../../lib/index.js';
import { MesaHealthIndicator, MesaHealthModule } from '../../lib/health/index.js';
import { MESA_PORTAL_DEFAULTS } from '../../lib/mesa.constants.js';
import { eventually } from '../support/mesa-app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { verbose } from '../support/verbose.js';
import { PortalSender, poolMembers, sleep, startPortalApp, usePortalServers, type PortalApp } from './support/portal-harness.js';
import { SeqInbox, SeqStream, untilListed } from './support/seq-traffic.js';

/** On the instance whose `hangs` is set, HANG never settles (until `release()`). */
@Injectable()
class Inbox extends SeqInbox {
  hangs = false;
  hanging = 0;
  private releaseAll!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.releaseAll = resolve));

  @OnMesaMessage('HANG')
  async onHang() {
    if (!this.hangs) return;
    this.hanging++;
    await this.gate;
  }

  release(): void {
    this.releaseAll();
  }
}

describe('Portal: handlers that never settle', () => {
  const servers = usePortalServers(2);

  it('frees their slots after handlerTimeout; with `concurrency` of them hung the instance leaves the pool, and rejoins once one settles', async () => {
    const db = servers.redis.client();
    const logger = new RecordingLogger();
    const wedged = await startPortalApp(servers.redis.url, { id: 'wedged' }, { providers: [Inbox], imports: [MesaHealthModule], logger });
    const health = wedged.get(MesaHealthIndicator);
    const healthy = await startPortalApp(servers.redis.url, { id: 'healthy' }, { providers: [Inbox], logger });
    const senders = [await PortalSender.connect(servers.mesa.url(0), 'alice'), await PortalSender.connect(servers.mesa.url(1), 'bob')];
    const inboxes = [wedged, healthy].map((app: PortalApp) => app.get(Inbox));
    inboxes[0]!.hangs = true;
    const stream = new SeqStream(senders);
    const handled = (k: number) => inboxes.some((inbox) => inbox.seq.has(k));
    try {
      await untilListed(senders, inboxes);
      const { concurrency, handlerTimeout } = MESA_PORTAL_DEFAULTS;
      while (inboxes[0]!.hanging < concurrency) {
        senders.forEach((sender) => sender.send('HANG', {}));
        await sleep(5);
      }
      const wedgedAt = Date.now();
      const duringWedge = await stream.burst(100);
      await eventually(
        async () => (await poolMembers(db)).join() === 'healthy',
        handlerTimeout + 10_000,
        'the wedged instance out of the pool',
      );
      const leftAfter = Date.now() - wedgedAt;
      await sleep(300);
      const afterLeaving = await stream.burst(200);
      await eventually(() => afterLeaving.every(handled), 10_000, 'every event sent after it left handled by the other');
      expect(wedged.portal.status()).toMatchObject({ joined: false, stalled: true, hungHandlers: concurrency, handling: 0 });
      expect((await health.isHealthy()).mesa).toMatchObject({
        status: 'down',
        portal: { id: 'wedged', joined: false, stalled: true, hungHandlers: concurrency },
        message: expect.stringMatching(/^Portal wedged cannot make progress: 32 handler runs outlived portal\.handlerTimeout/),
      });
      expect(logger.errors(/cannot make progress: it leaves the pool/)).toHaveLength(1);
      expect(logger.lines.some((l) => l.level === 'warn' && /has not settled after handlerTimeout \(10000 ms\)/.test(l.message))).toBe(
        true,
      );

      inboxes[0]!.release();
      await eventually(async () => (await poolMembers(db)).join() === 'healthy,wedged', 10_000, 'the wedged instance rejoins');
      await eventually(() => duringWedge.every(handled), 10_000, 'what it had queued is handled after all');
      await sleep(300);
      const afterRejoining = await stream.burst(200);
      await eventually(() => afterRejoining.every(handled), 10_000, 'every event after the rejoin handled');
      expect(afterRejoining.filter((k) => inboxes[0]!.seq.has(k)).length).toBeGreaterThan(20);
      expect(wedged.portal.status()).toMatchObject({ joined: true, stalled: false, hungHandlers: 0 });
      expect((await health.isHealthy()).mesa).toMatchObject({ status: 'up', portal: { id: 'wedged', joined: true, stalled: false } });
      verbose(`wedged portal left the pool ${leftAfter} ms after ${concurrency} handlers hung; all 200 events after that handled`);
    } finally {
      inboxes[0]!.release();
      senders.forEach((sender) => sender.close());
      await wedged.close();
      await healthy.close();
      db.disconnect();
    }
  }, 90_000);
});
