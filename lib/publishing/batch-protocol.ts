import type { BacklogCaps } from '../backlog/stored-backlog.js';
import type { DispatchResult } from '../interfaces/dispatch-result.interface.js';
import type { MesaRedisNames } from '../redis/mesa-redis-names.js';
import type { BatchEntry, PublishEntry, SyncEntry } from './dispatch-entries.js';

/** Why Redis did not take an entry, and whether anything of it can have reached the wire. */
export interface EntryFailure {
  reason: string;
  mayHaveBeenPublished: boolean;
  /** True when trying again would fail the same way (Redis refused this entry for what it holds): never retried. */
  final?: boolean;
}

/** What became of one entry: its result, or its failure. */
export type EntryOutcome = DispatchResult | EntryFailure;

/** How one script call of an `e` batch runs (see `dispatch-batch.script.ts`). */
export interface ScriptCall {
  /** Bytes of stored text the call may read and rewrite before it defers the other users' stores. */
  budget: number;
  /** Milliseconds the hold key set by a call that defers lives (refreshed by each continuation). */
  holdMs: number;
  /** For a continuation: the Redis time (ms) the first call answered, from which the messages' ttls count. */
  expiryBase?: number;
  /** Milliseconds an idempotency key is remembered (`idempotency.window`); needed when an entry has a key. */
  keyWindow?: number;
}

/** What a batch's script call answers when an earlier batch of the same publisher still has stores to finish. */
export const HELD = 'held';

/** What the queue is told of a batch the script did not run (`HELD`): it goes back, in front, to be sent again. */
export const NOT_RUN = Symbol('not run');

/** True for an {@link EntryFailure}. */
export function isFailure(outcome: EntryOutcome): outcome is EntryFailure {
  return (outcome as EntryFailure).reason !== undefined;
}

/**
 * The script arguments for a batch (see `dispatch-batch.script.ts`): layout `p` when every entry is a plain
 * publish without an idempotency key, else `e` with one operation per entry, a keyed one preceded by
 * `i <key> <window>`. A recipient list already sent in this batch is referred to by its number: lists are told
 * apart by identity, then by their JSON text (never by joining ids with a separator an id could contain). A sync
 * with the list and ttl of the sync before it (a room's dispatches) is `r <message JSON>`.
 */
export function encodeBatch(entries: readonly BatchEntry[], names: MesaRedisNames, caps: BacklogCaps, call?: ScriptCall): string[] {
  const args = [names.channel];
  if (entries.every((entry) => entry.kind === 'publish' && entry.key === undefined)) {
    args.push('p');
    for (const entry of entries) args.push((entry as PublishEntry).envelope);
    return args;
  }
  const base = call?.expiryBase;
  args.push(
    'e',
    String(caps.maxCount),
    String(caps.maxBytes),
    String(call?.budget ?? 0),
    base === undefined ? '' : 'c',
    String(call?.holdMs ?? 1),
  );
  const byIdentity = new Map<readonly string[], number>();
  const byText = new Map<string, number>();
  const window = String(call?.keyWindow);
  // the list number and ttl of the last sync operation: the next one with both the same is sent as `r <message>`
  let lastList = 0;
  let lastTtl = '';
  for (const entry of entries) {
    if (entry.key !== undefined) {
      if (call?.keyWindow === undefined) throw new Error("a dispatch with an idempotency key needs the call's keyWindow");
      args.push('i', entry.key, window);
    }
    if (entry.kind === 'publish') {
      args.push('p', entry.envelope);
    } else if (entry.kind === 'broadcast-except') {
      args.push('x', entry.messageJson, String(entry.excluding.length));
      pushAll(args, entry.excluding);
    } else {
      const ids = entry.recipients;
      const ttl = base === undefined || entry.ttl === 0 ? String(entry.ttl) : `@${base + entry.ttl}`;
      let known = byIdentity.get(ids);
      if (known === undefined) {
        const text = entry.recipientsJson;
        known = byText.get(text);
        if (known === undefined) {
          known = byText.size + 1;
          byText.set(text, known);
          byIdentity.set(ids, known);
          args.push('s', entry.messageJson, ttl, String(ids.length));
          pushAll(args, ids);
          lastList = known;
          lastTtl = ttl;
          continue;
        }
        byIdentity.set(ids, known);
      }
      if (known === lastList && ttl === lastTtl) {
        args.push('r', entry.messageJson);
        continue;
      }
      args.push('s', entry.messageJson, ttl, `=${known}`);
      lastList = known;
      lastTtl = ttl;
    }
  }
  return args;
}

