import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Message, MesaDispatchError, type DispatchResult } from '../../lib/index.js';
import { createMesaModule } from '../support/mesa-app.js';
import { RedisServer } from '../support/redis-server.js';
import { poll, sleep } from './support/processes.js';
import { Recorder } from './support/recorder.js';
import { verbose } from '../support/verbose.js';

const IN_FLIGHT = 10_000;
const DISPATCH_TIMEOUT = 1_500;
const CLOSE_WHILE_HELD = fileURLToPath(new URL('./support/close-while-held.mjs', import.meta.url));

/** Tracks how each dispatch settled, and when. */
function track(promise: Promise<DispatchResult>) {
  const outcome: { result?: DispatchResult; error?: Error; settledAt?: number } = {};
  promise.then(
    (result) => Object.assign(outcome, { result, settledAt: performance.now() }),
    (error: Error) => Object.assign(outcome, { error, settledAt: performance.now() }),
  );
  return outcome;
}

describe('app.close() under load', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis.stop());

  const moduleConnections = () => redis.connectionsNamed('nestjs-mesa');

  it.each([false, true])(
    `with ${IN_FLIGHT} dispatches in flight (sync: %s): every one resolves before close() does, all arrive in order, no connection is left`,
    async (sync) => {
      const recorder = await Recorder.listen({ host: '127.0.0.1', port: redis.port });
      const db = redis.client();
      try {
        await db.sadd('connected_clients', 'online');
        const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, sync: { enabled: sync }, maxStoredPerUser: Infinity });
        expect(await moduleConnections()).toBe(1);

        const outcomes = Array.from({ length: IN_FLIGHT }, (_, n) =>
          track(dispatcher.dispatch(new Message(0, { n }, 'IN_FLIGHT'), ['online', 'offline'])),
        );
        const closeStartedAt = performance.now();
        await moduleRef.close();
        const closedAt = performance.now();
        verbose(`close() with ${IN_FLIGHT} in flight (sync: ${sync}) took ${Math.round(closedAt - closeStartedAt)} ms`);

        expect(outcomes.filter((o) => !o.result || o.settledAt! > closedAt)).toHaveLength(0);
        await recorder.waitForAll(
          Array.from({ length: IN_FLIGHT }, (_, n) => n),
          10_000,
        );
        expect(recorder.numbers()).toEqual(Array.from({ length: IN_FLIGHT }, (_, n) => n));
        if (sync) {
          const stored = JSON.parse((await db.hget('undelivered_messages', 'offline'))!) as Array<{ d: { n: number } }>;
          expect(stored.map((m) => m.d.n)).toEqual(Array.from({ length: IN_FLIGHT }, (_, n) => n));
        }
        expect(await moduleConnections()).toBe(0);
      } finally {
        await db.flushall();
        db.disconnect();
        recorder.close();
      }
    },
    60_000,
  );

  it('dispatches issued while close() runs either resolve (and arrive, in order) or reject as shut down (and never arrive); none hangs', async () => {
    const recorder = await Recorder.listen({ host: '127.0.0.1', port: redis.port });
    try {
      const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url });
      const outcomes: Array<ReturnType<typeof track>> = [];
      const fire = () => outcomes.push(track(dispatcher.dispatch(new Message(0, { n: outcomes.length }, 'DURING_CLOSE'), ['u1'])));
      for (let n = 0; n < 2_000; n++) fire();
      let closed = false;
      const closing = moduleRef.close().then(() => (closed = true));
      while (!closed) {
        fire();
        await new Promise((resolve) => setImmediate(resolve));
      }
      await closing;
      for (let n = 0; n < 10; n++) fire(); // after close(): rejected at once

      await sleep(200);
      const resolved = outcomes.flatMap((o, n) => (o.result ? [n] : []));
      const rejected = outcomes.flatMap((o, n) => (o.error ? [n] : []));
      verbose(`dispatching during close(): ${outcomes.length} dispatched, ${resolved.length} resolved, ${rejected.length} rejected`);
      expect(resolved.length + rejected.length).toBe(outcomes.length);
      for (const n of rejected) {
        expect(outcomes[n].error).toBeInstanceOf(MesaDispatchError);
        expect(outcomes[n].error!.message).toMatch(/shut down/);
      }
      // Once one was refused, every later one was too: the module stops taking dispatches at one moment.
      expect(rejected.every((n) => n > resolved.at(-1)!)).toBe(true);
      expect(resolved.length).toBeGreaterThanOrEqual(2_000);
      await recorder.waitForAll(resolved);
      expect(recorder.numbers()).toEqual(resolved);
    } finally {
      recorder.close();
    }
  }, 30_000);

  it(`with Redis SIGKILLed and not coming back and 1000 dispatches in flight, close() returns: each rejects within dispatchTimeout (${DISPATCH_TIMEOUT} ms)`, async () => {
    const doomed = await RedisServer.start();
    const db = doomed.client();
    try {
      const { moduleRef, dispatcher } = await createMesaModule({ url: doomed.url, dispatchTimeout: DISPATCH_TIMEOUT }, { logger: false });
      await dispatcher.dispatch(new Message(0, {}, 'WARM_UP'), ['u1']);
      // Paused, Redis takes the commands but runs none: every dispatch is sent and unanswered when it dies.
      await db.call('CLIENT', 'PAUSE', '10000', 'ALL');
      const outcomes = Array.from({ length: 1_000 }, (_, n) => track(dispatcher.dispatch(new Message(0, { n }, 'DOOMED'), ['u1'])));
      await sleep(100);
      const killedAt = performance.now();
      await doomed.stop('SIGKILL');

      await moduleRef.close();
      const closedAfter = performance.now() - killedAt;
      verbose(`close() with Redis dead and 1000 dispatches in flight returned ${Math.round(closedAfter)} ms after the kill`);

      expect(outcomes.filter((o) => !o.error)).toHaveLength(0);
      const messages = new Set(outcomes.map((o) => `${o.error!.name}: ${o.error!.message}`));
      expect([...messages].filter((m) => !/^MesaDispatchError: .*may have been published/.test(m))).toEqual([]);
      expect(Math.max(...outcomes.map((o) => o.settledAt! - killedAt))).toBeLessThan(DISPATCH_TIMEOUT + 500);
      // dispatchTimeout, then up to 2 s for QUIT and 2 s for the connection's end (MesaRedisConnection.close).
      expect(closedAfter).toBeLessThan(DISPATCH_TIMEOUT + 5_000);
    } finally {
      db.disconnect();
      await doomed.stop();
    }
  }, 30_000);

  /*
   * Regression (found by this file): with a dispatch held (Redis unreachable, whenDisconnected
   * 'queue', the default) and none in flight, DispatchQueue.drain() used to loop on promises alone
   * and never let the timer that expires held dispatches run: the process ran out of memory. drain()
   * now waits on a real timer. It runs in a child process with a small heap, so that a regression
   * crashes the child, not jest.
   */
  it('with Redis down and a dispatch held (none in flight), close() rejects it as not sent and returns', async () => {
    const doomed = await RedisServer.start();
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, ['--max-old-space-size=64', CLOSE_WHILE_HELD, String(doomed.port)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
      child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk).slice(-2_000)));
      const exited = new Promise<number | string>((resolve) => child!.once('exit', (code, signal) => resolve(code ?? String(signal))));
      await poll(
        () => stdout.includes('ready'),
        10_000,
        () => `the child to connect (stderr: ${stderr})`,
      );
      await doomed.stop('SIGKILL');
      const exit = await Promise.race([exited, sleep(15_000).then(() => 'still running after 15 s')]);
      verbose(
        `close() with a dispatch held: child exit ${exit}; stdout ${stdout.trim().split('\n').slice(1).join(' ')}; stderr ${/heap out of memory/.test(stderr) ? 'JavaScript heap out of memory' : stderr.slice(-200)}`,
      );

      expect(exit).toBe(0);
      const [, reportLine, closedLine] = stdout.trim().split('\n');
      expect(closedLine).toBe('closed');
      const report = JSON.parse(reportLine);
      expect(report.outcome).toMatch(/^MesaDispatchError: .*not sent/);
      expect(report.closeMs).toBeLessThan(report.dispatchTimeout + 5_000);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await doomed.stop();
    }
  }, 30_000);

  it('with Redis paused (CLIENT PAUSE 1000), close() waits for it and every dispatch resolves', async () => {
    const recorder = await Recorder.listen({ host: '127.0.0.1', port: redis.port });
    const db = redis.client();
    try {
      const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url });
      await dispatcher.dispatch(new Message(0, {}, 'WARM_UP'), ['u1']);
      await db.call('CLIENT', 'PAUSE', '1000', 'ALL');
      const pausedAt = performance.now();
      const outcomes = Array.from({ length: 1_000 }, (_, n) => track(dispatcher.dispatch(new Message(0, { n }, 'PAUSED'), ['u1'])));

      await moduleRef.close();
      const closedAfter = performance.now() - pausedAt;
      verbose(`close() with Redis paused for 1000 ms returned after ${Math.round(closedAfter)} ms`);

      expect(closedAfter).toBeGreaterThan(900);
      expect(outcomes.filter((o) => !o.result)).toHaveLength(0);
      await recorder.waitForAll(Array.from({ length: 1_000 }, (_, n) => n));
      expect(recorder.numbers().filter((n) => n >= 0)).toEqual(Array.from({ length: 1_000 }, (_, n) => n));
    } finally {
      db.disconnect();
      recorder.close();
    }
  }, 30_000);
});
