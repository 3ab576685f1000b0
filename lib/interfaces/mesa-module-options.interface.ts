import type { Redis, RedisOptions } from 'ioredis';
import type { MesaPortalOptions } from './mesa-portal-options.interface.js';

/** How a failed dispatch from `@Dispatch` is surfaced. */
export type DispatchErrorMode = 'throw' | 'log';

/**
 * Options of `MesaModule.forRoot()` / `forRootAsync()`.
 *
 * Give exactly one way to reach Redis: `url`, `redis` or `client`.
 */
export interface MesaModuleOptions {
  /** A `redis://` or `rediss://` URL (password, db and TLS as ioredis reads them). */
  url?: string;
  /**
   * ioredis connection options (host, port, password, db, tls, sentinels, ...), or, as Mesa's own
   * Dispatcher accepted, a URL string or the ioredis constructor arguments as an array.
   */
  redis?: RedisOptions | string | readonly unknown[];
  /**
   * An ioredis client that the application owns. The module uses it as it is and never closes it.
   * It must not be in subscriber mode.
   */
  client?: Redis;
  /**
   * Whether this registration may share its connection with the application's other `MesaModule` registrations
   * (named ones, see `name`) whose `url` is the same string: they then use one ioredis connection, closed when
   * the last of them shuts down. Default `true`; `false`: this registration opens its own connection.
   */
  sharedConnection?: boolean;
  /** Mesa namespace; must match the Mesa servers' `namespace`. Redis names become `ws_<namespace>` etc. */
  namespace?: string;
  /** Message sync: store messages for offline recipients, as Mesa servers with `sync.enabled` expect. */
  sync?: MesaSyncOptions;
  /**
   * Most messages stored for one offline user (sync). Every append first removes that user's expired messages
   * (reported in `expired`); when a dispatch would still exceed the cap, that user's oldest stored messages are
   * dropped, and the dispatch's result says so (`dropped`). Default 1000; `0` or `Infinity`: no cap, as Mesa (every
   * append then costs Redis the size of the whole backlog).
   */
  maxStoredPerUser?: number;
  /**
   * Most bytes of JSON stored for one offline user (sync), enforced like `maxStoredPerUser`. A message larger
   * than the cap is not stored (reported in `dropped`). Default 1 MiB (1048576); `0` or `Infinity`: no cap.
   * Whatever the caps, a dispatch whose stores would rewrite more than about 3 MiB of backlogs runs in several
   * short script calls, so that Redis is never held long (see the README's Sync section).
   */
  maxStoredBytesPerUser?: number;
  /**
   * Most batches written to Redis and not answered yet. Beyond it, dispatches wait unsent (see
   * `maxQueuedDispatches`), so a frozen Redis cannot make the process buffer without end. Default 64.
   */
  maxUnansweredBatches?: number;
  /** Most bytes written to Redis and not answered yet, as `maxUnansweredBatches`. Default 32 MiB. */
  maxUnansweredBytes?: number;
  /**
   * Most dispatches waiting unsent (while Redis is unreachable, or behind `maxUnansweredBatches`); more fail at
   * once as not sent. Default 100000.
   */
  maxQueuedDispatches?: number;
  /** Most bytes of dispatches waiting unsent, as `maxQueuedDispatches`. Default 64 MiB. */
  maxQueuedBytes?: number;
  /** Bound on reaching Redis at bootstrap, in milliseconds. Default 10000. */
  connectTimeout?: number;
  /**
   * Bound, in milliseconds, on how long a dispatch waits unsent (Redis unreachable, or not answering what was
   * sent before it: then it fails as not sent, and is never sent later), and, separately, on how long a sent
   * dispatch awaits Redis's answer (then it fails as "may have been published"). Default 10000.
   */
  dispatchTimeout?: number;
  /**
   * What a dispatch does while Redis is unreachable: `'queue'` (default) holds it in memory and sends it
   * when Redis is back, or rejects it (and never sends it) once `dispatchTimeout` has passed; `'fail'`
   * rejects it at once.
   */
  whenDisconnected?: 'queue' | 'fail';
  /**
   * Largest message, in bytes of JSON, that `dispatch()` accepts. Default 1 MiB (1048576): below what
   * Redis and Mesa clients accept, so a too-large message fails here, clearly, before being published.
   */
  maxPayloadBytes?: number;
  /**
   * What `@Dispatch` does when Redis fails its dispatch (MesaDispatchError): `'throw'` (default) makes the
   * decorated call fail with the error; `'log'` logs it through Nest's Logger and returns the method's result.
   * An invalid message (MesaValidationError) always fails the call.
   */
  dispatchErrors?: DispatchErrorMode;
  /**
   * Idempotency keys (`new Message(op, data, type, { idempotencyKey })`, `@Dispatch(type, { idempotencyKey })`):
   * how long a key is remembered. Within that window a second dispatch with the same key in the same registration
   * (same namespace and registration name) publishes and stores nothing and resolves with `duplicate: true`.
   */
  idempotency?: MesaIdempotencyOptions;
  /**
   * Built-in retries (default: none, each dispatch is tried once). A dispatch that failed "not sent" is tried again;
   * one that failed "may have been published" only when it has an idempotency key (so that it cannot be delivered
   * twice). The caller sees one settlement: the result (possibly `duplicate`) or the last failure.
   */
  retry?: MesaRetryOptions;
  /**
   * OpenTelemetry spans and metrics for every dispatch, batch and portal frame (see the README's Telemetry), through
   * `@opentelemetry/api`: nothing is recorded until the application registers an OpenTelemetry SDK. `false` turns
   * them off (and the health indicator's queue fill stays). Default `true`.
   */
  telemetry?: boolean;
  /** Mesa's Portal: client frames reach `@OnMesaMessage` handlers. Off unless `{ enabled: true }`. */
  portal?: MesaPortalOptions;
}

