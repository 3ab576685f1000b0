import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DispatchPromise } from './dispatch-promise.js';
import { MesaDispatchError } from './errors/mesa.errors.js';
import type { BroadcastOptions } from './interfaces/broadcast-options.interface.js';
import type { DispatchResult } from './interfaces/dispatch-result.interface.js';
import type { DispatchErrorMode, MesaModuleOptions } from './interfaces/mesa-module-options.interface.js';
import { BROADCAST, DEFAULT_DISPATCH_TIMEOUT_MS, DEFAULT_MAX_PAYLOAD_BYTES, MESA_REDIS_CONNECTION } from './mesa.constants.js';
import { MESA_MODULE_OPTIONS } from './mesa.module-definition.js';
import type { AnyEvents, DispatchableFor, EventMap } from './events/event-map.js';
import { DispatchEvent } from './messages/message.js';
import { mesaEnvelope, mesaRedisNames, type MesaRedisNames } from './redis/mesa-redis-names.js';
import type { MesaRedisConnection } from './redis/redis-connection.js';
import { BatchSender } from './publishing/batch-sender.js';
import { DispatchFailures } from './publishing/dispatch-failures.js';
import { DispatchQueue } from './publishing/dispatch-queue.js';
import { prepareBroadcastExcept } from './validation/broadcast-input.validator.js';
import { prepareDispatch } from './validation/dispatch-input.validator.js';

/**
 * Sends messages to the users connected to Mesa servers, through Redis. Inject it anywhere once
 * `MesaModule` is imported.
 *
 * Every method returns a Promise that settles when Redis has taken the publish (and the sync writes).
 * It rejects with a {@link MesaError}: {@link MesaValidationError} for bad input (nothing was
 * published), {@link MesaDispatchError} when Redis failed or the module is shut down. A rejection
 * nobody awaits is logged through Nest's Logger, never left unhandled.
 *
 * Typed events (optional, compile time only): inject `DispatcherService<ChatEvents>`, where
 * `ChatEvents` maps event types to payloads (an {@link EventMap}); `dispatch()` and `broadcast()` then
 * accept only messages built by `typedMessage<ChatEvents>()` (or a `DispatchEvent`), so a wrong type
 * name or payload fails to compile. It is the same class and the same instance at run time.
 *
 * @typeParam Events the application's event map; untyped ({@link AnyEvents}) by default.
 */
@Injectable()
export class DispatcherService<Events extends EventMap = AnyEvents> implements OnApplicationShutdown {
  private readonly logger = new Logger('MesaDispatcher');
  private readonly names: MesaRedisNames;
  private readonly queue: DispatchQueue;
  private readonly sender: BatchSender;
  private readonly syncEnabled: boolean;
  private readonly maxPayloadBytes: number;
  private closed = false;

  constructor(
    @Inject(MESA_MODULE_OPTIONS) private readonly options: MesaModuleOptions,
    @Inject(MESA_REDIS_CONNECTION) private readonly connection: MesaRedisConnection,
  ) {
    this.names = mesaRedisNames(options.namespace);
    this.syncEnabled = options.sync?.enabled === true;
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    const { client } = connection;
    this.sender = new BatchSender(client, this.names, connection.target, options.maxStoredPerUser ?? 0);
    this.queue = new DispatchQueue({
      send: (entries) => this.sender.send(entries),
      connectionStatus: () => client.status,
      failures: new DispatchFailures(connection.target, this.names.channel, options),
      onUnconsumedFailure: this.reportUnconsumed,
      dispatchTimeout: options.dispatchTimeout ?? DEFAULT_DISPATCH_TIMEOUT_MS,
      whenDisconnected: options.whenDisconnected ?? 'queue',
    });
    client.on('ready', this.releaseHeld);
    client.on('close', this.failUnanswered);
  }

