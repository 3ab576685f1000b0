import { performance } from 'node:perf_hooks';
import type { TestingModule } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { MESA_REDIS_CONNECTION, MesaDispatchError, type MesaRedisConnection } from '../../lib/index.js';
import { createMesaModule } from '../support/mesa-app.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { DispatchLoad, orderInversions } from './support/dispatch-load.js';
import { poll, sleep } from './support/processes.js';
import { Recorder } from './support/recorder.js';
import { secretsFound } from './support/secrets.js';
import { MASTER_NAME, SentinelGroup } from './support/sentinel-group.js';
import { verbose } from '../support/verbose.js';

/** The documented default dispatchTimeout. */
const DEFAULT_DISPATCH_TIMEOUT = 10_000;

/**
 * A primary, a replica and three Sentinels; the module connects through the Sentinels. The primary is
 * SIGKILLed while a dispatch leaves every 5 ms. Subscribers on both data nodes (and one that follows
 * the Sentinels) record what was published.
 */
describe.each([
  // Failover takes about 2.5 s here: with the default dispatchTimeout every dispatch is held and sent.
  { label: 'no password, default dispatchTimeout', password: undefined, dispatchTimeout: undefined },
  // With 1.5 s, those held longer are rejected as not sent, and never sent later.
  { label: 'password on Redis and in the options, dispatchTimeout 1500', password: 'S3ntinel-Pw-7c1e9a', dispatchTimeout: 1_500 },
])('Sentinel failover ($label)', ({ password, dispatchTimeout }) => {
  it('dispatching resumes on its own; every resolved dispatch reached a subscriber; every rejection is a bounded MesaDispatchError', async () => {
    const group = await SentinelGroup.start({ password });
    const logger = new RecordingLogger();
    const recorders: Recorder[] = [];
    let moduleRef: TestingModule | undefined;
    let load: DispatchLoad | undefined;
    try {
      const onPrimary = await Recorder.listen({ host: '127.0.0.1', port: group.primary.port, password });
      const onReplica = await Recorder.listen({ host: '127.0.0.1', port: group.replica.port, password });
      const viaSentinels = await Recorder.listen({ sentinels: group.sentinelAddresses, name: MASTER_NAME, password });
      recorders.push(onPrimary, onReplica, viaSentinels);
      let dispatcher;
      ({ moduleRef, dispatcher } = await createMesaModule(
        { redis: { sentinels: group.sentinelAddresses, name: MASTER_NAME, password }, dispatchTimeout },
        { logger },
      ));
      const client: Redis = moduleRef.get<MesaRedisConnection>(MESA_REDIS_CONNECTION).client;
      const moduleReadyAt: number[] = [];
      client.on('ready', () => moduleReadyAt.push(performance.now()));

      load = new DispatchLoad(dispatcher);
      load.start(5);
      await sleep(500);
      const killedAt = performance.now();
      await group.primary.stop();
      await group.waitForFailover();
      const failedOverAt = performance.now();
      // The module and the recorder that follows the Sentinels find the new primary on their own, in either order
      // (the recorder retries every 10 ms, the module with ioredis's backoff; under load their reconnections can
      // land within a few ms of each other). What is published before the recorder subscribed there never
      // reaches it, so "after the failover" starts once both are back.
      await poll(
        () => load!.outcomes.some((o) => o.result && o.issuedAt > failedOverAt) && viaSentinels.subscribedSince(killedAt),
        15_000,
        () =>
          `a dispatch issued after the failover to resolve (${load!.outcomes.some((o) => o.result && o.issuedAt > failedOverAt)}) and ` +
          `the subscriber that follows the Sentinels to subscribe on the new primary (${viaSentinels.subscribedSince(killedAt)})`,
      );
      const resumedAt = performance.now();
      await sleep(500);
      load.stop();
      await load.settled(20_000);
      const afterFailover = load.outcomes.filter((o) => o.issuedAt > resumedAt);
      verbose(
        `Sentinel failover (dispatchTimeout ${dispatchTimeout ?? 'default'}): ${load.summary()}; ` +
          `sentinels promoted the replica ${Math.round(failedOverAt - killedAt)} ms after the kill, ` +
          `dispatching resumed ${Math.round(resumedAt - killedAt)} ms after it; module ready events at ` +
          `${moduleReadyAt.map((t) => Math.round(t - killedAt)).join(', ')} ms; the recorder via the sentinels subscribed at ` +
          `${viaSentinels.subscribedAt.map((t) => Math.round(t - killedAt)).join(', ')} ms; ` +
          `${onPrimary.envelopes.length}/${onReplica.envelopes.length}/${viaSentinels.envelopes.length} envelopes (primary/replica/via sentinels), ` +
          `${onReplica.envelopes.length - new Set(onReplica.numbers()).size} duplicates and ` +
          `${orderInversions(onReplica.numbers())} out of call order on the replica`,
      );

      // Resumed on its own, on the new primary, without restarting anything.
      expect(afterFailover.length).toBeGreaterThan(20);
      expect(afterFailover.every((o) => o.result)).toBe(true);
      expect(afterFailover.every((o) => o.result!.receivers >= 1)).toBe(true);
      // Every dispatch that resolved, before or after the failover, is at a subscriber, unless its result
      // said no subscriber received it: Sentinel disconnects the clients of a promoted replica, and pub/sub
      // has no memory for a subscriber that is reconnecting (README, "Not guaranteed").
      // Redis writes a publisher's reply before the messages it published, and this process may read the reply (and
      // see the dispatch settle) before the subscribers' sockets: what was answered is heard a moment later, so wait
      // for it (bounded) before checking, as redis-restart.e2e-spec.ts does.
      const heard = () => new Set([...onPrimary.numbers(), ...onReplica.numbers(), ...viaSentinels.numbers()]);
      const lost = () => {
        const received = heard();
        return load!
          .resolved()
          .filter((o) => !received.has(o.n) && o.result!.receivers > 0)
          .map((o) => `#${o.n} (receivers ${o.result!.receivers})`);
      };
      await poll(() => lost().length === 0, 2_000, 'resolved dispatches to reach a subscriber').catch(() => undefined);
      expect(lost()).toEqual([]);
      const received = heard();
      const unheard = load.resolved().filter((o) => !received.has(o.n));
      expect(unheard.length).toBeLessThan(load.resolved().length / 20);
      // Subscribers that follow the new primary get what was dispatched after the failover.
      await viaSentinels.waitForAll(afterFailover.map((o) => o.n));
      // Every rejection is a MesaDispatchError that says where, settled within a bound.
      for (const { error } of load.rejected()) {
        expect(error).toBeInstanceOf(MesaDispatchError);
        expect(error!.message).toContain(`sentinel master "${MASTER_NAME}" via 127.0.0.1:${group.sentinelPorts[0]}`);
      }
      expect(load.longestSettleMs()).toBeLessThan((dispatchTimeout ?? DEFAULT_DISPATCH_TIMEOUT) + 500);
      // A rejection that does not say the message may have been published was never published, not even later.
      await sleep(300);
      const receivedAtLast = new Set([...onPrimary.numbers(), ...onReplica.numbers()]);
      const publishedAfterRejection = load
        .rejected()
        .filter((o) => !/may have been published/.test(o.error!.message) && receivedAtLast.has(o.n));
      expect(publishedAfterRejection.map((o) => `#${o.n}: ${o.error!.message}`)).toEqual([]);
      if (password) {
        const errors = load.rejected().map((o) => o.error);
        expect(secretsFound([password], { logger, errors })).toEqual([]);
      }
    } finally {
      load?.stop();
      await moduleRef?.close();
      recorders.forEach((recorder) => recorder.close());
      await group.stop();
    }
  }, 60_000);
});
