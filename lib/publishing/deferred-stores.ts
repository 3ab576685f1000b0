import { countsById, decodeReplies, entryOf, splitByFlags, type BatchEntry, type EntryOutcome, type SyncEntry } from './batch-protocol.js';

const DEFERRED = '2';
const NOT_STORED = '3';

type Pairs = Array<string | number>;

/** A sync dispatch of the batch whose stores are not all done yet. */
interface Pending {
  index: number;
  entry: SyncEntry;
  /** One flag per recipient, as the script answers them (`1`, `0`, `2` deferred, `3` not stored). */
  flags: string[];
  receivers: number;
  dropped: Pairs;
  expired: Pairs;
  /** Why Redis refused a continuation of it, if it did. */
  refused?: string;
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

  constructor(entries: readonly BatchEntry[], replies: readonly unknown[]) {
    this.expiryBase = replies[entries.length] as number;
    this.outcomes = decodeReplies(entries, replies.slice(0, entries.length));
    for (let index = 0; index < entries.length; index++) {
      const reply = replies[index];
      if (!Array.isArray(reply) || reply[0] !== 1) continue;
      const flags = reply[2] as string;
      if (!flags.includes(DEFERRED) && !flags.includes(NOT_STORED)) continue;
      const [, receivers, , dropped, expired] = reply as [1, number, string, Pairs, Pairs];
      this.pending.push({ index, entry: entries[index] as SyncEntry, flags: [...flags], receivers, dropped, expired });
    }
  }

  /** Whether stores remain to be done. */
  get unfinished(): boolean {
    return this.pending.some((pending) => pending.flags.includes(DEFERRED));
  }

  /** The dispatches of the next continuation call: each unfinished one, to its deferred recipients only. */
  next(): BatchEntry[] {
    this.inFlight = this.pending.filter((pending) => pending.flags.includes(DEFERRED));
    const subsets = new Map<readonly string[], { flags: string; ids: string[]; json: string }>();
    return this.inFlight.map(({ entry, flags }) => {
      const key = flags.join('');
      let subset = subsets.get(entry.recipients);
      if (subset?.flags !== key) {
        const ids = entry.recipients.filter((_, k) => flags[k] === DEFERRED);
        subset = { flags: key, ids, json: JSON.stringify(ids) };
        subsets.set(entry.recipients, subset);
      }
      const { kind, messageJson, ttl, promise } = entry;
      return entryOf({ kind, messageJson, recipients: subset.ids, recipientsJson: subset.json, ttl, promise }, 0);
    });
  }

  /** Takes in a continuation call's replies, one per dispatch {@link next} gave (and maybe its own Redis time). */
  merge(replies: readonly unknown[]): void {
    this.inFlight.forEach((pending, k) => {
      const reply = replies[k] as [0, string] | [1, number, string, Pairs, Pairs];
      if (reply[0] === 0) {
        pending.refused = reply[1];
        pending.flags = pending.flags.map((flag) => (flag === DEFERRED ? NOT_STORED : flag));
        return;
      }
      const [, receivers, flags, dropped, expired] = reply;
      let next = 0;
      pending.flags = pending.flags.map((flag) => (flag === DEFERRED ? flags[next++] : flag));
      pending.receivers = Math.max(pending.receivers, receivers);
      pending.dropped.push(...dropped);
      pending.expired.push(...expired);
    });
    this.inFlight = [];
  }

  /**
   * Every dispatch's outcome; those with stores left undone (`reason`: why the continuation stopped) fail as "may have
   * been published", as do those Redis could not store for some recipient of (a text Mesa could not read).
   */
  finish(reason?: string): EntryOutcome[] {
    for (const pending of this.pending) {
      const { entry, flags, receivers, dropped, expired, refused } = pending;
      const missed = entry.recipients.filter((_, k) => flags[k] === NOT_STORED);
      if (flags.includes(DEFERRED)) {
        this.outcomes[pending.index] = {
          reason: `${reason ?? 'the batch stopped'}, while its stores for offline recipients were written in further script calls`,
          mayHaveBeenPublished: true,
        };
      } else if (missed.length > 0) {
        const why =
          refused ??
          `their undelivered_messages field is not a JSON array Mesa can read (Mesa would redeliver none of it); clear it with MesaBacklog.clear()`;
        this.outcomes[pending.index] = {
          reason: `not stored for ${missed.map((id) => JSON.stringify(id)).join(', ')} (${why}); published or stored for the other recipients`,
          mayHaveBeenPublished: true,
        };
      } else {
        const result = splitByFlags(entry.recipients, flags.join(''), receivers);
        if (dropped.length > 0) result.dropped = countsById(dropped);
        if (expired.length > 0) result.expired = countsById(expired);
        this.outcomes[pending.index] = result;
      }
    }
    return this.outcomes;
  }
}
