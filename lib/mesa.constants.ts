/** Injection token of the options given to `MesaModule.forRoot()`/`forRootAsync()`, as given. */
export const MESA_MODULE_OPTIONS = Symbol.for('nestjs-mesa:module-options');

/**
 * Injection token of the options after validation and defaults (a {@link ResolvedMesaOptions}), which every
 * part of the module reads. Use `getMesaResolvedOptionsToken()` to override it in tests.
 */
export const MESA_RESOLVED_OPTIONS = Symbol.for('nestjs-mesa:resolved-options');

/**
 * Injection token of the Redis connection the module dispatches through (a {@link MesaRedisConnection}).
 * Use {@link getMesaRedisConnectionToken} to override it in tests.
 */
export const MESA_REDIS_CONNECTION = Symbol.for('nestjs-mesa:redis-connection');

/** Property key under which `@Dispatch` asks Nest to inject the `DispatcherService` into a class. */
export const MESA_DISPATCHER_PROPERTY = Symbol.for('nestjs-mesa:dispatcher');

/**
 * Key of the method through which `@Dispatch` hands a dispatcher a message together with what settles the
 * decorated method's promise (`DispatcherService[MESA_SETTLED_DISPATCH]`), so a decorated call makes no promise of
 * its own for the dispatch. A dispatcher without it (`RecordingDispatcher`, a stand-in) is called through `dispatch()`.
 */
export const MESA_SETTLED_DISPATCH = Symbol.for('nestjs-mesa:settled-dispatch');

/** Brand that tells a nestjs-mesa `Message` from a `DispatchEvent` without relying on `constructor.name`. */
export const MESA_MESSAGE_KIND = Symbol.for('nestjs-mesa:message-kind');

/** Default bound, in milliseconds, on reaching Redis at bootstrap (`connectTimeout`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Default bound, in milliseconds, on a dispatch waiting unsent, and on a sent dispatch awaiting its answer (`dispatchTimeout`). */
export const DEFAULT_DISPATCH_TIMEOUT_MS = 10_000;

/** Default largest message, in bytes of JSON (`maxPayloadBytes`): 1 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;

/** Default cap on one offline user's stored messages, in messages (`maxStoredPerUser`). */
export const DEFAULT_MAX_STORED_PER_USER = 1_000;

/** Default cap on one offline user's stored messages, in bytes of JSON (`maxStoredBytesPerUser`): 1 MiB. */
export const DEFAULT_MAX_STORED_BYTES_PER_USER = 1_048_576;

/** Default bound on batches written to Redis and not answered yet (`maxUnansweredBatches`). */
export const DEFAULT_MAX_UNANSWERED_BATCHES = 64;

/** Default bound on what is written to Redis and not answered yet, in bytes (`maxUnansweredBytes`): 32 MiB. */
export const DEFAULT_MAX_UNANSWERED_BYTES = 33_554_432;

/** Default bound on dispatches waiting unsent (`maxQueuedDispatches`). */
export const DEFAULT_MAX_QUEUED_DISPATCHES = 100_000;

/** Default bound on what waits unsent, in bytes (`maxQueuedBytes`): 64 MiB. */
export const DEFAULT_MAX_QUEUED_BYTES = 67_108_864;

/** Most dispatches one coalesced batch carries; more in the same tick start another batch. */
export const MAX_BATCH_DISPATCHES = 256;

/** Most characters of arguments one batch carries (a larger dispatch travels alone): 4 MiB. */
export const MAX_BATCH_SIZE = 4_194_304;

/** Most script arguments one batch carries (a dispatch to more recipients travels alone). */
export const MAX_BATCH_ARGS = 65_536;

/** Default time an idempotency key is remembered, in ms (`idempotency.window`): 5 minutes. */
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 300_000;

/** Longest idempotency key accepted, in characters (it becomes part of a Redis key name). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/** Default pause between two tries of a dispatch, in ms (`retry.delay`). */
export const DEFAULT_RETRY_DELAY_MS = 100;

/** Most tries of one dispatch (`retry.attempts`). */
export const MAX_RETRY_ATTEMPTS = 100;

/** Default interval between sweeps of expired stored messages, when `sync.ttl` is set (`sync.sweepInterval`). */
export const DEFAULT_SWEEP_INTERVAL_MS = 10_000;

/** How many users the first sweep step of a pass asks HSCAN for (COUNT); later steps adapt it to the bytes read. */
export const SWEEP_STEP_USERS = 4;

