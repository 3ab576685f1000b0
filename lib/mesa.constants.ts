/**
 * Injection token of the Redis connection the module dispatches through (a {@link MesaRedisConnection}).
 * Use {@link getMesaRedisConnectionToken} to override it in tests.
 */
export const MESA_REDIS_CONNECTION = Symbol.for('nestjs-mesa:redis-connection');

/** Metadata key under which `@Dispatch` records its type and options on the decorated method. */
export const MESA_DISPATCH_METADATA = 'nestjs-mesa:dispatch';

/** Property key under which `@Dispatch` asks Nest to inject the `DispatcherService` into a class. */
export const MESA_DISPATCHER_PROPERTY = Symbol.for('nestjs-mesa:dispatcher');

/** Brand that tells a nestjs-mesa `Message` from a `DispatchEvent` without relying on `constructor.name`. */
export const MESA_MESSAGE_KIND = Symbol.for('nestjs-mesa:message-kind');

/** Default bound, in milliseconds, on reaching Redis at bootstrap (`connectTimeout`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Default bound, in milliseconds, on a dispatch settling (`dispatchTimeout`). */
export const DEFAULT_DISPATCH_TIMEOUT_MS = 10_000;

/** Default largest message, in bytes of JSON (`maxPayloadBytes`): 1 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;

/** Mesa's opcode for a dispatch (an event the client application sees). */
export const OPCODE_DISPATCH = 0;

/** Mesa's opcode for an internal event that the server acts upon (e.g. `DISCONNECT_CLIENT`). */
export const OPCODE_INTERNAL_EVENT = 5;

/** The recipient id that Mesa servers read as "every connected socket". */
export const BROADCAST = '*';

/** Redis names used by Mesa servers; suffixed with `_<namespace>` when a namespace is set. */
export const MESA_REDIS_NAMES = {
  channel: 'ws',
  connectedClients: 'connected_clients',
  undeliveredMessages: 'undelivered_messages',
  connectedClientsCount: 'connected_clients_count',
} as const;
