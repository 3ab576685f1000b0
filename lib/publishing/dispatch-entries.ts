import type { DispatchResult } from '../interfaces/dispatch-result.interface.js';
import { storedCopiesTtl, type ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import type { PreparedDispatch } from '../validation/dispatch-input.validator.js';

/** How an entry's outcome reaches its caller: a `DispatchPromise` is one. */
export interface Settlement {
  succeed(result: DispatchResult): void;
  /** `onUnconsumed` is called with `error` when nobody consumed the caller's promise (see `DispatchPromise.fail`). */
  fail(error: unknown, onUnconsumed: (error: unknown) => void): void;
}

/**
 * What every entry carries. Entries hold only what the batch and the result need (thousands may be in flight):
 * never the caller's message, nor text that is sent in another form.
 */
interface EntryBase {
  /** What settles when Redis has answered for the batch: the caller's promise, or its retries (see `RetriedDispatch`). */
  promise: Settlement;
  /** What the entry weighs in a batch: its arguments' characters. */
  size: number;
  /** How many script arguments it takes. */
  args: number;
  /** When it is rejected as not sent if it is still waiting (epoch ms). */
  expiresAt: number;
  /** The Redis key of its idempotency key (see {@link idempotencyKeyName}); undefined for a dispatch without one. */
  key: string | undefined;
}

/** Publish a ready envelope as it is (sync off, a broadcast, a `{ sync: false }` message, an event). */
export interface PublishEntry extends EntryBase {
  kind: 'publish';
  /** The envelope, a flat string (see {@link mesaEnvelope}). */
  envelope: string;
  /** Checked ids, shared (never mutated); results get copies. */
  recipients: readonly string[];
}

/** Sync: publish to the recipients online, store for the others (script op `s`). */
export interface SyncEntry extends EntryBase {
  kind: 'sync';
  messageJson: string;
  /** Checked ids, shared (never mutated); results get copies. */
  recipients: readonly string[];
  /** `JSON.stringify(recipients)`: tells lists apart within a batch. */
  recipientsJson: string;
  /** Milliseconds the stored copies stay deliverable; `0`: no expiry. */
  ttl: number;
}

/** Broadcast to the members of `connected_clients` but `excluding` (script op `x`; never stored). */
export interface BroadcastExceptEntry extends EntryBase {
  kind: 'broadcast-except';
  messageJson: string;
  excluding: readonly string[];
}

/** One dispatch waiting in, or travelling with, a batch: one kind per operation of the script. */
export type BatchEntry = PublishEntry | SyncEntry | BroadcastExceptEntry;

/** What builds an entry: everything but what {@link entryOf} computes; no `key` is a dispatch without one. */
export type EntryFields = BatchEntry extends infer E
  ? E extends BatchEntry
    ? Omit<E, 'size' | 'args' | 'expiresAt' | 'key'> & { key?: string }
    : never
  : never;

/**
 * What a prepared dispatch becomes: with sync on, a storable message to named users is a `sync` entry (its stored
 * copies' ttl decided here); anything else a `publish` of its envelope.
 * @throws MesaValidationError for a message `ttl` where no sweep runs.
 */
export function dispatchFields(prepared: PreparedDispatch, options: ResolvedMesaOptions, promise: Settlement): EntryFields {
  const { messageJson, recipients, recipientsJson } = prepared;
  const key = prepared.idempotencyKey === undefined ? undefined : idempotencyKeyName(options, prepared.idempotencyKey);
  if (options.syncEnabled && prepared.storable && !prepared.broadcast) {
    return { kind: 'sync', messageJson, recipients, recipientsJson, ttl: storedCopiesTtl(options, prepared.ttl), key, promise };
  }
  return { kind: 'publish', envelope: mesaEnvelope(messageJson, recipientsJson), recipients, key, promise };
}

/**
 * The Redis key that records a dispatch's idempotency key: `nestjs_mesa_idempotency[_ns]:<registration>:<key>`, so
 * that keys are scoped by namespace and registration name (the application's instances that share both share them).
 */
export function idempotencyKeyName(options: Pick<ResolvedMesaOptions, 'names' | 'idempotencyScope'>, key: string): string {
  return `${options.names.idempotencyKeys}:${options.idempotencyScope}:${key}`;
}

/**
 * Builds an entry with its size, argument count and expiry, so the queue can split batches and expire them. The
 * entry is a new object with every field in place (one shape per kind, nothing added later).
 */
export function entryOf(fields: EntryFields, dispatchTimeout: number): BatchEntry {
  const expiresAt = Date.now() + dispatchTimeout;
  const { key, promise } = fields;
  // a key travels as three more arguments: `i <key> <window>`
  const keySize = key === undefined ? 0 : key.length;
  const keyArgs = key === undefined ? 0 : 3;
  if (fields.kind === 'publish') {
    const { envelope, recipients } = fields;
    return { kind: 'publish', envelope, recipients, key, promise, size: envelope.length + keySize, args: 2 + keyArgs, expiresAt };
  }
  const ids = fields.kind === 'sync' ? fields.recipients : fields.excluding;
  let size = fields.messageJson.length + keySize;
  for (let k = 0; k < ids.length; k++) size += ids[k].length;
  const args = 4 + ids.length + keyArgs;
  if (fields.kind === 'sync') {
    const { messageJson, recipients, recipientsJson, ttl } = fields;
    return { kind: 'sync', messageJson, recipients, recipientsJson, ttl, key, promise, size, args, expiresAt };
  }
  const { messageJson, excluding } = fields;
  return { kind: 'broadcast-except', messageJson, excluding, key, promise, size, args, expiresAt };
}

/**
 * The envelope Mesa servers read from the channel: `{"message":…,"recipients":[…]}`, from the message's JSON
 * and the recipients' JSON. Returned flat (one string, not a tree of the parts), so that while it waits to be
 * sent it holds only its own characters and the parts can be collected at once.
 */
export function mesaEnvelope(messageJson: string, recipientsJson: string): string {
  const envelope = `{"message":${messageJson},"recipients":${recipientsJson}}`;
  envelope.charCodeAt(0); // flattens the concatenation in place (V8)
  return envelope;
}
