import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Redis } from 'ioredis';
import type { Subscription } from 'rxjs';
import type { ResolvedMesaOptions, ResolvedPortalOptions } from '../options/resolved-mesa-options.js';
import type { MesaRedisNames } from '../redis/mesa-redis-names.js';
import { PORTAL_LEAVE_TIMEOUT_MS } from '../mesa.constants.js';
import { closeRedisClient, type MesaRedisConnection, TimeoutError, withTimeout } from '../redis/redis-connection.js';
import { LogThrottle } from '../logging/log-throttle.js';
import { MesaPortalExplorer, type MesaPortalHandler } from './portal-explorer.js';
import { readFrameAddress } from './portal-frame-address.js';
import { PortalHandlerSet } from './portal-handler-set.js';
import { PortalPool, type PortalHeartbeat } from './portal-pool.js';
import { parsePortalFrame, type MesaPortalEvent } from './portal-protocol.js';
import { openPortalConnection } from './portal-connections.js';
import { PortalSubscription } from './portal-subscription.js';
import { PortalWorkQueue, type PortalRefusal, type PortalWork } from './portal-work-queue.js';
import { argumentsOf, describeClient, describeEvent, NO_CLIENT } from './portal-event-text.js';
import type { MesaPortalStatus } from './mesa-portal-status.interface.js';
import { mesaTelemetryOf } from '../telemetry/mesa-telemetry.js';
import { processPortalFrame, type HandlerRun } from '../telemetry/portal-telemetry.js';

/** A client frame on its way to the handlers: waiting as its text, parsed when it starts. */
interface PortalFrame extends PortalWork {
  raw: string;
  event?: MesaPortalEvent;
  /** The handlers it runs, once it started (for the log line of a hang). */
  handlers?: readonly MesaPortalHandler[];
}

/**
 * Mesa's Portal inside Nest: reads the client events Mesa servers publish for this portal and runs the
 * `@OnMesa…` handlers, within bounds (concurrency, count, bytes, each client's share, a timeout per handler).
 *
 * Lifecycle: at bootstrap it finds the handlers and subscribes; it joins the pool once the HTTP server
 * listens (at once after bootstrap when the application has no HTTP server). At shutdown
 * (`onModuleDestroy`) it leaves the pool, keeps handling the events already addressed to it for
 * `leaveGrace` ms, and waits for the handlers in flight (`drainTimeout`); then nothing starts any more. It
 * closes its two Redis connections in `onApplicationShutdown`. It never exits the process. With
 * `portal.enabled` false it does nothing at all.
 */