/**
 * Work one script call does on stored backlogs, in bytes of stored text read and rewritten (a text an older
 * version or Mesa wrote counts several times its size, for its one-time check): a dispatch that would store more
 * finishes in further calls, and each sweep step stops there. About 20 ms of Redis time (2-core AMD EPYC, Redis 7).
 */
export const BACKLOG_BYTES_PER_CALL = 3_145_728;

/**
 * Longest time to live of the sweep's lock, in ms (shorter when `sync.sweepInterval` is): renewed by each step and,
 * between passes, twice per time to live, so another instance takes over within 1.5 times it when the sweeper dies.
 */
export const SWEEP_LOCK_MS = 2_000;

/** Mesa's opcode for a dispatch (an event the client application sees). */
export const OPCODE_DISPATCH = 0;

/** Mesa's opcode for an internal event that the server acts upon (e.g. `DISCONNECT_CLIENT`). */
export const OPCODE_INTERNAL_EVENT = 5;

/** The recipient id that Mesa servers read as "every connected socket". */
export const BROADCAST = '*';

/** The recipient list of a broadcast, `['*']`, shared (frozen) wherever one is built. */
export const BROADCAST_RECIPIENTS: readonly string[] = Object.freeze([BROADCAST]);

/** Redis names used by Mesa servers; suffixed with `_<namespace>` when a namespace is set. */
export const MESA_REDIS_NAMES = {
  channel: 'ws',
  connectedClients: 'connected_clients',
  undeliveredMessages: 'undelivered_messages',
  /** Pub/sub channel on which Mesa servers with a portal publish client events. */
  portalEvents: 'portal',
  /** SET of live portal ids, and the pub/sub channel of `{"id","ready"}` announcements. */
  portalPool: 'available_portals_pool',
  /** ZSET (nestjs-mesa's own): portal id → heartbeat deadline in ms of Redis time. */
  portalHeartbeats: 'portal_heartbeats',
  /** STRING (nestjs-mesa's own): the token of the application instance that sweeps expired stored messages. */
  sweepLock: 'nestjs_mesa_sweep_lock',
  /** STRING (nestjs-mesa's own), suffixed `:<publisher id>`: set while a dispatch's stores are finished in further calls. */
  storesHeld: 'nestjs_mesa_stores_held',
  /** SET (nestjs-mesa's own), suffixed `:<registration>:<key>`: a dispatch's idempotency key, kept for the window (see the batch script). */
  idempotencyKeys: 'nestjs_mesa_idempotency',
  connectedClientsCount: 'connected_clients_count',
} as const;

/** Metadata key under which the `@OnMesa…` decorators list a method's portal registrations (on the function). */
export const MESA_PORTAL_HANDLER_METADATA = 'nestjs-mesa:portal-handler';

/** Metadata key (on the class, per method) of the argument a portal handler's pipes apply to. */
export const MESA_PORTAL_ARGS_METADATA = 'nestjs-mesa:portal-args';

/** Param type, in Nest's `type:index` argument keys, of the event's argument (the only one a handler gets). */
export const MESA_PORTAL_EVENT_ARGUMENT = 0;

/** `ExecutionContext.getType()` of a portal handler's guards, interceptors and filters. */
export const MESA_PORTAL_CONTEXT_TYPE = 'mesa';

/** Defaults of {@link MesaPortalOptions}. */
export const MESA_PORTAL_DEFAULTS = {
  concurrency: 32,
  maxQueued: 10_000,
  maxQueuedBytes: 16_777_216,
  maxClientShare: 0.1,
  handlerTimeout: 10_000,
  heartbeatTtl: 3_000,
  leaveGrace: 500,
  drainTimeout: 10_000,
  maxFrameBytes: 1_048_576,
} as const;

/** At shutdown, the longest wait, in ms, for the portal's heartbeat to stop and its departure to be announced. */
export const PORTAL_LEAVE_TIMEOUT_MS = 5_000;

/** At shutdown, the longest wait, in ms, for a step in progress (a sweep, a portal connection's QUIT) on a frozen Redis. */
export const SHUTDOWN_STEP_TIMEOUT_MS = 2_000;

/** Smallest `heartbeatTtl` accepted, in ms: below it a busy event loop would get a live portal reaped. */
export const MIN_PORTAL_HEARTBEAT_TTL = 300;

/** Longest portal id accepted (it travels in every event Mesa publishes). */
export const MAX_PORTAL_ID_LENGTH = 200;
