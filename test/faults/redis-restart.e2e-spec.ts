import { performance } from 'node:perf_hooks';
import type { TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { MESA_REDIS_CONNECTION, Message, MesaDispatchError, type MesaModuleOptions, type MesaRedisConnection } from '../../lib/index.js';
import { createMesaModule } from '../support/mesa-app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { RedisServer } from '../support/redis-server.js';
import { DispatchLoad, orderInversions, type DispatchOutcome } from './support/dispatch-load.js';
import { killAtWrite, straceInstalled } from './support/kill-at-write.js';
import { poll, sleep } from './support/processes.js';
import { Recorder } from './support/recorder.js';
import { secretsFound } from './support/secrets.js';
import { TcpGate } from './support/tcp-gate.js';
import { verbose } from '../support/verbose.js';

/*
 * Redis is SIGKILLed while a dispatch leaves every 2 ms, and restarted on the same port.
 *
 * The module reaches Redis through a TcpGate (a forwarder on another port): when Redis dies the
 * module's connection dies with it, and while Redis is down nothing listens on the gate, so every
 * reconnect is refused exactly as by a dead Redis. The gate reopens only once the test's Recorder
 * (connected to Redis directly, as a Mesa server would be) has re-subscribed: from then on every
 * publish Redis executes reaches the Recorder, so "resolved ⇒ received" is a statement about the
 * module, not about which of two clients reconnected first. The one exception is Redis's: what it
 * answered in the instant it was killed may never reach a subscriber (the last test shows why).
 *
 * No unhandled rejection: besides the awaited load, a dispatch nobody consumes leaves every 20 ms.
 * jest-circus fails the running test on any 'unhandledRejection' (a handler registered here with
 * process.on would never be called: jest's sandbox process is not the one that emits it).
 */

const DISPATCH_TIMEOUT = 1_500;
/** Timer and event-loop slack allowed on top of dispatchTimeout on this 2-core machine. */
const SLACK = 500;
const MAY_HAVE_BEEN_PUBLISHED = /may have been published/;

interface OutageRun {
  load: DispatchLoad;
  recorder: Recorder;
  logger: RecordingLogger;
  gatePort: number;
  /** When the module's connection saw Redis go (its first 'close' after the kill). */
  lostAt: number;
  /** When Redis was started again. */
  restartedAt: number;
  /** When the module could reach Redis again (gate reopened). */
  reachableAt: number;
  /** When the module's connection was ready again (its first 'ready' after the restart). */
  readyAgainAt: number;
}

/**
 * Runs the load, kills Redis after `killAfterMs`, restarts it `outageMs` later, keeps dispatching for
 * `afterMs` more, then waits until every dispatch settled (at most `settleWithinMs`) and `quietMs` more
 * for late publishes. Everything it started is stopped before it returns or throws.
 */
async function runOutage(options: {
  /** dispatchTimeout / whenDisconnected. */
  outage?: Pick<MesaModuleOptions, 'dispatchTimeout' | 'whenDisconnected'>;
  password?: string;
  killAfterMs?: number;
  outageMs: number;
  afterMs: number;
  settleWithinMs: number;
  quietMs: number;
}): Promise<OutageRun> {
  const { password } = options;
  const redis = await RedisServer.start(password ? ['--requirepass', password] : []);
  const gate = await TcpGate.open(redis.port);
  const logger = new RecordingLogger();
  let recorder: Recorder | undefined;
  let moduleRef: TestingModule | undefined;
  let load: DispatchLoad | undefined;
  let forgotten: NodeJS.Timeout | undefined;
  try {
    recorder = await Recorder.listen({ host: '127.0.0.1', port: redis.port, password });
    const url = password ? `redis://:${encodeURIComponent(password)}@127.0.0.1:${gate.port}` : gate.url;
    let dispatcher;
    ({ moduleRef, dispatcher } = await createMesaModule({ url, ...options.outage }, { logger }));
    const client: Redis = moduleRef.get<MesaRedisConnection>(MESA_REDIS_CONNECTION).client;
    const closes: number[] = [];
    const readies: number[] = [];
    client.on('close', () => closes.push(performance.now()));
    client.on('ready', () => readies.push(performance.now()));

    load = new DispatchLoad(dispatcher);
    load.start(2);
    forgotten = setInterval(() => void dispatcher.dispatch(new Message(0, {}, 'NOBODY_AWAITS'), ['u1']), 20);
    await sleep(options.killAfterMs ?? 500);
    const killedAt = performance.now();
    await redis.stop('SIGKILL');
    await gate.close();
    await poll(() => closes.some((t) => t >= killedAt), 2_000, "the module's connection to notice the kill", 1);
    const lostAt = closes.find((t) => t >= killedAt)!;
    await sleep(options.outageMs);
    const restartedAt = performance.now();
    await redis.restart();
    const db = redis.client();
    try {
      await poll(async () => ((await db.pubsub('NUMSUB', 'ws')) as [string, number])[1] >= 1, 5_000, 'the recorder to re-subscribe');
    } finally {
      db.disconnect();
    }
    await gate.reopen();
    const reachableAt = performance.now();
    await poll(() => readies.some((t) => t >= reachableAt), 5_000, "the module's connection to be ready again", 1);
    const readyAgainAt = readies.find((t) => t >= reachableAt)!;
    await sleep(options.afterMs);
    load.stop();
    clearInterval(forgotten);
    await load.settled(options.settleWithinMs);
    await sleep(options.quietMs);
    return { load, recorder, logger, gatePort: gate.port, lostAt, restartedAt, reachableAt, readyAgainAt };
  } finally {
    load?.stop();
    clearInterval(forgotten);
    await moduleRef?.close();
    recorder?.close();
    await gate.close();
    await redis.stop();
  }
}

/** What every outage run must show, whatever the options. */
function expectSoundOutcomes(run: OutageRun, settleBoundMs: number): void {
  const { load, recorder } = run;
  const received = new Set(recorder.numbers());
  // No dispatch hangs.
  expect(load.longestSettleMs()).toBeLessThan(settleBoundMs);
  // Every rejection is a MesaDispatchError with a message that says what happened.
  for (const { error } of load.rejected()) {
    expect(error).toBeInstanceOf(MesaDispatchError);
    expect(error!.message).toMatch(/Redis/);
  }
  // Every resolved dispatch was published: the subscriber has it, unless Redis answered it in the instant it was killed.
  expect(unheardResolved(run).otherwise.map(describeOutcome)).toEqual([]);
  // A rejection whose message does not say the outcome is unknown was never published, not even later.
  const publishedAfterRejection = load.rejected().filter((o) => !MAY_HAVE_BEEN_PUBLISHED.test(o.error!.message) && received.has(o.n));
  expect(publishedAfterRejection.map((o) => `${o.n}: ${o.error!.message}`)).toEqual([]);
  // Once Redis is back, dispatching works again without restarting the application.
  const afterRecovery = load.outcomes.filter((o) => o.issuedAt > run.readyAgainAt + 100);
  expect(afterRecovery.length).toBeGreaterThan(50);
  expect(afterRecovery.filter((o) => !o.result).map(describeOutcome)).toEqual([]);
  // Call order holds across the restart (and its script-cache loss, see script-cache-loss.e2e-spec.ts).
  expect(orderInversions(recorder.numbers())).toBe(0);
}

/**
 * The resolved dispatches the Recorder never heard. Redis writes a reply before the messages the command
 * published, so a kill between the two writes leaves the last publishes it ran answered and never heard
 * (shown exactly by the last test below): `answeredAsRedisDied` are those, dispatches the module saw resolve
 * before it lost Redis, later in call order than all Redis passed on; `otherwise` are all the others.
 */
function unheardResolved(run: OutageRun): { answeredAsRedisDied: DispatchOutcome[]; otherwise: DispatchOutcome[] } {
  const heard = new Set(run.recorder.numbers());
  const lastHeard = Math.max(-1, ...run.recorder.numbers(run.restartedAt));
  const unheard = run.load.resolved().filter((o) => !heard.has(o.n));
  const answeredAsRedisDied = unheard.filter((o) => o.settledAt! < run.lostAt && o.n > lastHeard);
  return { answeredAsRedisDied, otherwise: unheard.filter((o) => !answeredAsRedisDied.includes(o)) };
}

function describeOutcome(o: DispatchOutcome): string {
  return `#${o.n} ${o.error ? `rejected: ${o.error.message}` : o.result ? 'resolved' : 'pending'} after ${Math.round((o.settledAt ?? NaN) - o.issuedAt)} ms`;
}

function report(label: string, run: OutageRun): void {
  const samples = [...new Set(run.load.rejected().map((o) => o.error!.message.replace(/\d+/g, '#')))].slice(0, 4);
  const numbers = run.recorder.numbers();
  const duplicates = numbers.length - new Set(numbers).size;
  verbose(
    `${label}: ${run.load.summary()}; module lost Redis, ${Math.round(run.reachableAt - run.lostAt)} ms until reachable again, ` +
      `${Math.round(run.readyAgainAt - run.lostAt)} ms until ready again; ` +
      `${numbers.length} envelopes received (${duplicates} duplicates, ${orderInversions(numbers)} out of call order); ` +
      `resolved and never heard (answered as Redis died): ${JSON.stringify(unheardResolved(run).answeredAsRedisDied.map((o) => o.n))}; ` +
      `error samples: ${JSON.stringify(samples)}`,
  );
}

describe('Redis SIGKILLed and restarted on the same port while dispatching every 2 ms', () => {
  describe.each([
    // The documented default dispatchTimeout is 10 s: the bound on a dispatch that was in flight at the kill.
    { label: 'default options', password: undefined, outage: {}, bound: 10_000 + SLACK },
    {
      label: `password in the URL, dispatchTimeout ${DISPATCH_TIMEOUT}`,
      password: 'R3start-Pw-41d7e0',
      outage: { dispatchTimeout: DISPATCH_TIMEOUT },
      bound: DISPATCH_TIMEOUT + SLACK,
    },
  ])('$label', ({ label, password, outage, bound }) => {
    it('every dispatch settles in time, resolved ones were published, rejected ones only if they say they may have been, and dispatching resumes without restarting the app', async () => {
      const run = await runOutage({ password, outage, outageMs: 1_000, afterMs: 1_500, settleWithinMs: bound + 1_000, quietMs: 300 });
      report(label, run);

      expectSoundOutcomes(run, bound);
      if (password) {
        const errors = run.load.rejected().map((o) => o.error);
        expect(secretsFound([password, encodeURIComponent(password)], { logger: run.logger, errors })).toEqual([]);
      }
    }, 40_000);
  });

  it(`whenDisconnected 'queue': held while Redis is down, sent on reconnect or rejected after dispatchTimeout, never both`, async () => {
    // A 2.5 s outage: dispatches issued early in it must time out, those issued late must be sent.
    const run = await runOutage({
      outage: { whenDisconnected: 'queue', dispatchTimeout: DISPATCH_TIMEOUT },
      outageMs: 2_500,
      afterMs: 1_500,
      settleWithinMs: DISPATCH_TIMEOUT + SLACK,
      quietMs: DISPATCH_TIMEOUT + SLACK,
    });
    report(`whenDisconnected 'queue', dispatchTimeout ${DISPATCH_TIMEOUT}`, run);

    expectSoundOutcomes(run, DISPATCH_TIMEOUT + SLACK);
    const { load, lostAt, readyAgainAt } = run;
    // Issued early in the outage: still unsent after dispatchTimeout, so rejected (and, checked above, never published).
    const early = load.outcomes.filter((o) => o.issuedAt > lostAt + 50 && o.issuedAt < readyAgainAt - DISPATCH_TIMEOUT - 100);
    expect(early.length).toBeGreaterThan(50);
    expect(early.filter((o) => !o.error).map(describeOutcome)).toEqual([]);
    expect(early.filter((o) => !/not sent and will not be/.test(o.error!.message)).map(describeOutcome)).toEqual([]);
    // Issued late in the outage: held, then sent once the connection was ready again.
    const late = load.outcomes.filter(
      (o) => o.issuedAt > lostAt + 50 && o.issuedAt > readyAgainAt - DISPATCH_TIMEOUT + 100 && o.issuedAt < readyAgainAt,
    );
    expect(late.length).toBeGreaterThan(50);
    expect(late.filter((o) => !o.result).map(describeOutcome)).toEqual([]);
  }, 40_000);

  it(`whenDisconnected 'fail': rejected at once while Redis is down, never published later`, async () => {
    const run = await runOutage({
      outage: { whenDisconnected: 'fail', dispatchTimeout: DISPATCH_TIMEOUT },
      outageMs: 1_000,
      afterMs: 1_500,
      settleWithinMs: DISPATCH_TIMEOUT + SLACK,
      quietMs: DISPATCH_TIMEOUT + SLACK,
    });
    report(`whenDisconnected 'fail', dispatchTimeout ${DISPATCH_TIMEOUT}`, run);

    expectSoundOutcomes(run, DISPATCH_TIMEOUT + SLACK);
    const whileDown = run.load.outcomes.filter((o) => o.issuedAt > run.lostAt + 50 && o.issuedAt < run.readyAgainAt);
    expect(whileDown.length).toBeGreaterThan(100);
    expect(whileDown.filter((o) => !o.error || o.settledAt! - o.issuedAt > 100).map(describeOutcome)).toEqual([]);
    const received = new Set(run.recorder.numbers());
    expect(whileDown.filter((o) => received.has(o.n)).map(describeOutcome)).toEqual([]);
    expect(whileDown.filter((o) => MAY_HAVE_BEEN_PUBLISHED.test(o.error!.message)).map(describeOutcome)).toEqual([]);
    // The dispatches nobody awaited failed too, and were logged, not left as unhandled rejections.
    expect(run.logger.errors(/^A dispatch nobody awaited failed: Redis at .* is unreachable/).length).toBeGreaterThan(0);
  }, 40_000);

  /*
   * Regression: the module opens its connection with ioredis's autoResendUnfulfilledCommands off, so
   * that a command lost with its connection is never sent again behind its caller's back. ioredis
   * then neither resends nor rejects such a command (it drops it on the next 'ready'), so the module
   * fails the batches it had sent as soon as the connection closes, saying they may have been
   * published, instead of leaving them pending until dispatchTimeout.
   */
  it('a dispatch in flight when Redis dies rejects when the connection drops, saying it may have been published', async () => {
    const redis = await RedisServer.start();
    const db = redis.client();
    const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, dispatchTimeout: 3_000 }, { logger: false });
    try {
      await dispatcher.dispatch(new Message(0, {}, 'WARM_UP'), ['u1']);
      await db.call('CLIENT', 'PAUSE', '5000', 'ALL');
      const outcome = dispatcher.dispatch(new Message(0, {}, 'IN_FLIGHT'), ['u1']).then(
        () => 'resolved',
        (error: Error) => error.message,
      );
      await sleep(100); // sent; Redis, paused, has not run it
      const killedAt = performance.now();
      await redis.stop('SIGKILL');
      await redis.restart();
      const settled = await Promise.race([outcome, sleep(1_000).then(() => 'still pending 1 s after the kill, with Redis back')]);
      verbose(`in flight at the kill: ${settled} (${Math.round(performance.now() - killedAt)} ms after the kill)`);

      expect(settled).toMatch(/lost the connection.*may have been published/);
      await outcome;
    } finally {
      db.disconnect();
      await moduleRef.close();
      await redis.stop();
    }
  }, 15_000);

  /*
   * Why expectSoundOutcomes lets the last publishes before a kill go unheard. Redis flushes the client it
   * queued last first: a command's reply goes out before the messages it published to subscribers. strace
   * kills Redis on entering its second write(2) after the dispatch was issued, after the reply and before
   * the message: Redis ran the publish and counted one receiver, which never hears it. No client can tell.
   */
  (straceInstalled ? it : it.skip)(
    'Redis killed between answering a publish and passing it on: the dispatch resolves, as Redis reported, and nobody hears it',
    async () => {
      const redis = await RedisServer.start();
      const recorder = await Recorder.listen({ host: '127.0.0.1', port: redis.port });
      const { moduleRef, dispatcher } = await createMesaModule({ url: redis.url, dispatchTimeout: 3_000 }, { logger: false });
      try {
        await dispatcher.dispatch(new Message(0, { n: 0 }, 'TICK'), ['u1']);
        await recorder.waitForAll([0]);
        const killer = await killAtWrite(redis.pid!, 2);
        const result = await dispatcher.dispatch(new Message(0, { n: 1 }, 'TICK'), ['u1']);
        const trace = await killer.finished;
        await sleep(200);
        verbose(`killed between two writes:\n${trace.trim()}`);

        expect(trace).toMatch(/^write\(\d+, ":1\\r\\n", 4\) += 4\nwrite\(\d+, ".*message.*\) += \?\n\+\+\+ killed by SIGKILL \+\+\+/m);
        expect(result).toEqual({ recipients: ['u1'], publishedTo: ['u1'], storedFor: [], receivers: 1 });
        expect(recorder.numbers()).toEqual([0]);
      } finally {
        await moduleRef.close();
        recorder.close();
        await redis.stop();
      }
    },
    15_000,
  );
});