export class MesaPortalService implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger('MesaPortal');
  private readonly throttle = new LogThrottle(this.logger);
  private readonly settings: ResolvedPortalOptions;
  private readonly names: MesaRedisNames;
  private handlers = new PortalHandlerSet([]);
  private subscription?: PortalSubscription;
  private commands?: Redis;
  private pool?: PortalPool;
  private queue?: PortalWorkQueue<PortalFrame>;
  private listening?: Subscription;
  private inPool = false;
  private everJoined = false;
  private dropped = 0;
  private left?: Promise<void>;
  /** False when Redis did not answer the departure in time (frozen): the connections are then dropped without QUIT. */
  private redisAnswered = true;

  constructor(
    private readonly options: ResolvedMesaOptions,
    private readonly connection: MesaRedisConnection,
    private readonly explorer: MesaPortalExplorer,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.settings = options.portal;
    this.names = options.names;
  }

  /** Whether the portal is enabled (`portal.enabled`). */
  get enabled(): boolean {
    return this.settings.enabled;
  }

  /** This instance's portal id (the configured one, or a random UUID). */
  get id(): string {
    return this.settings.id;
  }

  /** Whether this portal is in the pool (it joined, and has not left it, at shutdown or stalled). */
  get joined(): boolean {
    return this.inPool && !this.left;
  }

  /** What the portal holds and did: see {@link MesaPortalStatus}. */
  status(): MesaPortalStatus {
    const queue = this.queue;
    return {
      id: this.id,
      joined: this.joined,
      stalled: queue?.stalled ?? false,
      handling: queue?.handling ?? 0,
      waiting: queue?.waiting ?? 0,
      heldBytes: queue?.heldBytes ?? 0,
      hungHandlers: queue?.abandoned ?? 0,
      dropped: this.dropped,
      subscriberLosses: this.subscription?.outages ?? 0,
    };
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
    this.queue = new PortalWorkQueue<PortalFrame>(this.settings, (frame) => this.handle(frame), {
      hung: (frame) => this.noteHang(frame),
      stalled: (stalled) => this.noteStall(stalled),
    });
    const timeout = this.options.connectTimeout;
    const subscriber = await openPortalConnection(this.connection, 'subscriber', timeout, this.options, this.logger);
    this.subscription = new PortalSubscription(subscriber, this.names.portalEvents, {
      frame: (raw) => this.receive(raw),
      lost: () => this.noteSubscriberLost(),
      back: (outageMs) => this.noteSubscriberBack(outageMs),
    });
    this.commands = await openPortalConnection(this.connection, 'commands', timeout, this.options, this.logger);
    await this.subscription.subscribe();
    this.pool = new PortalPool(this.commands, this.names, this.id, this.settings.heartbeatTtl, {
      beat: (outcome) => this.noteBeat(outcome),
      reaped: (dead) =>
        this.logger.warn(`Reaped portal ${dead}: its heartbeat lapsed; the Mesa servers were told to stop sending it events.`),
      failed: (step, error) => this.throttle.warn(`pool-${step}`, `Portal ${this.id}: ${step} failed (${error.message}); retrying.`),
    });
    const { httpAdapter } = this.adapterHost;
    if (httpAdapter && !this.adapterHost.listening) this.listening = this.adapterHost.listen$.subscribe(() => this.join());
    else setImmediate(() => this.join());
  }

  /** Leaves the pool, handles what was already addressed to this portal, and waits for the handlers. */
  onModuleDestroy(): Promise<void> {
    this.left ??= this.leave();
    return this.left;
  }

  /**
   * Closes the portal's Redis connections (at once, without QUIT, if Redis did not answer the departure);
   * writes the sums of the log lines held back.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.onModuleDestroy();
    await Promise.all([this.subscription?.close(this.redisAnswered), closeRedisClient(this.commands, this.redisAnswered)]);
    this.throttle.flush();
  }

  private join(): void {
    if (!this.left && !this.queue?.stalled) this.pool?.start();
  }

  private async leave(): Promise<void> {
    this.listening?.unsubscribe();
    this.inPool = false;
    if (!this.pool || !this.subscription || !this.queue) return;
    let announced = false;
    try {
      announced = await withTimeout(this.pool.close(), PORTAL_LEAVE_TIMEOUT_MS);
    } catch (error) {
      this.redisAnswered = !(error instanceof TimeoutError);
      this.logger.error(
        `Portal ${this.id} could not leave the pool (${(error as Error).message}); live portals will reap it within ${this.settings.heartbeatTtl} ms.`,
      );
    }
    if (this.everJoined && this.redisAnswered) {
      await new Promise((resolve) => setTimeout(resolve, this.settings.leaveGrace));
      this.logger.log(`Portal ${this.id} left the pool${announced ? '' : ' (it was no longer listed)'}.`);
    }
    this.subscription.stop();
    const pending = this.queue.size;
    const drained = await this.queue.drain(this.settings.drainTimeout);
    const unstarted = this.queue.close();
    this.dropped += unstarted;
    if (!drained || unstarted > 0) {
      this.logger.warn(
        `Portal ${this.id}: ${this.queue.size} of ${pending} client events still being handled after drainTimeout ` +
          `(${this.settings.drainTimeout} ms)${unstarted > 0 ? `, and ${unstarted} waiting were dropped` : ''}; no handler starts any more.`,
      );
    }
  }

  private noteBeat(outcome: PortalHeartbeat): void {
    if (outcome === 'joined') this.logger.log(`Portal ${this.id} joined the pool ${this.names.portalPool} (${this.connection.target}).`);
    else if (outcome === 'restored') {
      this.logger.warn(
        `Portal ${this.id} was missing from the pool ${this.names.portalPool} because Redis lost its data (another run id); ` +
          'added back without an announcement, as the Mesa servers still list it.',
      );
    } else if (!this.everJoined)
      this.logger.log(`Portal ${this.id} is back in the pool ${this.names.portalPool}, where it was still listed.`);
    this.everJoined = true;
    this.inPool = !this.left && !this.queue?.stalled;
  }

  /**
   * Takes a frame: what is addressed to another portal, of a kind no handler takes, or beyond the bounds is
   * dropped before it is parsed (a frame in Mesa's layout tells whom it is for at its end); the rest is parsed
   * when it starts.
   */
  private receive(raw: string): void {
    const address = readFrameAddress(raw);
    if (address) {
      if (this.isMine(address.portalId) && (!address.type || this.handlers.handles(address.type))) this.take(raw, address.clientId);
      return;
    }
    const event = this.parse(raw);
    if (event && this.isMine(event.portalId) && this.handlers.for(event).length > 0) {
      this.take(raw, 'clientId' in event ? event.clientId : undefined, event);
    }
  }

  private take(raw: string, clientId: string | undefined, event?: MesaPortalEvent): void {
    const maxBytes = this.settings.maxFrameBytes;
    const bytes = raw.length > maxBytes ? raw.length : Buffer.byteLength(raw);
    if (bytes > maxBytes) return void this.parse(raw);
    const frame: PortalFrame = { client: clientId ?? NO_CLIENT, bytes, raw, event };
    const outcome = this.queue!.push(frame);
    if (outcome === 'queued') frame.event = undefined;
    else if (outcome !== 'started') this.drop(frame, outcome);
  }

  private async handle(frame: PortalFrame): Promise<void> {
    const event = (frame.event ??= this.parse(frame.raw));
    frame.raw = '';
    if (!event || !this.isMine(event.portalId)) return;
    const handlers = (frame.handlers = this.handlers.for(event));
    if (handlers.length === 0) return;
    const args = argumentsOf(event);
    const run = () =>
      Promise.all(
        handlers.map((handler) =>
          handler.invoke(...args).then(
            (): HandlerRun => undefined,
            (error: unknown): HandlerRun => {
              const reason = (error as Error)?.message ?? String(error);
              this.throttle.error(`handler-${handler.name}`, `Portal handler ${handler.name} failed on ${describeEvent(event)}: ${reason}`);
              return { error };
            },
          ),
        ),
      );
    await processPortalFrame(mesaTelemetryOf(this.options), event, handlers, run);
  }

  private parse(raw: string): MesaPortalEvent | undefined {
    const parsed = parsePortalFrame(raw, this.settings.maxFrameBytes);
    if (parsed.ok) return parsed.event;
    this.throttle.warn(`frame-${parsed.reason}`, `Portal ${this.id}: ignored a frame on ${this.names.portalEvents}: ${parsed.reason}.`);
    return undefined;
  }

  private isMine(portalId: string): boolean {
    return this.settings.reportAllEvents || portalId === this.id;
  }

  private drop(frame: PortalFrame, refusal: PortalRefusal): void {
    this.dropped++;
    if (refusal === 'closed') return;
    const { maxQueued, maxQueuedBytes, maxClientShare } = this.settings;
    const why = {
      maxQueued: `${maxQueued} events already wait for a handler (portal.maxQueued)`,
      maxQueuedBytes: `the frames held already take ${this.queue!.heldBytes} of ${maxQueuedBytes} bytes (portal.maxQueuedBytes)`,
      maxClientShare: `this client already holds its share of the queue (portal.maxClientShare ${maxClientShare})`,
    }[refusal];
    this.throttle.warn(
      `drop-${refusal}`,
      `Portal ${this.id}: dropped a client event of ${frame.bytes} bytes from ${describeClient(frame.client)}: ${why}. ` +
        'Raise portal.concurrency or that bound, or run more instances.',
    );
  }

  private noteHang(frame: PortalFrame): void {
    this.throttle.warn(
      'handler-timeout',
      `Portal ${this.id}: a handler run on ${frame.event ? describeEvent(frame.event) : 'a client event'} ` +
        `(${frame.handlers?.map((handler) => handler.name).join(', ')}) has not settled after handlerTimeout ` +
        `(${this.settings.handlerTimeout} ms); its slot goes to the next event (${this.queue!.abandoned} such runs unsettled).`,
    );
  }

  private noteStall(stalled: boolean): void {
    if (this.left) return;
    if (stalled) {
      this.inPool = false;
      this.logger.error(
        `Portal ${this.id}: ${this.settings.concurrency} handler runs outlived handlerTimeout (${this.settings.handlerTimeout} ms) ` +
          `and have not settled, so it cannot make progress: it leaves the pool (Mesa servers stop sending it events) and starts ` +
          `no handler until one of them settles (${this.queue!.waiting} events wait).`,
      );
      void this.pool
        ?.leave()
        .catch((error: Error) => this.throttle.warn('pool-leave', `Portal ${this.id}: leaving failed (${error.message}).`));
    } else {
      this.logger.log(`Portal ${this.id}: a hung handler run settled; it handles events again and rejoins the pool.`);
      this.join();
    }
  }

  private noteSubscriberLost(): void {
    this.throttle.warn(
      'subscriber-lost',
      `Portal ${this.id}: its subscriber connection to ${this.connection.target} closed; client events published on ` +
        `${this.names.portalEvents} until it is back are lost (pub/sub keeps nothing). Redis closes a subscriber that falls behind ` +
        'by more than client-output-buffer-limit pubsub (32 MB at once by default), which one frame that large does to every ' +
        'portal: cap client frames at the Mesa servers (docs/portal.md). Reconnecting now.',
    );
  }

  private noteSubscriberBack(outageMs: number): void {
    this.throttle.warn(
      'subscriber-back',
      `Portal ${this.id}: subscribed to ${this.names.portalEvents} again, ${outageMs} ms after losing it; the client events ` +
        'published meanwhile are lost, and neither Redis nor Mesa counts them.',
    );
  }
}
