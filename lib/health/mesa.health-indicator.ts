import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { MesaConfigurationError } from '../errors/mesa.errors.js';
import type { ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import { TimeoutError, withTimeout, type MesaRedisConnection } from '../redis/redis-connection.js';
import { redactSecrets } from '../redis/redis-target.js';
import { MesaPortalService } from '../portal/portal.service.js';
import { queueFill, queueLoadOf } from '../telemetry/queue-load.js';

/** Default bound, in milliseconds, on the health check's PING (and HLEN with sync). */
export const DEFAULT_MESA_HEALTH_TIMEOUT_MS = 1_000;

/**
 * Fill of the dispatch queue (dispatches waiting unsent, against `maxQueuedDispatches` or `maxQueuedBytes`, the
 * fuller of the two) from which the health check says down: close to the bound past which dispatches fail at once.
 */
export const MESA_HEALTH_QUEUE_SATURATED = 0.9;

/** What the health check reports of the dispatch queue. */
export interface MesaHealthQueueDetails {
  /** Dispatches waiting unsent (Redis unreachable, or slower than the dispatch rate). */
  waiting: number;
  /** Dispatches written to Redis and not answered yet. */
  unanswered: number;
  /** How full the waiting queue is, in percent of the fuller bound (`maxQueuedDispatches`, `maxQueuedBytes`). */
  fillPercent: number;
}

/** Options of {@link MesaHealthIndicator.isHealthy}. */
export interface MesaHealthCheckOptions {
  /** Down when Redis has not answered within this many milliseconds. Default 1000. */
  timeout?: number;
}

/**
 * A `@nestjs/terminus` health indicator for nestjs-mesa: PINGs Redis through the connection
 * `MesaModule` dispatches with. Up: `{ namespace, target, queue, pingMs, sync, usersWithStoredMessages? }`
 * (the last with sync on: users with messages waiting for redelivery; `queue`: {@link MesaHealthQueueDetails}). Down:
 * `{ namespace, target, queue, message }` when Redis is not connected, fails, or does not answer within the timeout,
 * and when the dispatch queue is saturated (filled to {@link MESA_HEALTH_QUEUE_SATURATED}, 90 %, of
 * `maxQueuedDispatches` or `maxQueuedBytes`: dispatches are about to fail at once) (a named registration's
 * indicator adds its `name`). With the portal enabled, both add `portal: { id, joined, stalled, hungHandlers }`,
 * and the check is down while the portal is stalled (as many handler runs as `concurrency` outlived
 * `portal.handlerTimeout` and never settled: it left the pool and handles nothing). The target never contains a
 * password. Needs `TerminusModule` (see `MesaHealthModule`).
 */
export class MesaHealthIndicator {
  constructor(
    private readonly healthIndicatorService: HealthIndicatorService,
    private readonly connection: MesaRedisConnection,
    private readonly options: ResolvedMesaOptions,
    private readonly portal?: MesaPortalService,
  ) {}

  /**
   * Checks that Mesa dispatches can reach Redis, within `timeout` (default 1000 ms); never throws for
   * an unhealthy Redis, it reports `down`.
   * @throws MesaConfigurationError for an empty key or a timeout that is not a positive number.
   */
  async isHealthy(key = 'mesa', { timeout = DEFAULT_MESA_HEALTH_TIMEOUT_MS }: MesaHealthCheckOptions = {}): Promise<HealthIndicatorResult> {
    if (typeof key !== 'string' || key.length === 0) {
      throw new MesaConfigurationError('MesaHealthIndicator.isHealthy: key must be a non-empty string.');
    }
    if (!(typeof timeout === 'number' && timeout > 0 && Number.isFinite(timeout))) {
      throw new MesaConfigurationError(
        `MesaHealthIndicator.isHealthy: timeout must be a positive number of milliseconds; got ${String(timeout)}.`,
      );
    }
    const session = this.healthIndicatorService.check(key);
    const options = this.options;
    const target = this.connection.target;
    const about = {
      namespace: options.namespace ?? null,
      target,
      ...(options.name === undefined ? {} : { name: options.name }),
      ...this.queueDetails(),
      ...this.portalDetails(),
    };
    const status = this.connection.client.status;
    if (status !== 'ready') {
      return session.down({
        ...about,
        message: `Redis at ${target} is not connected (connection ${status}); Mesa dispatches cannot be sent.`,
      });
    }
    if (about.portal?.stalled) {
      return session.down({
        ...about,
        message:
          `Portal ${about.portal.id} cannot make progress: ${about.portal.hungHandlers} handler runs outlived ` +
          'portal.handlerTimeout and have not settled; it left the pool and handles no client event.',
      });
    }
    if (about.queue && about.queue.fillPercent >= MESA_HEALTH_QUEUE_SATURATED * 100) {
      return session.down({
        ...about,
        message:
          `The dispatch queue is ${about.queue.fillPercent} % full (${about.queue.waiting} dispatches wait for Redis at ${target}; ` +
          `maxQueuedDispatches ${options.maxQueuedDispatches}, maxQueuedBytes ${options.maxQueuedBytes}): Redis is slower than ` +
          'the dispatch rate or not answering, and dispatches fail as not sent once it is full.',
      });
    }
    try {
      return session.up({ ...about, ...(await withTimeout(this.probe(options), timeout)) });
    } catch (error) {
      const reason =
        error instanceof TimeoutError
          ? `did not answer PING within ${timeout} ms`
          : `failed: ${redactSecrets((error as Error)?.message ?? String(error), options.given)}`;
      return session.down({ ...about, message: `Redis at ${target} ${reason}; Mesa dispatches cannot be sent.` });
    }
  }

  private queueDetails(): { queue?: MesaHealthQueueDetails } {
    const load = queueLoadOf(this.options)?.();
    if (!load) return {};
    const fillPercent = Math.round(queueFill(load, this.options) * 1000) / 10;
    return { queue: { waiting: load.queued, unanswered: load.unanswered, fillPercent } };
  }

  private portalDetails(): { portal?: { id: string; joined: boolean; stalled: boolean; hungHandlers: number } } {
    if (!this.portal?.enabled) return {};
    const { id, joined, stalled, hungHandlers } = this.portal.status();
    return { portal: { id, joined, stalled, hungHandlers } };
  }

  private async probe(options: ResolvedMesaOptions): Promise<Record<string, unknown>> {
    const client = this.connection.client;
    const started = performance.now();
    await client.ping();
    const pingMs = Math.round((performance.now() - started) * 10) / 10;
    if (!options.syncEnabled) return { pingMs, sync: false };
    const usersWithStoredMessages = await client.hlen(options.names.undeliveredMessages);
    return { pingMs, sync: true, usersWithStoredMessages };
  }
}