  /**
   * Sends `message` to `recipients` (user ids; `['*']`, the default, is every connected socket),
   * leaving out the ids in `excluding`. With sync enabled, offline recipients get the message stored
   * for redelivery (unless it says `{ sync: false }`), atomically with the publish.
   *
   * Duplicates are sent once; an empty list (after `excluding`) publishes nothing and resolves.
   * Rejects with MesaValidationError for a non-message, ids that are not non-empty strings, `'*'`
   * mixed with ids or with `excluding`, data JSON cannot carry (BigInt, circular), or a message over
   * `maxPayloadBytes`; with MesaDispatchError when Redis does not take it (the message says whether it
   * was not sent or may have been published; see the module's `dispatchTimeout` and `whenDisconnected`).
   */
  dispatch(message: DispatchableFor<Events>, recipients?: readonly string[], excluding?: readonly string[]): Promise<DispatchResult> {
    const promise = DispatchPromise.pending<DispatchResult>();
    try {
      const prepared = prepareDispatch(message, recipients, excluding, this.maxPayloadBytes);
      if (this.closed) {
        throw new MesaDispatchError(SHUT_DOWN);
      }
      if (prepared.recipients.length === 0) {
        promise.succeed({ recipients: [], publishedTo: [], storedFor: [], receivers: 0 });
      } else if (this.syncEnabled && prepared.storable && !prepared.broadcast) {
        this.queue.push({ prepared, sync: true, promise });
      } else {
        const envelope = mesaEnvelope(prepared.messageJson, prepared.recipients);
        this.queue.push({ prepared, sync: false, envelope, promise });
      }
    } catch (error) {
      promise.fail(error, this.reportUnconsumed);
    }
    return promise;
  }

  /**
   * Without options: sends `message` to every connected socket, authenticated or not (Mesa's `['*']`).
   *
   * With `{ excluding }`: sends it to every **authenticated** user online at that moment (the members of
   * Mesa's `connected_clients` set, read inside Redis atomically with the publish) except the `excluding`
   * ids; unauthenticated sockets do not receive it, and it is never stored for offline users (sync or
   * not). It keeps call order with the other dispatches. The result's `publishedTo` (and `recipients`)
   * are the online ids it was sent to, in no particular order; none online: nothing is published.
   * `{ excluding: [] }` reaches every authenticated user. Mesa servers must keep `connected_clients`
   * (their default, `authentication.storeConnectedUsers`).
   *
   * Rejects with MesaValidationError as `dispatch()` does, and when `excluding` is missing, not an array
   * of non-empty string ids, or contains `'*'`.
   */
  broadcast(message: DispatchableFor<Events>, options?: BroadcastOptions): Promise<DispatchResult> {
    if (options === undefined) return this.dispatch(message, [BROADCAST]);
    const promise = DispatchPromise.pending<DispatchResult>();
    try {
      const { prepared, excluding } = prepareBroadcastExcept(message, options, this.maxPayloadBytes);
      if (this.closed) throw new MesaDispatchError(SHUT_DOWN);
      this.queue.push({ prepared, sync: false, excluding, promise });
    } catch (error) {
      promise.fail(error, this.reportUnconsumed);
    }
    return promise;
  }

  /**
   * Closes the sockets of `recipients` on every Mesa server (Mesa's `DISCONNECT_CLIENT` event).
   * Unlike `dispatch()`, the ids are required: there is no default broadcast; pass `['*']` to close every socket.
   */
  disconnect(recipients: readonly string[], excluding?: readonly string[]): Promise<DispatchResult> {
    return this.dispatch(new DispatchEvent('DISCONNECT_CLIENT') as DispatchableFor<Events>, recipients ?? (null as never), excluding);
  }

  /** @internal What `@Dispatch` does with a failed dispatch when the decorator does not say. */
  get decoratorErrorMode(): DispatchErrorMode {
    return this.options.dispatchErrors ?? 'throw';
  }

  /** Waits for the dispatches in flight, then closes the connection the module opened. */
  async onApplicationShutdown(): Promise<void> {
    await this.queue.drain();
    this.closed = true;
    this.connection.client.off('ready', this.releaseHeld);
    this.connection.client.off('close', this.failUnanswered);
    await this.connection.close();
  }

  private readonly reportUnconsumed = (error: unknown) =>
    this.logger.error(`A dispatch nobody awaited failed: ${(error as Error)?.message ?? error}`);

  private readonly releaseHeld = () => this.queue.release();
  private readonly failUnanswered = () => {
    this.sender.connectionLost();
    this.queue.connectionLost();
  };
}

const SHUT_DOWN = 'DispatcherService is shut down (the application is closing); the message was not sent.';
