import { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { MesaConnectionError } from '../errors/mesa.errors.js';
import { LogThrottle } from '../logging/log-throttle.js';
import { SHUTDOWN_STEP_TIMEOUT_MS } from '../mesa.constants.js';
import type { MesaModuleOptions } from '../interfaces/mesa-module-options.interface.js';
import { describeRedisTarget, redactSecrets } from './redis-target.js';

/** What opening a connection reads of a registration's options (a `ResolvedMesaOptions` is one). */
export interface ConnectionSettings {
  /** The options as given: `url`, `redis` or `client`, `sharedConnection`. */
  readonly given: MesaModuleOptions;
  /** Bound on reaching Redis, in ms. */
  readonly connectTimeout: number;
}

/**
 * The Redis connection the module dispatches through: one it opened (and closes at shutdown) or the
 * application's own client (never closed by the module).
 */
export class MesaRedisConnection {
  private readonly logger = new Logger('MesaModule');

  constructor(
    /** The ioredis client commands go to. */
    readonly client: Redis,
    /** Whether the module opened it, and so closes it. */
    readonly owned: boolean,
    /** Where it goes, without secrets, for logs and errors. */
    readonly target: string,
    /** The Redis server's major version (7 reads a script's `#!lua` flags line), 0 when unknown. */
    readonly serverMajorVersion = 0,
  ) {}

  /**
   * Opens (or, for an application-owned client, waits for) a ready connection within `connectTimeout`, and
   * checks that it reaches a primary: a replica would take the publishes for its own subscribers only.
   * @throws MesaConnectionError saying where it tried, without the password, or that it reached a replica.
   */
  static async open(resolved: ConnectionSettings): Promise<MesaRedisConnection> {
    const options = resolved.given;
    const target = describeRedisTarget(options);
    const timeout = resolved.connectTimeout;
    const owned = !options.client;
    const client = options.client ?? createClient(options);
    let lastError: Error | undefined;
    const noteError = (error: Error) => (lastError = error);
    client.on('error', noteError);
    try {
      await withTimeout(waitUntilReady(client), timeout);
    } catch (error) {
      if (owned) client.disconnect();
      const reason = redactSecrets((lastError ?? (error as Error))?.message ?? String(error), options);
      throw new MesaConnectionError(
        `Could not connect to Redis at ${target} within ${timeout} ms (${reason}). ` +
          'Check the url/redis options and that Redis is running, or raise connectTimeout.',
      );
    } finally {
      client.off('error', noteError);
    }
    let version = 0;
    try {
      version = await checkServer(client, target, usesSentinel(options));
    } catch (error) {
      if (owned) client.disconnect();
      throw error;
    }
    const connection = new MesaRedisConnection(client, owned, target, version);
    if (owned) client.on('error', (error: Error) => connection.reportError(error, options));
    return connection;
  }

  private exclusiveChain: Promise<unknown> = Promise.resolve();

  /**
   * Runs `task` once every task queued before it on this connection has settled. WATCH/MULTI/EXEC sequences
   * go through it: on a connection that several named registrations share, one's EXEC would otherwise clear
   * the other's WATCH.
   */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const next = this.exclusiveChain.then(task);
    this.exclusiveChain = next.catch(() => undefined);
    return next;
  }

  /** Closes the connection if the module opened it (`closeRedisClient`); an application-owned client is left open. */
  async close(): Promise<void> {
    if (!this.owned) return;
    this.errorLog.flush();
    await closeRedisClient(this.client);
  }

  /** ioredis reports each failed reconnection: the same error, logged once, then summed up every 10 s. */
  private readonly errorLog = new LogThrottle(this.logger, { limit: 1 });
  private reportError(error: Error, options: MesaModuleOptions): void {
    const message = redactSecrets(error.message, options);
    this.errorLog.error(message, `Redis connection to ${this.target}: ${message}`);
  }
}

/**
 * Closes a connection the module opened, the one way it does: QUIT (what was sent before is answered first), then
 * waits for the socket to end; a hard disconnect when either takes longer than `SHUTDOWN_STEP_TIMEOUT_MS` (a frozen
 * Redis answers nothing), or at once when `redisAnswers` is false (Redis already failed to answer at shutdown).
 */
export async function closeRedisClient(client: Redis | undefined, redisAnswers = true): Promise<void> {
  if (!client || client.status === 'end') return;
  if (!redisAnswers) return client.disconnect();
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  try {
    await withTimeout(client.quit(), SHUTDOWN_STEP_TIMEOUT_MS);
  } catch {
    client.disconnect();
  }
  await withTimeout(ended, SHUTDOWN_STEP_TIMEOUT_MS).catch(() => client.disconnect());
}

/** Name the module's own connections carry in `CLIENT LIST`, unless the options set `connectionName`. */
export const MESA_CONNECTION_NAME = 'nestjs-mesa';

function createClient(options: MesaModuleOptions): Redis {
  // autoResendUnfulfilledCommands: false — a command lost with its connection fails (outcome unknown)
  // instead of being sent again later, after its caller may have been told it failed.
  const lazy: RedisOptions = { lazyConnect: true, connectionName: MESA_CONNECTION_NAME, autoResendUnfulfilledCommands: false };
  if (options.url !== undefined) return new Redis(options.url, lazy);
  const redis = options.redis;
  if (typeof redis === 'string') return new Redis(redis, lazy);
  if (Array.isArray(redis)) {
    const args = [...redis];
    const last = args.length - 1;
    if (typeof args[last] === 'object' && args[last] !== null) args[last] = { ...lazy, ...(args[last] as object), lazyConnect: true };
    else args.push(lazy);
    return new (Redis as unknown as new (...a: unknown[]) => Redis)(...args);
  }
  return new Redis({ ...lazy, ...(redis as RedisOptions), lazyConnect: true });
}

/**
 * Reads the server's role and version. A replica is refused (unless Sentinel chose it, which ioredis only does
 * for the primary); a server that does not answer ROLE or INFO (renamed, or forbidden to this user) is taken as
 * it comes, with version 0 (unknown).
 */
async function checkServer(client: Redis, target: string, sentinel: boolean): Promise<number> {
  if (!sentinel) {
    const role = (await client.call('ROLE').catch(() => undefined)) as unknown[] | undefined;
    if (Array.isArray(role) && role[0] !== 'master') {
      throw new MesaConnectionError(
        `Redis at ${target} is a read-only replica (ROLE ${String(role[0])}): publishes there reach only that replica's ` +
          'subscribers and sync cannot store. Connect to the primary, or through Sentinel (redis: { sentinels, name }).',
      );
    }
  }
  const info = (await client.info('server').catch(() => '')) as string;
  return Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
}

function usesSentinel(options: MesaModuleOptions): boolean {
  if (options.client) return Array.isArray(options.client.options?.sentinels);
  const redis = options.redis;
  if (Array.isArray(redis)) return redis.some((arg) => typeof arg === 'object' && arg !== null && 'sentinels' in arg);
  return typeof redis === 'object' && redis !== null && 'sentinels' in redis;
}

/** Resolves when the client is ready, letting ioredis retry refused connections meanwhile. */
function waitUntilReady(client: Redis): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'wait') client.connect().catch(() => undefined);
  return new Promise((resolve, reject) => {
    const onReady = () => (client.off('end', onEnd), resolve());
    const onEnd = () => (client.off('ready', onReady), reject(new Error('the client connection has ended')));
    client.once('ready', onReady).once('end', onEnd);
  });
}

/** What {@link withTimeout} rejects with when the time is up. */
export class TimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** Rejects with a {@link TimeoutError} when `promise` has not settled within `ms` milliseconds. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
