import type { DispatchResult } from '../interfaces/dispatch-result.interface.js';
import type { DispatchErrorMode, MesaIdempotencyOptions, MesaSyncOptions } from '../interfaces/mesa-module-options.interface.js';
import type { WireMessage } from '../messages/message.js';

/**
 * One dispatch a {@link RecordingDispatcher} accepted: what the real `DispatcherService` would have
 * published and stored, without Redis. A dispatch whose recipients are all excluded is recorded too,
 * with empty `recipients` and `publishedTo` (the real service publishes nothing for it).
 */
export interface RecordedDispatch {
  /** The message type (`t`), e.g. `'NEW_MESSAGE'`; `undefined` for a message without one. */
  type: string | undefined;
  /**
   * The message in wire form `{ op, d, t[, o] }`, parsed back from the exact JSON the real service
   * would publish: `d` is what clients receive (a `Date` is an ISO string, `undefined` keys are gone).
   */
  message: WireMessage;
  /** The recipients after `excluding` and de-duplication, `['*']` for a broadcast. */
  recipients: string[];
  /** Whether it went to every connected socket (`['*']`). */
  broadcast: boolean;
  /**
   * For `broadcast(message, { excluding })`: the ids left out (its `recipients` are the simulated
   * online ids minus these). Absent for other dispatches.
   */
  excluding?: string[];
  /** The ids the envelope would name on the channel (with sync: the online recipients only). */
  publishedTo: string[];
  /** Offline recipients the message would be stored for (sync enabled, not `{ sync: false }`). */
  storedFor: string[];
  /** The Redis pub/sub channel it would be published on (`ws` or `ws_<namespace>`). */
  channel: string;
  /** What `dispatch()` resolved to. */
  result: DispatchResult;
}

/** Options of {@link RecordingDispatcher} and `MesaTestingModule.forRoot()`. */
export interface RecordingDispatcherOptions {
  /** Ids treated as online (members of `connected_clients`) for sync simulation. Default: nobody. */
  online?: readonly string[];
  /**
   * Simulate message sync: offline recipients get messages stored instead of published; with `ttl`, stored
   * messages expire (on the double's clock, see `now`) as `MesaModule`'s `sync.ttl` makes them.
   */
  sync?: MesaSyncOptions;
  /** As `MesaModule`'s: the largest message accepted. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** As `MesaModule`'s: caps on one user's stored messages, the oldest dropped and reported. Defaults 1000 and 1 MiB. */
  maxStoredPerUser?: number;
  maxStoredBytesPerUser?: number;
  /** The clock stored messages expire by, in epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Mesa namespace, as `MesaModule` takes it (changes the recorded `channel`). */
  namespace?: string;
  /** `receivers` reported for a dispatch that published something. Default 0 (no Mesa server listening). */
  receivers?: number;
  /** What `@Dispatch` does with a failed dispatch, as `MesaModule`'s `dispatchErrors`. Default `'throw'`. */
  dispatchErrors?: DispatchErrorMode;
  /**
   * As `MesaModule`'s: how long an idempotency key is remembered (on the double's clock, see `now`). A duplicate
   * resolves with `duplicate: true` and is not recorded (it would publish and store nothing). Default 5 minutes.
   */
  idempotency?: MesaIdempotencyOptions;
}

/**
 * What {@link RecordingDispatcher.expectDispatched} checks: every given key must hold for one recorded dispatch,
 * and a key it does not know is refused (`MesaValidationError`), so a misspelt expectation cannot pass. Id lists
 * compare as sets; values compare as clients receive them (after a JSON round trip), or through a predicate.
 */
export interface ExpectedDispatch {
  /** The message type (`t`). Given as the first argument of `expectDispatched(type, expected)`, or here in `expectDispatched({ type, ... })`. */
  type?: string;
  /** Exactly these recipients (after `excluding` and de-duplication; `['*']` for a broadcast), in any order. */
  to?: readonly string[];
  /** Exactly these ids were left out by `broadcast(message, { excluding })` (other dispatches record no `excluding`). */
  excluding?: readonly string[];
  /** The data clients receive (`d`): deep-equal after a JSON round trip, or a predicate on it that must return true. */
  data?: unknown;
  /** The whole wire message `{ op, d, t[, o] }`: deep-equal after a JSON round trip, or a predicate on it. */
  message?: WireMessage | ((message: WireMessage) => unknown);
  /** Exactly these recipients were published to (with sync: the ones the simulated presence has online). */
  publishedTo?: readonly string[];
  /** Exactly these recipients got it stored (sync enabled, offline, not `{ sync: false }`), in any order. */
  storedFor?: readonly string[];
}
