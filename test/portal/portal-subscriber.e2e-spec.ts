import { createRequire } from 'node:module';
import { Injectable } from '@nestjs/common';
import { OnMesaMessage, type MesaClientMessage } from '../../lib/index.js';
import { eventually } from '../support/mesa-app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { verbose } from '../support/verbose.js';
import { freePort } from '../support/free-port.js';
import { PortalSender, mesaConnected, poolMembers, sleep, startPortalApp, usePortalServers } from './support/portal-harness.js';

const require = createRequire(import.meta.url);
/** Mesa's server class, run in this process for the test of the documented setting. */
const { default: Mesa } = require('@cryb/mesa') as { default: new (config: object) => any };

@Injectable()
class Inbox {
  readonly seq = new Map<number, number>();
  @OnMesaMessage('SEQ')
  onSeq(message: MesaClientMessage) {
    this.seq.set((message.data as { n: number }).n, Date.now());
  }
}

describe('Portal: one huge frame makes Redis close every portal subscriber', () => {
  const servers = usePortalServers(1);

  it('says so at once, subscribes again at once, and handles everything published after that', async () => {
    const db = servers.redis.client();
    const logger = new RecordingLogger();
    const app = await startPortalApp(servers.redis.url, { id: 'cut' }, { providers: [Inbox], logger });
    const inbox = app.get(Inbox);
    const alice = await PortalSender.connect(servers.mesa.url(0), 'alice');
    const mallory = await PortalSender.connect(servers.mesa.url(0), 'mallory', false);
    const sentAt = new Map<number, number>();
    let streaming = true;
    try {
      await eventually(async () => (await poolMembers(db)).includes('cut'), 10_000, 'portal joined');
      await sleep(200);
      const stream = (async () => {
        for (let n = 0; streaming; n++) {
          sentAt.set(n, Date.now());
          alice.send('SEQ', { n });
          await sleep(10);
        }
      })();
      await sleep(500);
      const bigAt = Date.now();
      mallory.send('BIG', 'x'.repeat(40_000_000));
      await sleep(4_000);
      streaming = false;
      await stream;
      await sleep(500);
      const lost = [...sentAt.keys()].filter((n) => !inbox.seq.has(n));
      const lostSpan = lost.length === 0 ? 0 : Math.max(...lost.map((n) => sentAt.get(n)!)) - bigAt;
      const outage = /again, (\d+) ms after losing it/.exec(logger.text())?.[1];
      verbose(
        `40 MB frame: subscriber out for ${outage ?? '?'} ms; ${lost.length} of ${sentAt.size} events of another user lost, ` +
          `the last sent ${lostSpan} ms after the big frame`,
      );
      expect(lost.length).toBeGreaterThan(0);
      const warnings = (pattern: RegExp) => logger.lines.filter((l) => l.level === 'warn' && pattern.test(l.message));
      expect(warnings(/subscriber connection to .* closed; client events published/)).toHaveLength(1);
      const again = warnings(/subscribed to portal again, \d+ ms after losing it/);
      expect(again).toHaveLength(1);
      expect(app.portal.status().subscriberLosses).toBe(1);
      // Mesa publishes a socket's frames in order, so a frame sent after the portal said it subscribed again is
      // published after that: every one of them is handled (how long the cut lasts depends on the machine's speed)
      const sentAfterResubscribing = [...sentAt.keys()].filter((n) => sentAt.get(n)! >= again[0].at);
      expect(sentAfterResubscribing.length).toBeGreaterThan(50);
      expect(sentAfterResubscribing.filter((n) => !inbox.seq.has(n))).toEqual([]);
    } finally {
      streaming = false;
      alice.close();
      mallory.close();
      await app.close();
      db.disconnect();
    }
  }, 60_000);

  it("the documented Mesa setting (ws maxPayload, and an error listener per socket) refuses the frame: the sender is closed with 1009, the server and every portal's subscriber stay", async () => {
    const db = servers.redis.client();
    const logger = new RecordingLogger();
    const app = await startPortalApp(servers.redis.url, { id: 'capped' }, { providers: [Inbox], logger });
    const port = await freePort();
    const mesa = new Mesa({ port, redis: servers.redis.url, portal: { enabled: true }, gracefullyExit: false });
    mesa.wss.options.maxPayload = 1024 * 1024;
    mesa.wss.on('connection', (socket: { on(event: 'error', listener: () => void): void }) => socket.on('error', () => undefined));
    mesa.on('connection', (client: any) =>
      client.authenticate((data: { id: string }, done: any) => done(null, { id: data.id, user: data })),
    );
    await new Promise((resolve) => mesa.wss.once('listening', resolve));
    const mallory = await PortalSender.connect(`ws://127.0.0.1:${port}`, 'mallory', false);
    const alice = await PortalSender.connect(`ws://127.0.0.1:${port}`, 'alice');
    try {
      await eventually(async () => (await poolMembers(db)).includes('capped'), 10_000, 'portal joined');
      await mesaConnected(servers.redis, 2);
      await eventually(
        async () => {
          alice.send('SEQ', { n: 0 });
          await sleep(50);
          return app.get(Inbox).seq.has(0);
        },
        10_000,
        'the in-process Mesa server routes to the portal',
      );
      const closed = new Promise<number>((resolve) => mallory.onClose(resolve));
      mallory.send('BIG', 'x'.repeat(40_000_000));
      expect(await closed).toBe(1009);
      for (let n = 1; n <= 50; n++) alice.send('SEQ', { n });
      await eventually(() => app.get(Inbox).seq.size === 51, 10_000, 'the other client keeps being heard');
      expect(app.portal.status().subscriberLosses).toBe(0);
      expect(logger.lines.filter((l) => /subscriber/.test(l.message))).toEqual([]);
    } finally {
      mallory.close();
      alice.close();
      await sleep(300); // Mesa counts the disconnections in Redis before its clients quit
      mesa.close();
      await Promise.all([mesa.redis, mesa.publisher, mesa.subscriber].map((client) => client.quit()));
      await app.close();
      db.disconnect();
    }
  }, 60_000);
});
