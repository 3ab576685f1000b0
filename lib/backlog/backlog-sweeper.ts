import { Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BACKLOG_BYTES_PER_CALL, SHUTDOWN_STEP_TIMEOUT_MS, SWEEP_LOCK_MS, SWEEP_STEP_USERS } from '../mesa.constants.js';
import type { ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import { LogThrottle } from '../logging/log-throttle.js';
import { BACKLOG_SWEEP_SCRIPT, RELEASE_SWEEP_LOCK_SCRIPT, RENEW_SWEEP_LOCK_SCRIPT } from '../redis/backlog-sweep.script.js';
import { ScriptRunner } from '../redis/script-runner.js';
import { type MesaRedisConnection, withTimeout } from '../redis/redis-connection.js';
import { redactSecrets } from '../redis/redis-target.js';
import { mesaTelemetryOf } from '../telemetry/mesa-telemetry.js';

/** What one sweep pass did. */
export interface SweepOutcome {
  /** Expired stored messages removed. */
  removed: number;
  /** Users whose backlog changed. */
  users: number;
  /** False when another instance of the application holds the sweep (this one did nothing). */
  swept: boolean;
}

/**
 * Removes expired stored messages (`sync.ttl`, a message's `ttl`) so that a real Mesa server never redelivers them.
 * One instance of the application at a time sweeps: the holder of a lock key with a short time to live
 * (`SWEEP_LOCK_MS`, or `sync.sweepInterval` when shorter), renewed by every step and, between passes, twice per time
 * to live; the other instances try to take it as often, and the one that does sweeps at once. The holder walks
 * `undelivered_messages` every `sync.sweepInterval` with HSCAN, one short script per step, each bounded by
 * `BACKLOG_BYTES_PER_CALL` (HSCAN's COUNT follows the bytes the last step read). It starts when the application has
 * bootstrapped and stops, finishing its step and releasing the lock, when the module is destroyed (before the
 * connection closes). Inactive when sync is off or no sweep is set.
 */
export class MesaBacklogSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('MesaBacklogSweeper');
  private readonly token = randomUUID();
  private readonly runner: ScriptRunner;
  private readonly keys: string[];
  private readonly lockMs: number;
  private passTimer?: NodeJS.Timeout;
  private lockTimer?: NodeJS.Timeout;
  private pass?: Promise<SweepOutcome>;
  private holding = false;
  /** HSCAN's COUNT for the next step, adapted to the bytes the steps read. */
  private count = SWEEP_STEP_USERS;
  private stopped = false;
  /** A failing pass (Redis down) is logged once per distinct reason, then summed up once a minute. */
  private readonly failureLog = new LogThrottle(this.logger, { limit: 1, windowMs: 60_000 });

  constructor(
    private readonly options: ResolvedMesaOptions,
    private readonly connection: MesaRedisConnection,
  ) {
    this.runner = new ScriptRunner(connection, BACKLOG_SWEEP_SCRIPT);
    this.keys = [options.names.undeliveredMessages, options.names.sweepLock];
    this.lockMs = Math.min(SWEEP_LOCK_MS, options.sweepInterval);
  }

  /** Starts the periodic sweep (when expiry is configured). */
  onApplicationBootstrap(): void {
    if (this.options.sweepInterval === 0) return;
    this.passTimer = setInterval(() => this.holding && void this.sweep(), this.options.sweepInterval).unref();
    this.lockTimer = setInterval(() => void this.keepLock(), this.lockMs / 2).unref();
    void this.keepLock();
  }

  /**
   * Stops sweeping: waits for the step in progress, then releases the lock for another instance. Each wait is
   * bounded (a frozen Redis answers nothing): the lock then lapses by itself.
   */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.passTimer);
    clearInterval(this.lockTimer);
    this.failureLog.flush();
    const finished = await withTimeout<unknown>(this.pass ?? Promise.resolve(), SHUTDOWN_STEP_TIMEOUT_MS).then(
      () => true,
      () => false,
    );
    if (!finished || this.options.sweepInterval === 0 || this.connection.client.status !== 'ready') return;
    const release = this.connection.client.eval(RELEASE_SWEEP_LOCK_SCRIPT, 1, this.keys[1], this.token);
    await withTimeout(release, SHUTDOWN_STEP_TIMEOUT_MS).catch(() => undefined);
  }

  /**
   * Runs one pass now (the timer runs them every `sweepInterval`), unless one is in progress, in which case it
   * returns that one. Never rejects: a failure is logged (once per reason, then summed up once a minute) and the pass ends.
   */
  sweep(): Promise<SweepOutcome> {
    this.pass ??= this.runPass().finally(() => (this.pass = undefined));
    return this.pass;
  }

  /** Renews the lock between passes, or takes it when nobody holds it, and then sweeps at once. */
  private async keepLock(): Promise<void> {
    if (this.pass || this.stopped || this.connection.client.status !== 'ready') return;
    const held = await this.connection.client
      .eval(RENEW_SWEEP_LOCK_SCRIPT, 1, this.keys[1], this.token, String(this.lockMs))
      .then((reply) => reply === 1)
      .catch(() => this.holding);
    const taken = held && !this.holding;
    this.holding = held;
    if (taken && !this.stopped) void this.sweep();
  }

  private async runPass(): Promise<SweepOutcome> {
    const outcome: SweepOutcome = { removed: 0, users: 0, swept: true };
    const lockMs = String(this.lockMs);
    const budget = String(BACKLOG_BYTES_PER_CALL);
    let cursor = '0';
    let leftover: string[] = [];
    try {
      do {
        const reply = (await this.runner.run(this.keys, [
          this.token,
          lockMs,
          cursor,
          String(this.count),
          budget,
          ...leftover,
        ])) as StepReply;
        const [next, removed, users, read] = reply;
        if (next === 'busy') {
          this.holding = false;
          return { ...outcome, swept: false };
        }
        this.holding = true;
        outcome.removed += removed;
        mesaTelemetryOf(this.options).droppedStored(removed, 'expiry');
        outcome.users += users;
        if (leftover.length === 0 || read > 0) this.count = nextCount(this.count, read);
        cursor = next;
        leftover = reply[4];
        await new Promise((resolve) => setImmediate(resolve));
      } while ((cursor !== '0' || leftover.length > 0) && !this.stopped);
    } catch (error) {
      const reason = redactSecrets((error as Error)?.message ?? String(error), this.options.given);
      this.failureLog.warn(reason, `Sweeping expired stored messages on ${this.connection.target} failed: ${reason}`);
    }
    return outcome;
  }
}

/** A step's reply: next cursor, messages removed, users changed, bytes read, users left for the next step. */
type StepReply = [cursor: string, removed: number, users: number, read: number, leftover: string[]];

/** What a step's HSCAN should read: a third of its budget, leaving the rest to rewrite what expired. */
const STEP_READ = BACKLOG_BYTES_PER_CALL / 3;

/** HSCAN's COUNT for the next step: scaled so that a step reads about {@link STEP_READ}, 1 to 1,000 users. */
function nextCount(count: number, read: number): number {
  if (read > STEP_READ) return Math.max(1, Math.floor((count * STEP_READ) / read));
  if (read < STEP_READ / 4) return Math.min(1_000, count * 2);
  return count;
}
