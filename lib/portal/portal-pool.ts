import type { Redis } from 'ioredis';
import type { MesaRedisNames } from '../redis/mesa-redis-names.js';
import { readyAnnouncement } from './portal-protocol.js';

/** What one heartbeat did: joined (was absent from the pool and announced itself) or refreshed. */
export type PortalHeartbeat = 'joined' | 'refreshed';

/** Callbacks through which {@link PortalPool} reports what it did and what failed. */
export interface PortalPoolEvents {
  /** A heartbeat succeeded: `joined` when this portal was absent from the pool and announced itself. */
  beat(outcome: PortalHeartbeat): void;
  reaped(deadId: string): void;
  failed(step: 'heartbeat' | 'reap', error: Error): void;
}

const ATTEMPTS = 5;
const REAP_BATCH = 50;

/**
 * This portal's membership of Mesa's pool (`available_portals_pool[_ns]`), with a heartbeat and the
 * reaping of dead portals.
 *
 * Every `heartbeatTtl / 3` it sets its deadline (Redis time + TTL) in the heartbeat ZSET and, if its id is
 * not in the pool SET (first join, or reaped after a stall, or Redis lost its data), adds it and announces
 * `ready:true`; then it removes the ids whose deadline passed and announces `ready:false` for each.
 *
 * Each membership change and its announcement are one MULTI under WATCH, so an announcement is made
 * exactly once and only for a real change: a Mesa server given `ready:false` for an id it does not list
 * drops its last listed portal instead. It needs a connection of its own (WATCH is per connection).
 */
export class PortalPool {
  private timer?: NodeJS.Timeout;
  private running = Promise.resolve();
  private stopped = true;

  constructor(
    private readonly redis: Redis,
    private readonly names: MesaRedisNames,
    /** This portal's id. */
    readonly id: string,
    private readonly heartbeatTtl: number,
    private readonly events: PortalPoolEvents,
  ) {}

  /** Starts the heartbeat; the first one (the join) runs at once. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the heartbeat and waits for the step in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Leaves the pool: removes the heartbeat and the pool id and, if the id was in the pool, announces
   * `ready:false` (once). Resolves true when it announced.
   */
  leave(): Promise<boolean> {
    return this.exclusive(() => this.remove(this.id, () => true));
  }

  /** One heartbeat, then the reaping of lapsed portals (also run by the timer). */
  tick(): Promise<void> {
    return this.exclusive(async () => {
      try {
        this.events.beat(await this.heartbeat());
      } catch (error) {
        this.events.failed('heartbeat', error as Error);
      }
      try {
        await this.reap();
      } catch (error) {
        this.events.failed('reap', error as Error);
      }
    });
  }

  private schedule(delay: number): void {
    this.timer = setTimeout(() => {
      void this.tick().finally(() => !this.stopped && this.schedule(Math.max(1, Math.floor(this.heartbeatTtl / 3))));
    }, delay);
    this.timer.unref();
  }

  private async heartbeat(): Promise<PortalHeartbeat> {
    const { portalPool: pool, portalHeartbeats: heartbeats } = this.names;
    const deadline = (await this.now()) + this.heartbeatTtl;
    return this.watched([pool], async () => {
      const member = (await this.redis.sismember(pool, this.id)) === 1;
      const tx = this.redis.multi().zadd(heartbeats, deadline, this.id);
      if (!member) tx.sadd(pool, this.id).publish(pool, readyAnnouncement(this.id, true));
      return { tx, outcome: member ? ('refreshed' as const) : ('joined' as const) };
    }).then((outcome) => outcome ?? 'refreshed');
  }

  private async reap(): Promise<void> {
    const now = await this.now();
    const lapsed = await this.redis.zrangebyscore(this.names.portalHeartbeats, '-inf', now, 'LIMIT', 0, REAP_BATCH);
    for (const id of lapsed) {
      if (id === this.id) continue;
      if (await this.remove(id, (deadline) => deadline !== undefined && deadline <= now)) this.events.reaped(id);
    }
  }

  /**
   * Removes `id`'s heartbeat and pool membership if `stillApplies(its deadline)` holds, announcing
   * `ready:false` when it was in the pool. True when it announced.
   */
  private remove(id: string, stillApplies: (deadline: number | undefined) => boolean): Promise<boolean> {
    const { portalPool: pool, portalHeartbeats: heartbeats } = this.names;
    return this.watched([pool, heartbeats], async () => {
      const score = await this.redis.zscore(heartbeats, id);
      if (!stillApplies(score === null ? undefined : Number(score))) return undefined;
      const member = (await this.redis.sismember(pool, id)) === 1;
      const tx = this.redis.multi().zrem(heartbeats, id);
      if (member) tx.srem(pool, id).publish(pool, readyAnnouncement(id, false));
      return { tx, outcome: member };
    }).then((outcome) => outcome === true);
  }

  /**
   * WATCHes `keys`, lets `prepare` read and queue a MULTI, and EXECs it; retries when a watched key
   * changed meanwhile. `prepare` returning undefined means nothing to do.
   */
  private async watched<T>(
    keys: string[],
    prepare: () => Promise<{ tx: ReturnType<Redis['multi']>; outcome: T } | undefined>,
  ): Promise<T | undefined> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      await this.redis.watch(...keys);
      let prepared: Awaited<ReturnType<typeof prepare>>;
      try {
        prepared = await prepare();
      } catch (error) {
        await this.redis.unwatch().catch(() => undefined);
        throw error;
      }
      if (!prepared) {
        await this.redis.unwatch();
        return undefined;
      }
      const results = await prepared.tx.exec();
      if (results === null) continue;
      const failure = results.find(([error]) => error)?.[0];
      if (failure) throw failure;
      return prepared.outcome;
    }
    throw new Error(`the pool kept changing during ${ATTEMPTS} attempts`);
  }

  private async now(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  private exclusive<T>(step: () => Promise<T>): Promise<T> {
    const result = this.running.then(step);
    this.running = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
