import type { RedeliveredMessage } from './redelivered-message.interface.js';
import { scanJsonArray } from './json-array-scan.js';

/**
 * The first `limit` messages of a stored backlog (`undelivered_messages` field, a JSON array in UTF-8)
 * as a Mesa server sends them: only the prefix holding them is parsed. Returns `undefined` when the
 * text is not a JSON array of JSON values (a Mesa server then redelivers nothing and keeps it).
 */
export function redeliveredMessages(stored: Buffer, limit?: number): RedeliveredMessage[] | undefined {
  const scan = scanJsonArray(stored, limit);
  if (scan === undefined) return undefined;
  if (scan.count === 0) return [];
  let entries: unknown[];
  try {
    entries = JSON.parse(`${stored.toString('utf8', scan.start, scan.end)}]`) as unknown[];
  } catch {
    return undefined;
  }
  return entries.map((entry, index) => asRedelivered(entry, index + 1));
}

/** Mesa's `new Message(e.op, e.d, e.t)` then `{ op, d, t, s }`, with what JSON would leave out left out. */
function asRedelivered(entry: unknown, sequence: number): RedeliveredMessage {
  const source = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
  const message = {} as RedeliveredMessage;
  if (source.op !== undefined) message.op = source.op as number;
  if (source.d !== undefined) message.d = source.d;
  if (source.t !== undefined) message.t = source.t as string;
  message.s = sequence;
  return message;
}

/** How many messages a Mesa server would redeliver from `stored`; `undefined` when it is not a JSON array. */
export function storedCount(stored: Buffer | null): number | undefined {
  if (stored === null) return 0;
  return scanJsonArray(stored)?.count;
}
