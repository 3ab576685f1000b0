/**
 * The names nestjs-mesa's telemetry uses: its instrumentation scope, its span names, its instruments and its
 * attributes, after the OpenTelemetry messaging semantic conventions where they say how (`messaging.*`,
 * `error.type`), under `mesa.*` where they do not.
 */

/** Name of the tracer and meter nestjs-mesa emits with (the instrumentation scope). */
export const MESA_TELEMETRY_SCOPE = 'nestjs-mesa';

/** The package's version, the instrumentation scope's version (a test checks it against package.json). */
export const MESA_PACKAGE_VERSION = '0.1.0';

/** `messaging.system` of every span and metric: Mesa. */
export const MESA_MESSAGING_SYSTEM = 'mesa';

/** Attribute keys of nestjs-mesa's spans and metrics: only low-cardinality values, never user ids, data or free text. */
export const MesaTelemetryAttributes = {
  /** `mesa`. */
  SYSTEM: 'messaging.system',
  /** The Mesa channel (`ws`, `ws_<namespace>`) or, for the portal, its client-event channel (`portal[_<namespace>]`). */
  DESTINATION: 'messaging.destination.name',
  /** `create`, `send` or `process`. */
  OPERATION_TYPE: 'messaging.operation.type',
  /** `create`, `send` or `process`. */
  OPERATION_NAME: 'messaging.operation.name',
  /** Dispatches in one batch (on `send` spans). */
  BATCH_MESSAGE_COUNT: 'messaging.batch.message_count',
  /** Why it failed: `not_sent`, `may_have_been_published`, a Redis error code (`OOM`, `READONLY`…) or an error class name. */
  ERROR_TYPE: 'error.type',
  /** The registration's namespace, when it has one. */
  NAMESPACE: 'mesa.namespace',
  /** The registration's name (`default` for the unnamed one). */
  REGISTRATION: 'mesa.registration',
  /** A portal frame's kind: `connection`, `authentication`, `message` or `disconnection`. */
  PORTAL_EVENT: 'mesa.portal.event',
  /** A client message's type (`t`), only when the application declared a handler for that type. */
  PORTAL_MESSAGE_TYPE: 'mesa.portal.message_type',
  /** Why stored messages were dropped: `cap` (maxStoredPerUser, maxStoredBytesPerUser) or `expiry`. */
  DROP_REASON: 'mesa.drop.reason',
} as const;

/** Instrument names of nestjs-mesa's metrics. */
export const MesaMetricNames = {
  /** Counter, per dispatch once it settled (`error.type` when it failed). */
  SENT_MESSAGES: 'messaging.client.sent.messages',
  /** Histogram, seconds, per batch round trip to Redis. */
  OPERATION_DURATION: 'messaging.client.operation.duration',
  /** Histogram, seconds, per portal frame handled. */
  PROCESS_DURATION: 'messaging.process.duration',
  /** Counter, per portal frame handled. */
  CONSUMED_MESSAGES: 'messaging.client.consumed.messages',
  /** Observable gauge: dispatches waiting unsent. */
  QUEUED_DISPATCHES: 'mesa.dispatch.queued',
  /** Observable gauge: dispatches written to Redis and not answered yet. */
  UNANSWERED_DISPATCHES: 'mesa.dispatch.unanswered',
  /** Counter: stored messages dropped by the backlog caps and by expiry. */
  DROPPED_STORED: 'mesa.stored_messages.dropped',
} as const;

/** `error.type` of a dispatch none of whose bytes can have reached Redis. */
export const ERROR_NOT_SENT = 'not_sent';

/** `error.type` of a dispatch written to Redis whose outcome is unknown. */
export const ERROR_MAY_HAVE_BEEN_PUBLISHED = 'may_have_been_published';

/** `error.type` of a failure none of the others describes (the conventions' fallback). */
export const ERROR_OTHER = '_OTHER';
