import { randomUUID } from 'node:crypto';
import type { DispatchErrorMode, MesaModuleOptions } from '../interfaces/mesa-module-options.interface.js';
import type { MesaPortalOptions } from '../interfaces/mesa-portal-options.interface.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_IDEMPOTENCY_WINDOW_MS,
  DEFAULT_RETRY_DELAY_MS,
  DEFAULT_DISPATCH_TIMEOUT_MS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_QUEUED_DISPATCHES,
  DEFAULT_MAX_STORED_BYTES_PER_USER,
  DEFAULT_MAX_STORED_PER_USER,
  DEFAULT_MAX_UNANSWERED_BATCHES,
  DEFAULT_MAX_UNANSWERED_BYTES,
  DEFAULT_SWEEP_INTERVAL_MS,
  MESA_PORTAL_DEFAULTS,
} from '../mesa.constants.js';
import { mesaRedisNames, type MesaRedisNames } from '../redis/mesa-redis-names.js';
import { validateMesaOptions } from '../validation/mesa-options.validator.js';
import { DEFAULT_MESA_NAME } from '../validation/mesa-name.validator.js';
import { MesaValidationError } from '../errors/mesa.errors.js';

/**
 * `MesaModule` options after validation, with every default applied: what the module's parts read (inject
 * `MESA_RESOLVED_OPTIONS`, or override it in tests with `getMesaResolvedOptionsToken()`).
 */
export interface ResolvedMesaOptions {
  /** The options as given (connection settings are read from here). */
  readonly given: MesaModuleOptions;
  /** The registration's name (`MesaModule.forRoot({ name })`); `undefined` for the default registration. */
  readonly name?: string;
  readonly namespace: string | undefined;
  /** Mesa's Redis names for the namespace. */
  readonly names: MesaRedisNames;
  readonly syncEnabled: boolean;
  /** Time to live of stored messages without their own, in ms; `0`: none. */
  readonly syncTtl: number;
  /** Milliseconds between sweeps of expired stored messages; `0`: no sweep (sync off, or neither ttl nor interval set). */
  readonly sweepInterval: number;
  readonly connectTimeout: number;
  readonly dispatchTimeout: number;
  readonly whenDisconnected: 'queue' | 'fail';
  readonly maxPayloadBytes: number;
  /** Caps on one user's stored messages; `0`: none. */
  readonly maxStoredPerUser: number;
  readonly maxStoredBytesPerUser: number;
  readonly maxUnansweredBatches: number;
  readonly maxUnansweredBytes: number;
  readonly maxQueuedDispatches: number;
  readonly maxQueuedBytes: number;
  readonly dispatchErrors: DispatchErrorMode;
  /** The registration's scope of idempotency keys: its name (`'default'` for the default registration). */
  readonly idempotencyScope: string;
  /** Milliseconds an idempotency key is remembered. */
  readonly idempotencyWindow: number;
  /** Tries of a dispatch in all (`1`: no retry), and the pause between two, in ms. */
  readonly retryAttempts: number;
  readonly retryDelay: number;
  /** Whether spans and metrics are emitted through `@opentelemetry/api` (`telemetry`, default true). */
  readonly telemetry: boolean;
  /** The portal's options, every default applied and its id chosen (`enabled` false: no portal). */
  readonly portal: ResolvedPortalOptions;
}

/** `MesaPortalOptions` with every default applied, and the portal's id (the configured one, or a random UUID). */
export type ResolvedPortalOptions = Required<Omit<MesaPortalOptions, 'id'>> & { readonly id: string };

/**
 * Validates `MesaModule` options and applies the defaults, once.
 * @param name the registration's name, for a named registration (kept in the result).
 * @throws MesaConfigurationError naming the option and the fix (values are never echoed: a URL may hold a password).
 */
export function resolveMesaOptions(options: unknown, name?: string): ResolvedMesaOptions {
  const given = validateMesaOptions(options);
  return {
    given,
    ...(name === undefined ? {} : { name }),
    namespace: given.namespace,
    names: mesaRedisNames(given.namespace),
    syncEnabled: given.sync?.enabled === true,
    syncTtl: given.sync?.enabled === true ? (given.sync.ttl ?? 0) : 0,
    sweepInterval: given.sync?.enabled === true ? (given.sync.sweepInterval ?? (given.sync.ttl ? DEFAULT_SWEEP_INTERVAL_MS : 0)) : 0,
    connectTimeout: given.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
    dispatchTimeout: given.dispatchTimeout ?? DEFAULT_DISPATCH_TIMEOUT_MS,
    whenDisconnected: given.whenDisconnected ?? 'queue',
    maxPayloadBytes: given.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    maxStoredPerUser: capOf(given.maxStoredPerUser, DEFAULT_MAX_STORED_PER_USER),
    maxStoredBytesPerUser: capOf(given.maxStoredBytesPerUser, DEFAULT_MAX_STORED_BYTES_PER_USER),
    maxUnansweredBatches: given.maxUnansweredBatches ?? DEFAULT_MAX_UNANSWERED_BATCHES,
    maxUnansweredBytes: given.maxUnansweredBytes ?? DEFAULT_MAX_UNANSWERED_BYTES,
    maxQueuedDispatches: given.maxQueuedDispatches ?? DEFAULT_MAX_QUEUED_DISPATCHES,
    maxQueuedBytes: given.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES,
    dispatchErrors: given.dispatchErrors ?? 'throw',
    idempotencyScope: name ?? DEFAULT_MESA_NAME,
    idempotencyWindow: given.idempotency?.window ?? DEFAULT_IDEMPOTENCY_WINDOW_MS,
    retryAttempts: given.retry?.attempts ?? 1,
    retryDelay: given.retry?.delay ?? DEFAULT_RETRY_DELAY_MS,
    telemetry: given.telemetry ?? true,
    portal: resolvePortalOptions(given.portal),
  };
}

function resolvePortalOptions(portal: MesaPortalOptions | undefined): ResolvedPortalOptions {
  const given = Object.fromEntries(Object.entries(portal ?? {}).filter(([, value]) => value !== undefined));
  return {
    ...MESA_PORTAL_DEFAULTS,
    reportAllEvents: false,
    ...given,
    enabled: portal?.enabled === true,
    id: portal?.id ?? randomUUID(),
  };
}

/**
 * How long the stored copies of a dispatch stay deliverable: the message's own `ttl`, else the module's `sync.ttl`
 * (`0`: no expiry). Used by `DispatcherService` and its testing double alike.
 * @throws MesaValidationError for a message `ttl` where no sweep runs (neither `sync.ttl` nor `sync.sweepInterval`).
 */
export function storedCopiesTtl(options: ResolvedMesaOptions, messageTtl: number | undefined): number {
  if (messageTtl === undefined) return options.syncTtl;
  if (options.sweepInterval === 0) {
    throw new MesaValidationError(
      'Message ttl needs the sweep that removes expired stored messages: set sync.ttl or sync.sweepInterval in MesaModule options.',
    );
  }
  return messageTtl;
}

/** A cap as the script reads it: `0` for none (given as `0` or `Infinity`). */
function capOf(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  return value === Infinity ? 0 : value;
}