/** Options of idempotency keys (`MesaModuleOptions.idempotency`). */
export interface MesaIdempotencyOptions {
  /**
   * Milliseconds a dispatch's key is remembered in Redis (a key per dispatch, expiring by itself: memory is bounded
   * by the keys of this window). Default 300000 (5 minutes).
   */
  window?: number;
}

/** Options of built-in retries (`MesaModuleOptions.retry`). */
export interface MesaRetryOptions {
  /**
   * How many times a dispatch is tried in all, the first try included: `1` is no retry, `3` is the first try and
   * at most two more. 1 to 100.
   */
  attempts: number;
  /** Milliseconds between a failed try and the next. Default 100. */
  delay?: number;
}

/** Options of message sync (`MesaModuleOptions.sync`). */
export interface MesaSyncOptions {
  /** Store messages for offline recipients; the Mesa servers need `sync.enabled` too. */
  enabled: boolean;
  /**
   * Milliseconds a stored message stays deliverable; a message's own `ttl` option overrides it. Expired messages
   * are removed when the user's backlog is appended to, and by the sweep; a real Mesa server never redelivers a
   * message more than `sweepInterval` (plus one sweep pass) after it expired, or, when the instance sweeping dies,
   * 1.5 × `min(2 s, sweepInterval)` and one more pass later. Default: none (kept until delivered or pushed out by
   * the caps).
   */
  ttl?: number;
  /**
   * Milliseconds between two sweeps of expired stored messages (one sweeper across the application's replicas, the
   * holder of a lock living `min(2 s, sweepInterval)`; bounded work per step). Default 10000 when `ttl` is set;
   * without `ttl`, set it to give messages their own `ttl`.
   */
  sweepInterval?: number;
}

/** Extra options of `MesaModule.forRoot()` / `forRootAsync()` that shape the module itself. */
export interface MesaModuleExtras {
  /** Register the module globally so every class using `@Dispatch` sees the service. Default `true`. */
  isGlobal?: boolean;
  /**
   * Name of this registration, for an application that talks to several Mesa namespaces or Redis servers:
   * its services are then injected with `@InjectDispatcher(name)`, `@InjectMesaPresence(name)`,
   * `@InjectMesaBacklog(name)` and chosen by `@Dispatch(type, { dispatcher: name })`. Omitted (or `'default'`):
   * the default registration, injected by type. 1 to 100 letters, digits, `-`, `_` or `.`; for
   * `forRootAsync`, beside `useFactory` (not in what it returns).
   */
  name?: string;
}
