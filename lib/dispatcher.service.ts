import { type OnApplicationShutdown } from '@nestjs/common';
import type { AnyEvents, DispatchableFor, EventMap } from './events/event-map.js';
import type { BroadcastOptions } from './interfaces/broadcast-options.interface.js';
import type { DispatchResult } from './interfaces/dispatch-result.interface.js';
import type { DispatchErrorMode } from './interfaces/mesa-module-options.interface.js';
import { DispatchPromise } from './dispatch-promise.js';
import { BROADCAST_RECIPIENTS, MESA_SETTLED_DISPATCH } from './mesa.constants.js';
import { DISCONNECT_CLIENT } from './messages/message.js';
import type { ResolvedMesaOptions } from './options/resolved-mesa-options.js';
import type { Settlement } from './interfaces/settlement.interface.js';
import { MesaPublisher } from './publishing/mesa-publisher.js';
import { prepareBroadcastExcept, type PreparedBroadcastExcept } from './validation/broadcast-input.validator.js';
import { prepareDispatch, type PreparedDispatch } from './validation/dispatch-input.validator.js';

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
export class DispatcherService<Events extends EventMap = AnyEvents> implements OnApplicationShutdown {
  constructor(
    private readonly options: ResolvedMesaOptions,
    private readonly publisher: MesaPublisher,
  ) {}

  /**
   * Sends `message` to `recipients` (user ids; `['*']`, the default, is every connected socket),
   * leaving out the ids in `excluding`. With sync enabled, offline recipients get the message stored
   * for redelivery (unless it says `{ sync: false }`), atomically with the publish.
   *
   * Duplicates are sent once; an empty list (after `excluding`) publishes nothing and resolves.
   * Rejects with MesaValidationError for a non-message, ids that are not non-empty well-formed strings,
   * `'*'` mixed with ids or with `excluding`, data JSON cannot carry (BigInt, circular), or a message over
   * `maxPayloadBytes`, or an idempotency key that is not a non-empty string of at most 256 characters; with
   * MesaDispatchError when Redis does not take it: its message ends "was not sent" only when nothing of it can
   * have reached the wire, and "may have been published" otherwise (`error.mayHaveBeenPublished`; see the README's
   * Guarantees, and the module's `dispatchTimeout`, `whenDisconnected` and queue bounds).
   *
   * A message with an idempotency key (`new Message(op, data, type, { idempotencyKey })`) is safe to send again:
   * within the module's `idempotency.window` a second dispatch with that key publishes and stores nothing and
   * resolves with `duplicate: true`. With the module's `retry`, a failed dispatch is tried again by itself ("not
   * sent" always, "may have been published" only with a key) and settles once.
   */
  dispatch(message: DispatchableFor<Events>, recipients?: readonly string[], excluding?: readonly string[]): Promise<DispatchResult> {
    const promise = DispatchPromise.pending<DispatchResult>();
    this[MESA_SETTLED_DISPATCH](promise, message, recipients, excluding);
    return promise;
  }

  /**
   * @internal `dispatch()`, its outcome going to `caller` instead of a promise of its own: what `@Dispatch` calls
   * with the settlement of the decorated method's promise (see {@link MESA_SETTLED_DISPATCH}).
   */
  [MESA_SETTLED_DISPATCH](
    caller: Settlement,
    message: DispatchableFor<Events>,
    recipients?: readonly string[],
    excluding?: readonly string[],
  ): void {
    let prepared: PreparedDispatch;
    try {
      prepared = prepareDispatch(message, recipients, excluding, this.options.maxPayloadBytes);
    } catch (error) {
      return this.publisher.refuse(error, caller);
    }
    this.publisher.publish(prepared, caller);
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
   * (their default, `authentication.storeConnectedUsers`). Cost: the envelope names every online user, and
   * Redis reads the whole set (SMEMBERS) per batch: with 500,000 online, about 7 MB per envelope.
   *
   * Rejects with MesaValidationError as `dispatch()` does, and when `excluding` is missing, not an array
   * of non-empty string ids, or contains `'*'`.
   */
  broadcast(message: DispatchableFor<Events>, options?: BroadcastOptions): Promise<DispatchResult> {
    if (options === undefined) return this.dispatch(message, BROADCAST_RECIPIENTS);
    const promise = DispatchPromise.pending<DispatchResult>();
    let prepared: PreparedBroadcastExcept;
    try {
      prepared = prepareBroadcastExcept(message, options, this.options.maxPayloadBytes);
    } catch (error) {
      this.publisher.refuse(error, promise);
      return promise;
    }
    this.publisher.broadcastExcept(prepared, promise);
    return promise;
  }

  /**
   * Closes the sockets of `recipients` on every Mesa server (Mesa's `DISCONNECT_CLIENT` event).
   * Unlike `dispatch()`, the ids are required: there is no default broadcast; pass `['*']` to close every socket.
   */
  disconnect(recipients: readonly string[], excluding?: readonly string[]): Promise<DispatchResult> {
    return this.dispatch(DISCONNECT_CLIENT as DispatchableFor<Events>, recipients ?? (null as never), excluding);
  }

  /**
   * What `@Dispatch` does when Redis fails a dispatch and the decorator says no `onError`: the module's
   * `dispatchErrors`. Part of the contract between `@Dispatch` and the dispatcher it finds (this service or a
   * `RecordingDispatcher`), so that each one's own options govern.
   */
  get decoratorErrorMode(): DispatchErrorMode {
    return this.options.dispatchErrors;
  }

  /** The largest message accepted, in bytes of JSON (the module's `maxPayloadBytes`); `@Dispatch` checks it synchronously. */
  get maxPayloadBytes(): number {
    return this.options.maxPayloadBytes;
  }

  /** Waits for the dispatches in flight, then closes the connection the module opened. */
  async onApplicationShutdown(): Promise<void> {
    await this.publisher.close();
  }
}
