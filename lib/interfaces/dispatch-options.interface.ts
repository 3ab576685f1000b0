import type { DispatchErrorMode } from './mesa-module-options.interface.js';

/** A function of a decorated method's result and the arguments it was called with. */
export type ResultSelector<R, T> = (result: R, ...args: any[]) => T;

/**
 * Options of `@Dispatch(type, options)`.
 *
 * Exactly one of `recipients` or `broadcast: true` is required: a decorator that names neither
 * fails at class definition, so no message silently goes nowhere.
 */
export interface DispatchDecoratorOptions<R = any> {
  /**
   * Name of the `MesaModule` registration to dispatch through (`MesaModule.forRoot({ name: 'chat', ... })`).
   * Default: the default (unnamed) registration.
   */
  dispatcher?: string;
  /**
   * The user ids to send to, chosen from the result (and the call's arguments). It must return an array;
   * `[]` sends to nobody. A `'*'` in what it returns is refused: ids often come from data a user controls;
   * declare `broadcast: true` instead. Anything but an array of ids fails the call (MesaValidationError).
   */
  recipients?: ResultSelector<R, readonly string[]>;
  /**
   * Ids removed from the recipients (for example the author of a chat message). It must return an array;
   * `[]` leaves nobody out; `undefined`, `null` or anything but an array of ids fails the call.
   */
  excluding?: ResultSelector<R, readonly string[]>;
  /** The message data; defaults to the result itself. */
  data?: ResultSelector<R, unknown>;
  /** Send to every connected socket. Cannot be combined with `recipients` or `excluding`. */
  broadcast?: boolean;
  /** `false` marks the message as not to be stored for offline recipients (Mesa's `{ sync: false }`). */
  sync?: boolean;
  /**
   * Milliseconds its stored copies stay deliverable to offline recipients (sync); overrides the module's
   * `sync.ttl`. Needs the module's sweep (`sync.ttl` or `sync.sweepInterval`).
   */
  ttl?: number;
  /**
   * The message's idempotency key, chosen from the result (and the call's arguments), such as
   * `(order) => \`order-${order.id}:shipped\``: a retried call (a client's retry, a redelivered job) then
   * dispatches once within the module's `idempotency.window`; the repeat resolves with `duplicate: true`. It must
   * return a non-empty string of at most 256 characters; anything else fails the call (MesaValidationError).
   */
  idempotencyKey?: ResultSelector<R, string>;
  /** Overrides the module's `dispatchErrors` for this method. */
  onError?: DispatchErrorMode;
}
