import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { MESA_REDIS_CONNECTION, MESA_RESOLVED_OPTIONS, SHUTDOWN_STEP_TIMEOUT_MS, SWEEP_STEP_USERS } from '../mesa.constants.js';
import type { ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import { ScriptRunner } from '../publishing/script-runner.js';
import { BACKLOG_SWEEP_SCRIPT, BACKLOG_SWEEP_SCRIPT_LEGACY, RELEASE_SWEEP_LOCK_SCRIPT } from '../redis/backlog-sweep.script.js';
import { type MesaRedisConnection, withTimeout } from '../redis/redis-connection.js';
import { redactSecrets } from '../redis/redis-target.js';

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
 * Every `sync.sweepInterval` one instance of the application (the holder of a lock key with a time to live, taken
 * and renewed by each step) walks `undelivered_messages` with HSCAN, a few users per step, each step one short
 * script. It starts when the application has bootstrapped and stops, finishing its step and releasing the lock,
 * when the module is destroyed (before the connection closes). Inactive when sync is off or no sweep is set.
 */
@Injectable()
export class MesaBacklogSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('MesaBacklogSweeper');
  private readonly token = randomUUID();
  private readonly runner: ScriptRunner;
  private readonly keys: string[];
  private timer?: NodeJS.Timeout;
  private pass?: Promise<SweepOutcome>;
  private stopped = false;
  private lastFailure?: string;

  constructor(
    @Inject(MESA_RESOLVED_OPTIONS) private readonly options: ResolvedMesaOptions,
    @Inject(MESA_REDIS_CONNECTION) private readonly connection: MesaRedisConnection,
  ) {
    const { serverMajorVersion } = connection;
    this.runner = new ScriptRunner(
      connection.client,
      serverMajorVersion > 0 && serverMajorVersion < 7 ? BACKLOG_SWEEP_SCRIPT_LEGACY : BACKLOG_SWEEP_SCRIPT,
      2,
    );
    this.keys = [options.names.undeliveredMessages, options.names.sweepLock];
  }

  /** Starts the periodic sweep (when expiry is configured). */
  onApplicationBootstrap(): void {
    if (this.options.sweepInterval === 0) return;
    this.timer = setInterval(() => void this.sweep(), this.options.sweepInterval).unref();
  }

  /**
   * Stops sweeping: waits for the step in progress, then releases the lock for another instance. Each wait is
   * bounded (a frozen Redis answers nothing): the lock then lapses by itself.
   */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
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
   * returns that one. Never rejects: a failure is logged (once per distinct reason) and the pass ends.
   */
  sweep(): Promise<SweepOutcome> {
    this.pass ??= this.runPass().finally(() => (this.pass = undefined));
    return this.pass;
  }

  private async runPass(): Promise<SweepOutcome> {
    const outcome: SweepOutcome = { removed: 0, users: 0, swept: true };
    const lockMs = String(Math.max(3 * this.options.sweepInterval, 5_000));
    let cursor = '0';
    try {
      do {
        const [next, removed, users] = (await this.runner.run(this.keys, [this.token, lockMs, cursor, String(SWEEP_STEP_USERS)])) as [
          string,
          number,
          number,
        ];
        if (next === 'busy') return { ...outcome, swept: false };
        outcome.removed += removed;
        outcome.users += users;
        cursor = next;
        await new Promise((resolve) => setImmediate(resolve));
      } while (cursor !== '0' && !this.stopped);
      this.lastFailure = undefined;
    } catch (error) {
      const reason = redactSecrets((error as Error)?.message ?? String(error), this.options.given);
      if (reason !== this.lastFailure) this.logger.warn(`Sweeping expired stored messages on ${this.connection.target} failed: ${reason}`);
      this.lastFailure = reason;
    }
    return outcome;
  }
}
