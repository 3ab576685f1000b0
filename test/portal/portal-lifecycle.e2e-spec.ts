import { Injectable } from '@nestjs/common';
import { OnMesaMessage } from '../../lib/index.js';
import { PORTAL_LEAVE_TIMEOUT_MS, SHUTDOWN_STEP_TIMEOUT_MS } from '../../lib/mesa.constants.js';
import { createMesaModule, eventually } from '../support/mesa-app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { RedisServer } from '../support/redis-server.js';
import { verbose } from '../support/verbose.js';
import { PortalSender, poolMembers, sleep, startPortalApp, usePortalServers } from './support/portal-harness.js';

/** Takes 200 ms per frame and records when each run started. */
@Injectable()
class Worker {
  readonly startedAt: number[] = [];
  @OnMesaMessage('WORK')
  async onWork() {
    this.startedAt.push(Date.now());
    await sleep(200);
  }
}

/** Room for a loaded 2-core machine. */
const SLACK = 2_000;

/** How long `close` takes, or `Infinity` when it has not returned within `cap` ms (the test then fails, not hangs). */
async function timeClose(close: () => Promise<void>, cap: number): Promise<number> {
  const started = performance.now();
  const closed = await Promise.race([close().then(() => true), sleep(cap).then(() => false)]);
  return closed ? performance.now() - started : Infinity;
}

describe('Portal lifecycle edges', () => {
  const servers = usePortalServers(1);

  it('a portal closed right after bootstrap never joins afterwards, and its heartbeat does not run on', async () => {
    const db = servers.redis.client();
    const logger = new RecordingLogger();
    const { moduleRef } = await createMesaModule(
      { url: servers.redis.url, portal: { enabled: true, id: 'brief', heartbeatTtl: 300 } },
      { providers: [Worker], logger },
    );
    try {
      await moduleRef.close();
      await sleep(1_500);
      expect(await poolMembers(db)).toEqual([]);
      expect(await db.zscore('portal_heartbeats', 'brief')).toBeNull();
      expect(logger.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    } finally {
      await moduleRef.close();
      db.disconnect();
    }
  });

  it('no handler starts after app.close() resolves: what still waits after drainTimeout is dropped, and said so', async () => {
    const logger = new RecordingLogger();
    const app = await startPortalApp(
      servers.redis.url,
      { id: 'closing', concurrency: 1, leaveGrace: 0, drainTimeout: 300 },
      { providers: [Worker], logger },
    );
    const db = servers.redis.client();
    const sender = await PortalSender.connect(servers.mesa.url(0), 'erin');
    const worker = app.get(Worker);
    try {
      await eventually(async () => (await poolMembers(db)).includes('closing'), 10_000, 'portal joined');
      await sleep(200);
      for (let i = 0; i < 30; i++) sender.send('WORK', { i });
      await eventually(() => worker.startedAt.length > 0, 10_000, 'the first run');
      await app.close();
      const closedAt = Date.now();
      await sleep(1_500);
      const lateStarts = worker.startedAt.filter((at) => at > closedAt).length;
      verbose(`handlers started after app.close() resolved: ${lateStarts} (of ${worker.startedAt.length} started)`);
      expect(lateStarts).toBe(0);
      expect(worker.startedAt.length).toBeLessThan(30);
      expect(logger.lines.some((l) => l.level === 'warn' && /waiting were dropped; no handler starts any more/.test(l.message))).toBe(true);
    } finally {
      sender.close();
      await app.close();
      db.disconnect();
    }
  });
});

describe('close() with Redis frozen (SIGSTOP) is bounded', () => {
  /** close() of a module with neither portal nor sweeper, Redis frozen: the base the others are measured against. */
  let plain = 0;

  /** Starts a redis-server, runs `open` against it, freezes it after `settle` ms, and times `close`. */
  async function frozenClose(open: (url: string) => Promise<{ close(): Promise<void>; ready?(): Promise<void> }>): Promise<number> {
    const redis = await RedisServer.start();
    const target = await open(redis.url);
    try {
      await target.ready?.();
      await sleep(300);
      redis.pause();
      await sleep(200);
      return await timeClose(() => target.close(), 50_000);
    } finally {
      redis.resume();
      await target.close();
      await redis.stop();
    }
  }

  beforeAll(async () => {
    plain = await frozenClose(async (url) => (await createMesaModule({ url }, { logger: false })).moduleRef);
    verbose(`close() of the plain module, Redis frozen: ${Math.round(plain)} ms`);
  }, 70_000);

  it('with the portal enabled: at most its departure timeout more', async () => {
    const took = await frozenClose(async (url) => {
      const app = await startPortalApp(url, { id: 'frozen' }, { providers: [Worker] });
      return { close: () => app.close(), ready: () => eventually(() => app.portal.joined, 10_000, 'portal joined') };
    });
    verbose(`close() with the portal, Redis frozen: ${Math.round(took)} ms`);
    expect(took).toBeLessThanOrEqual(plain + PORTAL_LEAVE_TIMEOUT_MS + SLACK);
  }, 70_000);

  it('with the sweeper of expired stored messages running: at most one step timeout more', async () => {
    const took = await frozenClose(
      async (url) =>
        (await createMesaModule({ url, sync: { enabled: true, ttl: 60_000, sweepInterval: 50 } }, { logger: false })).moduleRef,
    );
    verbose(`close() with the sweeper, Redis frozen: ${Math.round(took)} ms`);
    expect(took).toBeLessThanOrEqual(plain + SHUTDOWN_STEP_TIMEOUT_MS + SLACK);
  }, 70_000);
});