/** Turns the script's replies into one outcome per entry, in order. */
export function decodeReplies(entries: readonly BatchEntry[], replies: number | readonly unknown[]): EntryOutcome[] {
  const outcomes = new Array<EntryOutcome>(entries.length);
  if (typeof replies === 'number') {
    for (let index = 0; index < entries.length; index++) outcomes[index] = publishedResult(entries[index] as PublishEntry, replies);
    return outcomes;
  }
  // a room's dispatches in one batch usually find the same members online: split the list once, copy it for the others
  let last: { ids: readonly string[]; flags: string; result: DispatchResult } | undefined;
  let lastFlags = '';
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index];
    const reply = replies[index] as Reply;
    if (typeof reply === 'number') outcomes[index] = publishedResult(entry as PublishEntry, reply);
    else if (reply[0] === 0) outcomes[index] = { reason: reply[1], mayHaveBeenPublished: false, final: true };
    else if (reply[0] === 3) outcomes[index] = duplicateResult(entry);
    else if (reply[0] === 2) {
      const online = reply.slice(2) as string[];
      outcomes[index] = { recipients: online, publishedTo: [...online], storedFor: [], receivers: reply[1] };
    } else {
      const { recipients: ids } = entry as SyncEntry;
      const [, receivers, given, dropped, expired, duplicate] = reply;
      const flags = (lastFlags = syncFlags(given, lastFlags));
      const earlier = last !== undefined && last.ids === ids && last.flags === flags ? last.result : undefined;
      const result: DispatchResult = earlier
        ? {
            recipients: earlier.recipients.slice(),
            publishedTo: earlier.publishedTo.slice(),
            storedFor: earlier.storedFor.slice(),
            receivers,
          }
        : splitByFlags(ids, flags, receivers);
      if (!earlier) last = { ids, flags, result };
      if (dropped !== undefined && dropped.length > 0) result.dropped = countsById(dropped);
      if (expired !== undefined && expired.length > 0) result.expired = countsById(expired);
      if (duplicate === 1) result.duplicate = true;
      outcomes[index] = result;
    }
  }
  return outcomes;
}

/**
 * The result of a dispatch whose idempotency key was already recorded (`{3}`): nothing published or stored by it.
 * `recipients` are the ids it asked for (none for a broadcast-except).
 */
export function duplicateResult(entry: BatchEntry): DispatchResult {
  const recipients = entry.kind === 'broadcast-except' ? [] : entry.recipients.slice();
  return { recipients, publishedTo: [], storedFor: [], receivers: 0, duplicate: true };
}

type Pairs = Array<string | number>;
/** A sync reply as the script sends it: compact (flags `''`: those of the sync reply before; no empty lists). */
export type SyncReply = [1, number, string, Pairs?, Pairs?, 1?];
type Reply = number | [0, string] | SyncReply | [2, number, ...string[]] | [3];

/**
 * A sync reply's flags: those it carries, or (`''`) those of the sync reply before it in the same call, `previous`
 * (a recipient list is never empty, so real flags never are).
 */
export function syncFlags(given: string, previous: string): string {
  return given === '' ? previous : given;
}

const ONLINE = '1'.charCodeAt(0);
const STORED = '0'.charCodeAt(0);

/**
 * A plain publish's result, however it was sent (script or transaction): one copy of its list the caller owns (the
 * entry's is shared), named twice as it always has been.
 */
export function publishedResult(entry: PublishEntry, receivers: number): DispatchResult {
  const recipients = entry.recipients.slice();
  return { recipients, publishedTo: recipients, storedFor: [], receivers };
}

/**
 * A sync dispatch's result: its recipients split by the script's flags (`1` published to, `0` stored for; `4`,
 * handled by an earlier attempt with the same idempotency key: neither).
 */
export function splitByFlags(ids: readonly string[], flags: string, receivers: number): DispatchResult {
  let online = 0;
  let stored = 0;
  for (let k = 0; k < ids.length; k++) {
    const flag = flags.charCodeAt(k);
    if (flag === ONLINE) online++;
    else if (flag === STORED) stored++;
  }
  const publishedTo = new Array<string>(online);
  const storedFor = new Array<string>(stored);
  for (let k = 0, p = 0, s = 0; k < ids.length; k++) {
    const flag = flags.charCodeAt(k);
    if (flag === ONLINE) publishedTo[p++] = ids[k];
    else if (flag === STORED) storedFor[s++] = ids[k];
  }
  return { recipients: ids.slice(), publishedTo, storedFor, receivers };
}

/** `[id, count]…` pairs as a map without prototype keys (an id may be `__proto__`). */
export function countsById(pairs: ReadonlyArray<string | number>): Record<string, number> {
  const counts = Object.create(null) as Record<string, number>;
  for (let k = 0; k < pairs.length; k += 2) counts[pairs[k] as string] = pairs[k + 1] as number;
  return counts;
}

function pushAll(target: string[], values: readonly string[]): void {
  for (const value of values) target.push(value);
}
