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
  heartbeatTtl: 3_000,
  leaveGrace: 500,
  drainTimeout: 10_000,
  maxFrameBytes: 1_048_576,
} as const;

/** Smallest `heartbeatTtl` accepted, in ms: below it a busy event loop would get a live portal reaped. */
export const MIN_PORTAL_HEARTBEAT_TTL = 300;

/** Longest portal id accepted (it travels in every event Mesa publishes). */
export const MAX_PORTAL_ID_LENGTH = 200;
