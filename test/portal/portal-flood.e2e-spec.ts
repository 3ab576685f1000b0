import { readFileSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { OnMesaMessage, type MesaClientMessage } from '../../lib/index.js';
import { eventually } from '../support/mesa-app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { verbose } from '../support/verbose.js';
import { PortalChild } from './support/portal-child-process.js';
import { PortalSender, poolMembers, sleep, startPortalApp, usePortalServers } from './support/portal-harness.js';

/** The peak resident set size of a live process (Linux), for the verbose report. */
function peakRss(pid: number): string {
  try {
    return /VmHWM:\s*(\d+ kB)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
  } catch {
    return '(process gone)';
  }
}

/** A 50 ms handler that records, per client, what it handled. */
@Injectable()
class SlowInbox {
  readonly handled = new Map<string, number>();
  @OnMesaMessage('WORK')
  async onWork(message: MesaClientMessage) {
    await sleep(50);
    const from = message.clientId ?? '(unauthenticated)';
    this.handled.set(from, (this.handled.get(from) ?? 0) + 1);
  }
}

describe('Portal under a flood from one client', () => {
  const servers = usePortalServers(1);

  it('survives 0.9 MB frames from one unauthenticated socket against a slow handler: beyond maxQueuedBytes they are dropped, unparsed, and logged', async () => {
    const child = await PortalChild.start({ redisUrl: servers.redis.url, id: 'heap', slowMs: 2_000 }, ['--max-old-space-size=96']);
    const mallory = await PortalSender.connect(servers.mesa.url(0), 'mallory', false);
    const alice = await PortalSender.connect(servers.mesa.url(0), 'alice');
    const payload = 'x'.repeat(900_000);
    const frames = 300;
    const floodStartedAt = Date.now();
    try {
      for (let i = 0; i < frames && !child.exited; i++) {
        mallory.send('SLOW', payload);
        await sleep(15);
      }
      await sleep(3_000);
      verbose(
        `flood of ${frames} × 0.9 MB frames: child ${child.exited ? `died (${child.process.signalCode ?? child.process.exitCode})` : 'alive'}, ` +
          `${child.slowStarted} SLOW handlers started, peak RSS ${peakRss(child.process.pid!)}`,
      );
      expect(child.exited).toBe(false);
      alice.send('SEQ', { n: 1 });
      await eventually(() => child.handled.has(1), 15_000, 'a frame of another client handled after the flood');
      expect(child.output).toMatch(/dropped a client event of 9000\d\d bytes from an unauthenticated socket/);
      // throttled: at most the LogThrottle's 5 lines and 1 summary per reason (3 reasons) in each 10 s window the
      // flood spanned (a loaded machine stretches it over two), against one per frame dropped
      const windows = Math.ceil((Date.now() - floodStartedAt) / 10_000);
      expect(child.output.match(/dropped a client event/g)!.length).toBeLessThanOrEqual(3 * 6 * windows);
    } finally {
      mallory.close();
      alice.close();
      await child.kill();
    }
  }, 90_000);

  it('keeps another user served while one client floods: each client holds at most its share of the queue, served in turn', async () => {
    const logger = new RecordingLogger();
    const app = await startPortalApp(servers.redis.url, { id: 'fair' }, { providers: [SlowInbox], logger });
    const db = servers.redis.client();
    const inbox = app.get(SlowInbox);
    const flooder = await PortalSender.connect(servers.mesa.url(0), 'flooder');
    const bob = await PortalSender.connect(servers.mesa.url(0), 'bob');
    let flooding = true;
    try {
      await eventually(
        async () => (await poolMembers(db)).join() === 'fair',
        10_000,
        'portal joined, alone (the child of the test before reaped)',
      );
      await sleep(200);
      const flood = (async () => {
        while (flooding) {
          for (let i = 0; i < 100; i++) flooder.send('WORK', { i });
          await sleep(10);
        }
      })();
      await sleep(1_000);
      const sent = 300;
      for (let i = 0; i < sent; i++) {
        bob.send('WORK', { i });
        await sleep(10);
      }
      await sleep(1_000);
      flooding = false;
      await flood;
      await eventually(() => (inbox.handled.get('bob') ?? 0) >= sent, 20_000, "every one of bob's frames handled").catch(() => undefined);
      const handledForBob = inbox.handled.get('bob') ?? 0;
      verbose(
        `fairness: bob ${handledForBob}/${sent} handled (${Math.round((100 * (sent - handledForBob)) / sent)} % dropped); ` +
          `flooder ${inbox.handled.get('flooder') ?? 0} handled`,
      );
      expect(logger.lines.filter((l) => /from client "bob"/.test(l.message))).toEqual([]);
      expect(handledForBob).toBe(sent);
      expect(
        logger.lines.some(
          (l) =>
            l.level === 'warn' && /dropped a client event of \d+ bytes from client "flooder": .*portal\.maxClientShare/.test(l.message),
        ),
      ).toBe(true);
    } finally {
      flooding = false;
      flooder.close();
      bob.close();
      await app.close();
      db.disconnect();
    }
  }, 90_000);
});
