import type { Settlement } from '../interfaces/settlement.interface.js';
import { storedCopiesTtl, type ResolvedMesaOptions } from '../options/resolved-mesa-options.js';
import type { PreparedBroadcastExcept } from '../validation/broadcast-input.validator.js';
import type { PreparedDispatch } from '../validation/dispatch-input.validator.js';

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
 * The entry a prepared dispatch becomes: with sync on, a storable message to named users is a `sync` entry (its
 * stored copies' ttl decided here); anything else a `publish` of its envelope. Built as one object: thousands of
 * dispatches may be in flight, so no intermediate fields object is made on the way.
 * @throws MesaValidationError for a message `ttl` where no sweep runs.
 */
export function dispatchEntry(prepared: PreparedDispatch, options: ResolvedMesaOptions, promise: Settlement): BatchEntry {
  const { messageJson, recipients } = prepared;
  const key = keyNameOf(options, prepared.idempotencyKey);
  const expiresAt = Date.now() + options.dispatchTimeout;
  if (isSync(prepared, options)) {
    const ttl = storedCopiesTtl(options, prepared.ttl);
    return new SyncObject(messageJson, recipients, prepared.recipientsJson, ttl, key, promise, expiresAt);
  }
  return new PublishObject(mesaEnvelope(messageJson, prepared.recipientsJson), recipients, key, promise, expiresAt);
}

/** The entry of a checked broadcast to the online authenticated users but `excluding` (see `DispatcherService.broadcast`). */
export function broadcastExceptEntry(
  { prepared, excluding }: PreparedBroadcastExcept,
  options: ResolvedMesaOptions,
  promise: Settlement,
): BatchEntry {
  const key = keyNameOf(options, prepared.idempotencyKey);
  return new BroadcastExceptObject(prepared.messageJson, excluding, key, promise, Date.now() + options.dispatchTimeout);
}

/** The Redis key of a dispatch's idempotency key (see {@link idempotencyKeyName}); undefined for a dispatch without one. */
function keyNameOf(options: ResolvedMesaOptions, idempotencyKey: string | undefined): string | undefined {
  return idempotencyKey === undefined ? undefined : idempotencyKeyName(options, idempotencyKey);
}

function isSync(prepared: PreparedDispatch, options: ResolvedMesaOptions): boolean {
  return options.syncEnabled && prepared.storable && !prepared.broadcast;
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
  if (fields.kind === 'publish') return new PublishObject(fields.envelope, fields.recipients, key, promise, expiresAt);
  if (fields.kind === 'sync') {
    const { messageJson, recipients, recipientsJson, ttl } = fields;
    return new SyncObject(messageJson, recipients, recipientsJson, ttl, key, promise, expiresAt);
  }
  return new BroadcastExceptObject(fields.messageJson, fields.excluding, key, promise, expiresAt);
}

/** A key travels as three more arguments: `i <key> <window>`. */
function keyArgs(key: string | undefined): number {
  return key === undefined ? 0 : 3;
}

function listSize(messageJson: string, ids: readonly string[], key: string | undefined): number {
  let size = key === undefined ? messageJson.length : messageJson.length + key.length;
  for (let k = 0; k < ids.length; k++) size += ids[k].length;
  return size;
}

// Entries are built by constructors, never as object literals: an entry lives while its batch is in flight, so V8
// saw nearly every literal-built one survive a scavenge and could decide to allocate them all in old space
// (allocation-site pretenuring). Entries dead in old space then kept what they point to alive through every scavenge
// until the next full GC, and that process spent about twice the client CPU per dispatch for good (2 to 5 processes of
// 16 without telemetry, 13 of 16 with an OpenTelemetry SDK). test/unit/publishing/in-flight-allocation checks it.
// Each constructor also works out what the queue needs of its entry: its size and its argument count.
class PublishObject implements PublishEntry {
  readonly kind = 'publish';
  readonly size: number;
  readonly args: number;
  constructor(
    readonly envelope: string,
    readonly recipients: readonly string[],
    readonly key: string | undefined,
    readonly promise: Settlement,
    readonly expiresAt: number,
  ) {
    this.size = key === undefined ? envelope.length : envelope.length + key.length;
    this.args = 2 + keyArgs(key);
  }
}

class SyncObject implements SyncEntry {
  readonly kind = 'sync';
  readonly size: number;
  readonly args: number;
  constructor(
    readonly messageJson: string,
    readonly recipients: readonly string[],
    readonly recipientsJson: string,
    readonly ttl: number,
    readonly key: string | undefined,
    readonly promise: Settlement,
    readonly expiresAt: number,
  ) {
    this.size = listSize(messageJson, recipients, key);
    this.args = 4 + recipients.length + keyArgs(key);
  }
}

class BroadcastExceptObject implements BroadcastExceptEntry {
  readonly kind = 'broadcast-except';
  readonly size: number;
  readonly args: number;
  constructor(
    readonly messageJson: string,
    readonly excluding: readonly string[],
    readonly key: string | undefined,
    readonly promise: Settlement,
    readonly expiresAt: number,
  ) {
    this.size = listSize(messageJson, excluding, key);
    this.args = 4 + excluding.length + keyArgs(key);
  }
}

/** The recipients' part of the last envelope built, `,"recipients":[…]}`, and the list JSON it was built from. */
let lastRecipientsJson = '';
let lastTail = '';

/**
 * The envelope Mesa servers read from the channel: `{"message":…,"recipients":[…]}`, from the message's JSON
 * and the recipients' JSON. Returned flat (one string, not a tree of the parts), so that while it waits to be
 * sent it holds only its own characters and the parts can be collected at once. Dispatches in a row mostly go to
 * the same list (equal JSON, often the same string): its part is kept from the envelope before, so that each
 * envelope is joined from three parts, not five.
 */
export function mesaEnvelope(messageJson: string, recipientsJson: string): string {
  if (recipientsJson !== lastRecipientsJson) {
    lastTail = `,"recipients":${recipientsJson}}`;
    lastTail.charCodeAt(0); // flat, so that every envelope copies it in one piece
    lastRecipientsJson = recipientsJson;
  }
  const envelope = '{"message":' + messageJson + lastTail;
  envelope.charCodeAt(0); // flattens the concatenation in place (V8)
  return envelope;
}
