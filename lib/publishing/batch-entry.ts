import type { DispatchPromise } from '../dispatch-promise.js';
import type { DispatchResult } from '../interfaces/dispatch-result.interface.js';
import type { PreparedDispatch } from '../validation/dispatch-input.validator.js';

/** One dispatch waiting in, or travelling with, a coalesced batch. */
export interface BatchEntry {
  prepared: PreparedDispatch;
  /** Sync mode for this dispatch: check membership, store for offline recipients. */
  sync: boolean;
  /** The ready envelope when `sync` is false (and it is not a broadcast-except). */
  envelope?: string;
  /** A broadcast-except: publish to the members of `connected_clients` but these ids (never stored). */
  excluding?: string[];
  /** While held during an outage: when it is rejected instead of sent (epoch ms). */
  expiresAt?: number;
  /** The caller's promise, settled when Redis has answered for the batch. */
  promise: DispatchPromise<DispatchResult>;
}

/**
 * What Redis did with one entry of a batch: the receivers of a plain publish; for sync,
 * `[1, receivers, flags, ...[id, dropped]]` with one flag per recipient (`'1'` published to, `'0'` stored
 * for) and the users whose oldest stored messages the cap dropped; for a broadcast-except,
 * `[2, receivers, ...ids published to]`; or `[0, error]`.
 */
export type BatchReply = number | [1, number, string, ...Array<string | number>] | [2, number, ...string[]] | [0, string];

const ONLINE = '1'.charCodeAt(0);

/** Turns an entry's reply into its {@link DispatchResult}, or the error message it failed with. */
export function toDispatchResult(entry: BatchEntry, reply: BatchReply): DispatchResult | string {
  const { recipients } = entry.prepared;
  if (typeof reply === 'number') return { recipients, publishedTo: recipients, storedFor: [], receivers: reply };
  if (reply[0] === 0) return reply[1];
  if (reply[0] === 2) {
    const online = reply.slice(2) as string[];
    return { recipients: online, publishedTo: [...online], storedFor: [], receivers: reply[1] };
  }
  const flags = reply[2];
  const publishedTo: string[] = [];
  const storedFor: string[] = [];
  for (let k = 0; k < recipients.length; k++) (flags.charCodeAt(k) === ONLINE ? publishedTo : storedFor).push(recipients[k]);
  const result: DispatchResult = { recipients, publishedTo, storedFor, receivers: reply[1] };
  if (reply.length > 3) {
    result.dropped = {};
    for (let k = 3; k < reply.length; k += 2) result.dropped[reply[k] as string] = reply[k + 1] as number;
  }
  return result;
}
