import { MESA_MESSAGE_KIND } from '../mesa.constants.js';
import { prepareMessage } from './message-snapshot.js';

/** Per-message options, as Mesa's `Message` takes them. */
export interface MessageOptions {
  /** `false`: never store this message for offline recipients. Default `true`. */
  sync?: boolean;
  /**
   * Milliseconds a stored copy stays deliverable (sync): an offline recipient who comes back later does not get
   * it. Overrides the module's `sync.ttl`. Needs a sweep (`sync.ttl` or `sync.sweepInterval`). nestjs-mesa only.
   */
  ttl?: number;
  /**
   * Makes the dispatch safe to retry: within the module's `idempotency.window` (default 5 minutes), a second
   * dispatch with the same key in the same registration publishes and stores nothing and resolves with
   * `duplicate: true`. A non-empty, well-formed string of at most 256 characters, such as `'order-42:shipped'`;
   * it names this one message (the same key for a different message drops that message). Never sent to clients.
   * nestjs-mesa only.
   */
  idempotencyKey?: string;
}

/** A message as it travels in Mesa's envelope and sync storage. */
export interface WireMessage {
  op: number;
  d?: unknown;
  t?: string;
  o?: MessageOptions;
}

/**
 * A message for Mesa clients, with the constructor shape of Mesa's own `Message`:
 * `new Message(0, { content: 'hi' }, 'NEW_MESSAGE', { sync: false })`.
 *
 * @typeParam D type of the data.
 */
export class Message<D = unknown> {
  readonly [MESA_MESSAGE_KIND] = 'message' as const;
  readonly options?: MessageOptions & { sync: boolean };

  /**
   * @param opcode Mesa opcode; 0 is a dispatch, the event a client application sees.
   * @param data any JSON value.
   * @param type the event type clients switch on, e.g. `'NEW_MESSAGE'`.
   * @param options `{ sync: false }` keeps the message from being stored for offline recipients; `{ ttl }` makes
   *   its stored copies expire; `{ idempotencyKey }` makes its dispatch safe to retry (see {@link MessageOptions}).
   */
  constructor(
    readonly opcode: number,
    readonly data: D,
    readonly type?: string,
    options?: MessageOptions,
  ) {
    if (options) {
      const { ttl, idempotencyKey } = options;
      this.options = { sync: options.sync !== false };
      if (ttl !== undefined) this.options.ttl = ttl;
      if (idempotencyKey !== undefined) this.options.idempotencyKey = idempotencyKey;
    }
  }

  /**
   * Mesa's wire form `{ op, d, t[, o] }`, or its JSON text when `toJson` is false (Mesa's signature): the text
   * `dispatch()` publishes, built by the same code.
   * @throws MesaValidationError when the message cannot be sent (see `dispatch()`).
   */
  serialize(toJson: true): WireMessage;
  serialize(toJson?: false): string;
  serialize(toJson = false): WireMessage | string {
    const json = prepareMessage(this).messageJson;
    return toJson ? (JSON.parse(json) as WireMessage) : json;
  }
}

/**
 * An internal event that Mesa servers act upon instead of forwarding, e.g.
 * `new DispatchEvent('DISCONNECT_CLIENT')` closes the recipients' sockets (code 1000).
 */
export class DispatchEvent {
  readonly [MESA_MESSAGE_KIND] = 'event' as const;

  /** @param action the event, e.g. `'DISCONNECT_CLIENT'`. */
  constructor(readonly action: string) {}

  /** Mesa's wire form `{ op: 5, d: {}, t: action }`, or its JSON text when `toJson` is false (as `dispatch()` publishes it). */
  serialize(toJson: true): WireMessage;
  serialize(toJson?: false): string;
  serialize(toJson = false): WireMessage | string {
    const json = prepareMessage(this).messageJson;
    return toJson ? (JSON.parse(json) as WireMessage) : json;
  }
}

/** @internal Mesa's `DISCONNECT_CLIENT` event, one frozen instance for every `disconnect()`. */
export const DISCONNECT_CLIENT: DispatchEvent = Object.freeze(new DispatchEvent('DISCONNECT_CLIENT'));

/** Anything `dispatch()` accepts: a nestjs-mesa `Message` or `DispatchEvent`, or Mesa's own instances. */
export type Dispatchable = Message<any> | DispatchEvent;
