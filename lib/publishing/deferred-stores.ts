import type { DispatchResult } from '../interfaces/dispatch-result.interface.js';
import { countsById, decodeReplies, splitByFlags, syncFlags, type EntryOutcome, type SyncReply } from './batch-protocol.js';
import { entryOf, type BatchEntry, type SyncEntry } from './dispatch-entries.js';

const DEFERRED = '2';
const NOT_STORED = '3';
const NOT_READABLE = `their undelivered_messages field is not a JSON array Mesa can read (Mesa would redeliver none of it); clear it with MesaBacklog.clear()`;

type Pairs = Array<string | number>;

/**
 * The recipients of the batch's dispatches that share one list: the script decides per user, so their flags are
 * the same (`1`, `0`, `2` deferred, `3` not stored), merged once per continuation for all of them.
 */
interface Recipients {
  ids: readonly string[];
  flags: string;
  /** The deferred ids, and their JSON, for the next continuation. */
  deferred?: { ids: string[]; json: string };
  /** The continuation {@link deferred} was computed for. */
  computedFor: number;
}

/** A sync dispatch of the batch whose stores are not all done yet. */
interface Pending {
  index: number;
  entry: SyncEntry;
  recipients: Recipients;
  receivers: number;
  dropped: Pairs;
  expired: Pairs;
  /** Why Redis refused a continuation of it, if it did. */
  refused?: string;
  /** It completes an earlier attempt with the same idempotency key (see `DispatchResult.duplicate`). */
  duplicate: boolean;
}

/**
 * The stores a batch's first script call deferred (flag `2`: over the call's budget), finished in continuation
 * calls: builds each continuation's dispatches (the deferred recipients of each, their expiry counted from the first
 * call's Redis time), merges the replies, and gives each dispatch its final outcome. The first call already
 * published to every recipient that was online; a deferred one found online in a continuation is published to then.
 */
export class DeferredStores {
  /** The Redis time (ms) of the first call, from which the stored messages' ttls count. */
  readonly expiryBase: number;
  private readonly outcomes: EntryOutcome[];
  private readonly pending: Pending[] = [];
  private inFlight: Pending[] = [];
  private continuations = 0;

  constructor(entries: readonly BatchEntry[], replies: readonly unknown[]) {
    this.expiryBase = replies[entries.length] as number;
    this.outcomes = decodeReplies(entries, replies.slice(0, entries.length));
    const lists = new Map<readonly string[], Recipients>();
    let lastFlags = '';
    for (let index = 0; index < entries.length; index++) {
      const reply = replies[index];
      if (!Array.isArray(reply) || reply[0] !== 1) continue;
      const flags = (lastFlags = syncFlags(reply[2] as string, lastFlags));
      if (!flags.includes(DEFERRED) && !flags.includes(NOT_STORED)) continue;
      const entry = entries[index] as SyncEntry;
      // a keyed dispatch's continuations may find some of its recipients done by another attempt: never shared
      let recipients = entry.key === undefined ? lists.get(entry.recipients) : undefined;
      if (recipients?.flags !== flags) {
        recipients = { ids: entry.recipients, flags, computedFor: 0 };
        if (entry.key === undefined) lists.set(entry.recipients, recipients);
      }
      const [, receivers, , dropped = [], expired = [], duplicate] = reply as SyncReply;
      this.pending.push({ index, entry, recipients, receivers, dropped, expired, duplicate: duplicate === 1 });
    }
  }

  /** Whether stores remain to be done. */
  get unfinished(): boolean {
    return this.pending.some((pending) => pending.recipients.flags.includes(DEFERRED));
  }

