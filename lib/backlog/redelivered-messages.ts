import type { RedeliveredMessage } from './redelivered-message.interface.js';
import { scanJsonArray } from './json-array-scan.js';
import { mesaReadable } from './stored-backlog.js';

/** The state this version writes on a backlog's last message, ending the text: `,"m":…[,"l":…],"n":<count>}]`. */
const OWN_TAIL = /,"m":\d+(?:,"l":\d+)?,"n":(\d+)\}\]$/;

/**
 * The first `limit` messages of a stored backlog (`undelivered_messages` field, a JSON array in UTF-8)
 * as a Mesa server sends them. A backlog this version wrote (its state on the last message) is valid JSON, so
 * only the prefix holding them is parsed; any other text is read as Mesa reads it (`JSON.parse` of the whole,
 * then `Message(op, d, t)` of each element). Returns `undefined` when a Mesa server would redeliver nothing
 * from it and keep it.
 */
export function redeliveredMessages(stored: Buffer, limit?: number): RedeliveredMessage[] | undefined {
  if (stored.length === 0) return [];
  let entries: unknown[] | undefined;
  if (ownCount(stored) === undefined) {
    entries = mesaReadable(stored.toString('utf8'))?.slice(0, limit);
  } else {
    const scan = scanJsonArray(stored, limit);
    if (scan === undefined) return undefined;
    if (scan.count === 0) return [];
    entries = mesaReadable(`${stored.toString('utf8', scan.start, scan.end)}]`);
  }
  return entries?.map((entry, index) => asRedelivered(entry, index + 1));
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

/**
 * How many messages a Mesa server would redeliver from `stored`: the count this version wrote on the last message,
 * else what Mesa's reading yields; `undefined` when it would redeliver none and keep the text.
 */
export function storedCount(stored: Buffer | null): number | undefined {
  if (stored === null || stored.length === 0) return 0;
  return ownCount(stored) ?? mesaReadable(stored.toString('utf8'))?.length;
}

/** The count on the last message of a backlog this version wrote, or undefined for any other text. */
function ownCount(stored: Buffer): number | undefined {
  if (stored[0] !== 0x5b) return undefined;
  const tail = OWN_TAIL.exec(stored.toString('latin1', Math.max(0, stored.length - 73)));
  return tail ? Number(tail[1]) : undefined;
}
