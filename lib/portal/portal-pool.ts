import type { ChainableCommander, Redis } from 'ioredis';
import type { MesaRedisNames } from '../redis/mesa-redis-names.js';
import { readRedisTimeMs } from '../redis/redis-time.js';
import { watchedTransaction } from '../redis/watched-transaction.js';
import { readyAnnouncement } from './portal-protocol.js';

/**
 * What one heartbeat did: `joined` (was absent from the pool and announced itself), `restored` (was absent
 * because Redis lost its data, while the Mesa servers still list it: added back without an announcement), or
 * `refreshed`.
 */
export type PortalHeartbeat = 'joined' | 'restored' | 'refreshed';

/** Callbacks through which {@link PortalPool} reports what it did and what failed. */
export interface PortalPoolEvents {
  /** A heartbeat succeeded. */
  beat(outcome: PortalHeartbeat): void;
  reaped(deadId: string): void;
  failed(step: 'heartbeat' | 'reap', error: Error): void;
}

const ATTEMPTS = 5;
const REAP_BATCH = 50;
/** What {@link PortalPool} records as the run id when Redis does not tell it (INFO not allowed). */
const UNKNOWN_RUN_ID = '';

/** Whether Redis lost its data since `listedOn` (the run id when the `ready:true` in effect was made). */
function lostDataSince(listedOn: string | undefined, runId: string | undefined): boolean {
  return listedOn !== undefined && listedOn !== UNKNOWN_RUN_ID && runId !== undefined && runId !== listedOn;
}

/**
 * This portal's membership of Mesa's pool (`available_portals_pool[_ns]`), with a heartbeat and the
 * reaping of dead portals.
 *
 * Every `heartbeatTtl / 3` it sets its deadline (Redis time + TTL) in the heartbeat ZSET and, if its id is
 * not in the pool SET, adds it; then it removes the ids whose deadline passed and announces `ready:false`
 * for each.
 *
 * Mesa servers keep a list, not a set: each `ready:true` appends the id, each `ready:false` removes one entry
 * (and, for an id a server does not list, its last entry instead). So an id is announced `ready:true` only
 * when no server can still list it: at its first join, and after it was reaped (Redis run id unchanged). When
 * it is missing from the SET because Redis lost its data (restarted without persistence: another run id),
 * the servers that kept running still list it, so it is added back silently; announcing it would make them
 * list it twice, and a later `ready:false` would leave one entry that receives its share for nothing.
 * Leaving announces one `ready:false` for the one `ready:true` in effect, and nothing when none is.
 *
 * Each membership change and its announcement are one MULTI under WATCH, so an announcement is made
 * exactly once and only for a real change, however many portals reap at once. It needs a connection of its
 * own (WATCH is per connection).
 */
export class PortalPool {
  private timer?: NodeJS.Timeout;
  private running = Promise.resolve();
  private stopped = true;
  private closed = false;
  /** The Redis run id under which this id's `ready:true` is in effect on the servers; undefined when none is. */
  private listedOn?: string;

  constructor(
    private readonly redis: Redis,
    private readonly names: MesaRedisNames,
    /** This portal's id. */
    readonly id: string,
    private readonly heartbeatTtl: number,
    private readonly events: PortalPoolEvents,
  ) {
    redis.on('ready', () => !this.stopped && this.schedule(0));
  }

  /** Starts the heartbeat (unless {@link close}d); the first one (the join) runs at once. */
  start(): void {
    if (!this.stopped || this.closed) return;
    this.stopped = false;
    this.schedule(0);
  }

  /**
   * Stops the heartbeat and leaves the pool: removes the heartbeat and the pool id and, if a `ready:true` of
   * this id is in effect, announces `ready:false` (once). Resolves true when it announced. {@link start}
   * rejoins.
   */
  leave(): Promise<boolean> {
    this.stopped = true;
    clearTimeout(this.timer);
    return this.exclusive(() => this.removeSelf());
  }

  /** Leaves for good: {@link start} does nothing afterwards. */
  close(): Promise<boolean> {
    this.closed = true;
    return this.leave();
  }

