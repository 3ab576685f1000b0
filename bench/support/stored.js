// Counting what sync stored: the undelivered_messages hash (one JSON array of messages per offline user)
// and the connected_clients set that says who is online. Shared by the sync and sync-cpu scenarios.
import { sleep } from './stats.js';

export const CONNECTED = 'connected_clients';
export const UNDELIVERED = 'undelivered_messages';

/** A `members`-member room (m0, m1, ...) with `online` of them (every other one) online. */
export function makeRoom(members, online) {
  const room = Array.from({ length: members }, (_, i) => `m${i}`);
  const onlineIds = room.filter((_, i) => i % 2 === 0).slice(0, online);
  return { room, onlineIds, offlineCount: members - onlineIds.length };
}

/**
 * Counts the messages in every undelivered_messages array, polling until the count has not changed
 * for 200 ms (the original Dispatcher's HGET -> HSET appends are fire-and-forget).
 */
export async function storedWhenQuiet(admin, quietMs = 200, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last = await countStored(admin);
  let since = Date.now();
  while (Date.now() - since < quietMs && Date.now() < deadline) {
    await sleep(25);
    const now = await countStored(admin);
    if (now.stored !== last.stored || now.fields !== last.fields) [last, since] = [now, Date.now()];
  }
  return last;
}

/** How many stored backlogs hold exactly the dispatches 0..expected-1, each once. */
export async function completeBacklogs(admin, expected) {
  const hash = await admin.hgetall(UNDELIVERED);
  let complete = 0;
  for (const value of Object.values(hash)) {
    const ids = new Set(JSON.parse(value).map((message) => message?.d?.id));
    const all = ids.size === expected && [...ids].every((id) => Number.isInteger(id) && id >= 0 && id < expected);
    if (all && JSON.parse(value).length === expected) complete++;
  }
  return complete;
}

/** { stored: messages in every array, fields: users with an array }. */
export async function countStored(admin) {
  const hash = await admin.hgetall(UNDELIVERED);
  let stored = 0;
  for (const value of Object.values(hash)) {
    const parsed = JSON.parse(value);
    stored += Array.isArray(parsed) ? parsed.length : 0;
  }
  return { stored, fields: Object.keys(hash).length };
}