  /** The dispatches of the next continuation call: each unfinished one, to its deferred recipients only. */
  next(): BatchEntry[] {
    this.continuations++;
    this.inFlight = this.pending.filter((pending) => pending.recipients.flags.includes(DEFERRED));
    return this.inFlight.map(({ entry, recipients }) => {
      if (recipients.computedFor !== this.continuations) {
        const ids = recipients.ids.filter((_, k) => recipients.flags[k] === DEFERRED);
        recipients.deferred = { ids, json: JSON.stringify(ids) };
        recipients.computedFor = this.continuations;
      }
      const { ids, json } = recipients.deferred!;
      const { kind, messageJson, ttl, key, promise } = entry;
      return entryOf({ kind, messageJson, recipients: ids, recipientsJson: json, ttl, key, promise }, 0);
    });
  }

  /** Takes in a continuation call's replies, one per dispatch {@link next} gave (and maybe its own Redis time). */
  merge(replies: readonly unknown[]): void {
    const merged = new Set<Recipients>();
    let lastFlags = '';
    this.inFlight.forEach((pending, k) => {
      const reply = replies[k] as [0, string] | SyncReply;
      if (reply[0] === 0) {
        pending.refused = reply[1];
        pending.recipients = { ...pending.recipients, flags: replaceDeferred(pending.recipients.flags, () => NOT_STORED) };
        return;
      }
      const [, receivers, given, dropped = [], expired = []] = reply;
      const flags = (lastFlags = syncFlags(given, lastFlags));
      if (!merged.has(pending.recipients)) {
        let next = 0;
        pending.recipients.flags = replaceDeferred(pending.recipients.flags, () => flags[next++]);
        merged.add(pending.recipients);
      }
      pending.receivers = Math.max(pending.receivers, receivers);
      for (const pair of dropped) pending.dropped.push(pair);
      for (const pair of expired) pending.expired.push(pair);
    });
    this.inFlight = [];
  }

  /**
   * Every dispatch's outcome; those with stores left undone (`reason`: why the continuation stopped) fail as "may have
   * been published", as do those Redis could not store for some recipient of (a text Mesa could not read).
   */
  finish(reason?: string): EntryOutcome[] {
    let last: { recipients: Recipients; flags: string; result: DispatchResult } | undefined;
    for (const pending of this.pending) {
      const { entry, recipients, receivers, dropped, expired, refused, duplicate } = pending;
      const { flags } = recipients;
      if (flags.includes(DEFERRED)) {
        this.outcomes[pending.index] = {
          reason: `${reason ?? 'the batch stopped'}, while its stores for offline recipients were written in further script calls`,
          mayHaveBeenPublished: true,
        };
      } else if (flags.includes(NOT_STORED)) {
        const missed = entry.recipients.filter((_, k) => flags[k] === NOT_STORED);
        this.outcomes[pending.index] = {
          reason: `not stored for ${missed.map((id) => JSON.stringify(id)).join(', ')} (${refused ?? NOT_READABLE}); published or stored for the other recipients`,
          mayHaveBeenPublished: true,
          final: true,
        };
      } else {
        // a room's dispatches share one list: split it once, copy it for the others
        const earlier = last?.recipients === recipients && last.flags === flags ? last.result : undefined;
        const result: DispatchResult = earlier
          ? {
              recipients: earlier.recipients.slice(),
              publishedTo: earlier.publishedTo.slice(),
              storedFor: earlier.storedFor.slice(),
              receivers,
            }
          : splitByFlags(entry.recipients, flags, receivers);
        if (!earlier) last = { recipients, flags, result };
        if (dropped.length > 0) result.dropped = countsById(dropped);
        if (expired.length > 0) result.expired = countsById(expired);
        if (duplicate) result.duplicate = true;
        this.outcomes[pending.index] = result;
      }
    }
    return this.outcomes;
  }
}

/** `flags` with each deferred flag replaced, in order, by what `next` gives. */
function replaceDeferred(flags: string, next: () => string): string {
  let out = '';
  let from = 0;
  for (let at = flags.indexOf(DEFERRED); at >= 0; at = flags.indexOf(DEFERRED, at + 1)) {
    out += flags.slice(from, at) + next();
    from = at + 1;
  }
  return out + flags.slice(from);
}