  /** One heartbeat, then the reaping of lapsed portals (also run by the timer). */
  tick(): Promise<void> {
    return this.exclusive(async () => {
      if (this.stopped) return;
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
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.tick().finally(() => !this.stopped && this.schedule(Math.max(1, Math.floor(this.heartbeatTtl / 3))));
    }, delay);
    this.timer.unref();
  }

  private async heartbeat(): Promise<PortalHeartbeat> {
    const { portalPool: pool, portalHeartbeats: heartbeats } = this.names;
    const deadline = (await this.now()) + this.heartbeatTtl;
    const result = await this.watched([pool], async () => {
      const member = (await this.redis.sismember(pool, this.id)) === 1;
      const runId = await this.readRunId();
      const tx = this.redis.multi().zadd(heartbeats, deadline, this.id);
      if (member) return { tx, outcome: { beat: 'refreshed' as PortalHeartbeat, runId } };
      const stillListed = lostDataSince(this.listedOn, runId);
      tx.sadd(pool, this.id);
      if (!stillListed) tx.publish(pool, readyAnnouncement(this.id, true));
      return { tx, outcome: { beat: (stillListed ? 'restored' : 'joined') as PortalHeartbeat, runId } };
    });
    if (result) this.listedOn = result.runId ?? UNKNOWN_RUN_ID;
    return result?.beat ?? 'refreshed';
  }

  /**
   * Removes this id's heartbeat and pool membership; announces `ready:false` when it was in the SET, or when
   * Redis lost the SET (another run id) while a `ready:true` of this id was in effect.
   */
  private async removeSelf(): Promise<boolean> {
    const listedOn = this.listedOn;
    this.listedOn = undefined;
    return this.remove(
      this.id,
      () => true,
      async (member) => member || lostDataSince(listedOn, await this.readRunId()),
    );
  }

  private async reap(): Promise<void> {
    const now = await this.now();
    const lapsed = await this.redis.zrangebyscore(this.names.portalHeartbeats, '-inf', now, 'LIMIT', 0, REAP_BATCH);
    for (const id of lapsed) {
      if (id === this.id) continue;
      if (
        await this.remove(
          id,
          (deadline) => deadline !== undefined && deadline <= now,
          (member) => member,
        )
      )
        this.events.reaped(id);
    }
  }

  /**
   * Removes `id`'s heartbeat and pool membership if `stillApplies(its deadline)` holds, announcing
   * `ready:false` when `announce(whether it was in the SET)` says so. True when it announced.
   */
  private remove(
    id: string,
    stillApplies: (deadline: number | undefined) => boolean,
    announce: (member: boolean) => boolean | Promise<boolean>,
  ): Promise<boolean> {
    const { portalPool: pool, portalHeartbeats: heartbeats } = this.names;
    return this.watched([pool, heartbeats], async () => {
      const score = await this.redis.zscore(heartbeats, id);
      if (!stillApplies(score === null ? undefined : Number(score))) return undefined;
      const member = (await this.redis.sismember(pool, id)) === 1;
      const announced = await announce(member);
      const tx = this.redis.multi().zrem(heartbeats, id);
      if (member) tx.srem(pool, id);
      if (announced) tx.publish(pool, readyAnnouncement(id, false));
      return { tx, outcome: announced };
    }).then((outcome) => outcome === true);
  }

  /** {@link watchedTransaction} on the pool's connection; a command the MULTI refused fails the step. */
  private watched<T>(keys: string[], prepare: () => Promise<{ tx: ChainableCommander; outcome: T } | undefined>): Promise<T | undefined> {
    return watchedTransaction(
      this.redis,
      keys,
      async () => {
        const prepared = await prepare();
        if (!prepared) return undefined;
        return {
          transaction: prepared.tx,
          outcome: (results) => {
            const failure = results.find(([error]) => error)?.[0];
            if (failure) throw failure;
            return prepared.outcome;
          },
        };
      },
      ATTEMPTS,
      (attempts) => new Error(`the pool kept changing during ${attempts} attempts`),
    );
  }

  /** The Redis server's `run_id` (another one after a restart or a failover); undefined when INFO is not allowed. */
  private async readRunId(): Promise<string | undefined> {
    const info = (await this.redis.info('server').catch(() => '')) as string;
    return /run_id:(\w+)/.exec(info)?.[1];
  }

  private now(): Promise<number> {
    return readRedisTimeMs(this.redis);
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
