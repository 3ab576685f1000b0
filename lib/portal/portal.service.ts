import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Redis } from 'ioredis';
import type { Subscription } from 'rxjs';
import type { ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import type { MesaRedisNames } from '../redis/mesa-redis-names.js';
import { MESA_PORTAL_DEFAULTS, MESA_REDIS_CONNECTION, MESA_RESOLVED_OPTIONS } from '../mesa.constants.js';
import { type MesaRedisConnection, withTimeout } from '../redis/redis-connection.js';
import { LogThrottle } from './log-throttle.js';
import type { MesaPortalOptions } from './mesa-portal-options.interface.js';
import { MesaPortalExplorer, type MesaPortalHandler } from './portal-explorer.js';
import { PortalHandlerSet } from './portal-handler-set.js';
import { PortalPool, type PortalHeartbeat } from './portal-pool.js';
import { parsePortalFrame, type MesaPortalEvent } from './portal-protocol.js';
import { openPortalConnection, closePortalConnection } from './portal-connections.js';
import { PortalWorkQueue } from './portal-work-queue.js';

const LEAVE_TIMEOUT_MS = 5_000;

/**
 * Mesa's Portal inside Nest: reads the client events Mesa servers publish for this portal and runs the
 * `@OnMesa…` handlers, with bounded concurrency.
 *
 * Lifecycle: at bootstrap it finds the handlers and subscribes; it joins the pool once the HTTP server
 * listens (at once after bootstrap when the application has no HTTP server). At shutdown
 * (`onModuleDestroy`) it leaves the pool, keeps handling the events already addressed to it for
 * `leaveGrace` ms, and waits for the handlers in flight (`drainTimeout`); it closes its two Redis
 * connections in `onApplicationShutdown`. It never exits the process. With `portal.enabled` false it does
 * nothing at all.
 */
@Injectable()
export class MesaPortalService implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('MesaPortal');
  private readonly throttle = new LogThrottle();
  private readonly settings: Required<Omit<MesaPortalOptions, 'id'>> & { id: string };
  private readonly names: MesaRedisNames;
  private handlers = new PortalHandlerSet([]);
  private subscriber?: Redis;
  private commands?: Redis;
  private pool?: PortalPool;
  private queue?: PortalWorkQueue;
  private listening?: Subscription;
  private hasJoined = false;
  private left?: Promise<void>;

  constructor(
    @Inject(MESA_RESOLVED_OPTIONS) private readonly options: ResolvedMesaOptions,
    @Inject(MESA_REDIS_CONNECTION) private readonly connection: MesaRedisConnection,
    private readonly explorer: MesaPortalExplorer,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    const portal = options.given.portal;
    this.settings = {
      ...MESA_PORTAL_DEFAULTS,
      reportAllEvents: false,
      ...portal,
      enabled: portal?.enabled === true,
      id: portal?.id ?? randomUUID(),
    };
    this.names = options.names;
  }

  /** This instance's portal id (the configured one, or a random UUID). */
  get id(): string {
    return this.settings.id;
  }

  /** Whether this portal has joined the pool (and not left it). */
  get joined(): boolean {
    return this.hasJoined && !this.left;
  }

  /** Finds the handlers, opens the portal's connections and subscribes; schedules the join. */
  async onApplicationBootstrap(): Promise<void> {
    const handlers = this.explorer.explore();
    if (!this.settings.enabled) {
      if (handlers.length > 0) {
        this.logger.warn(
          `${handlers.length} @OnMesa… handler(s) found (${handlers[0]!.name}…) but portal.enabled is not true: they will never run.`,
        );
      }
      return;
    }
    if (handlers.length === 0)
      this.logger.warn(`Portal ${this.id} is enabled but no @OnMesa… handler was found: events it receives are ignored.`);
    this.handlers = new PortalHandlerSet(handlers);
    this.queue = new PortalWorkQueue(this.settings.concurrency, this.settings.maxQueued);
    const timeout = this.options.connectTimeout;
    this.subscriber = await openPortalConnection(this.connection, 'subscriber', timeout, this.options, this.logger);
    this.commands = await openPortalConnection(this.connection, 'commands', timeout, this.options, this.logger);
    this.subscriber.on('message', (channel: string, raw: string) => channel === this.names.portalEvents && this.receive(raw));
    await this.subscriber.subscribe(this.names.portalEvents);
    this.pool = new PortalPool(this.commands, this.names, this.id, this.settings.heartbeatTtl, {
      beat: (outcome) => this.noteBeat(outcome),
      reaped: (dead) =>
        this.logger.warn(`Reaped portal ${dead}: its heartbeat lapsed; the Mesa servers were told to stop sending it events.`),
      failed: (step, error) => this.warnThrottled(`pool-${step}`, `Portal ${this.id}: ${step} failed (${error.message}); retrying.`),
    });
    const { httpAdapter } = this.adapterHost;
    if (httpAdapter && !this.adapterHost.listening) this.listening = this.adapterHost.listen$.subscribe(() => this.pool?.start());
    else setImmediate(() => this.pool?.start());
  }

  /** Leaves the pool, handles what was already addressed to this portal, and waits for the handlers. */
  onModuleDestroy(): Promise<void> {
    this.left ??= this.leave();
    return this.left;
  }

  /** Closes the portal's Redis connections. */
  async onApplicationShutdown(): Promise<void> {
    await this.onModuleDestroy();
    await Promise.all([closePortalConnection(this.subscriber), closePortalConnection(this.commands)]);
  }

  private async leave(): Promise<void> {
    this.listening?.unsubscribe();
    if (!this.pool || !this.subscriber || !this.queue) return;
    let announced = false;
    try {
      await withTimeout(this.pool.stop(), LEAVE_TIMEOUT_MS);
      announced = await withTimeout(this.pool.leave(), LEAVE_TIMEOUT_MS);
    } catch (error) {
      this.logger.error(
        `Portal ${this.id} could not leave the pool (${(error as Error).message}); live portals will reap it within ${this.settings.heartbeatTtl} ms.`,
      );
    }
    if (this.hasJoined) {
      await new Promise((resolve) => setTimeout(resolve, this.settings.leaveGrace));
      this.logger.log(`Portal ${this.id} left the pool${announced ? '' : ' (it was no longer listed)'}.`);
    }
    await this.subscriber.unsubscribe(this.names.portalEvents).catch(() => undefined);
    const pending = this.queue.size;
    if (!(await this.queue.drain(this.settings.drainTimeout))) {
      this.logger.warn(
        `Portal ${this.id}: ${this.queue.size} of ${pending} client events still unfinished after drainTimeout (${this.settings.drainTimeout} ms).`,
      );
    }
  }

  private noteBeat(outcome: PortalHeartbeat): void {
    if (outcome === 'joined') this.logger.log(`Portal ${this.id} joined the pool ${this.names.portalPool} (${this.connection.target}).`);
    else if (!this.hasJoined) this.logger.log(`Portal ${this.id} is back in the pool ${this.names.portalPool}, where it was still listed.`);
    this.hasJoined = true;
  }

  private receive(raw: string): void {
    const parsed = parsePortalFrame(raw, this.settings.maxFrameBytes);
    if (!parsed.ok) {
      this.warnThrottled(`frame-${parsed.reason}`, `Portal ${this.id}: ignored a frame on ${this.names.portalEvents}: ${parsed.reason}.`);
      return;
    }
    const event = parsed.event;
    if (event.portalId !== this.id && !this.settings.reportAllEvents) return;
    const handlers = this.handlers.for(event);
    if (handlers.length === 0) return;
    if (!this.queue!.push(() => this.run(event, handlers))) {
      this.warnThrottled(
        'queue-full',
        `Portal ${this.id}: dropped a client ${describeEvent(event)}: ${this.settings.maxQueued} events already wait for a handler ` +
          `(portal.maxQueued). Raise portal.concurrency or portal.maxQueued, or run more instances.`,
      );
    }
  }

  private async run(event: MesaPortalEvent, handlers: readonly MesaPortalHandler[]): Promise<void> {
    const args = argumentsOf(event);
    await Promise.all(
      handlers.map((handler) =>
        handler.invoke(...args).catch((error: unknown) => {
          const reason = (error as Error)?.message ?? String(error);
          this.errorThrottled(`handler-${handler.name}`, `Portal handler ${handler.name} failed on ${describeEvent(event)}: ${reason}`);
        }),
      ),
    );
  }

  private warnThrottled(key: string, line: string): void {
    const suffix = this.throttle.admit(key);
    if (suffix !== undefined) this.logger.warn(line + suffix);
  }

  private errorThrottled(key: string, line: string): void {
    const suffix = this.throttle.admit(key);
    if (suffix !== undefined) this.logger.error(line + suffix);
  }
}

function argumentsOf(event: MesaPortalEvent): unknown[] {
  switch (event.type) {
    case 'message':
      return [event.message];
    case 'connection':
      return [];
    default:
      return [event.clientId];
  }
}

/** `message 'TYPING' from client "alice"`: the client id is quoted and cut, as it comes from outside. */
function describeEvent(event: MesaPortalEvent): string {
  const what = event.type === 'message' ? `message${event.message.type === undefined ? '' : ` ${quote(event.message.type)}`}` : event.type;
  const clientId = 'clientId' in event ? event.clientId : undefined;
  return clientId === undefined ? what : `${what} from client ${quote(clientId)}`;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}
