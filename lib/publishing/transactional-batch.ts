import type { Redis } from 'ioredis';
import type { DispatchResult } from '../interfaces/dispatch-result.interface.js';
import { MesaDispatchError } from '../errors/mesa.errors.js';
import { mesaEnvelope, type MesaRedisNames } from '../redis/mesa-redis-names.js';
import { countsById, publishedResult, type BacklogCaps, type BatchEntry, type EntryOutcome, type PublishEntry } from './batch-protocol.js';
import { readRedisError } from './dispatch-failures.js';

const MAX_ATTEMPTS = 20;

/**
 * The batch script's semantics without Lua, for Redis servers where scripts are disabled: read membership
 * (and, for broadcast-except entries, the whole `connected_clients` set) and backlogs under WATCH, then
 * publish and store in one MULTI/EXEC, retrying when a Mesa server changed `connected_clients` or
 * `undelivered_messages` in between. Redis runs all of a transaction or none of it (EXECABORT), so a refused
 * transaction sent nothing. Callers serialize batches on the connection. Backlogs are parsed here (O(size)).
 */
export async function sendWithoutScripts(
  client: Redis,
  names: MesaRedisNames,
  entries: BatchEntry[],
  caps: BacklogCaps,
): Promise<EntryOutcome[]> {
  if (entries.every((entry) => entry.kind === 'publish')) {
    const results = await client
      .pipeline(entries.map((entry) => ['publish', names.channel, (entry as { envelope: string }).envelope]))
      .exec();
    return entries.map((entry, k) => {
      const [error, receivers] = results![k];
      if (error) return { reason: readRedisError(error.message).reason, mayHaveBeenPublished: false };
      return publishedResult(entry as PublishEntry, receivers as number);
    });
  }
  const ids = [...new Set(entries.flatMap((entry) => (entry.kind === 'sync' ? entry.recipients : [])))];
  const broadcasts = entries.some((entry) => entry.kind === 'broadcast-except');
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    await client.watch(names.connectedClients, names.undeliveredMessages);
    const reads = client.pipeline();
    if (ids.length > 0) reads.smismember(names.connectedClients, ids as never).hmget(names.undeliveredMessages, ids as never);
    if (broadcasts) reads.smembers(names.connectedClients);
    reads.time();
    const values = (await reads.exec())!.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    const [seconds, micros] = values.pop() as [string, string];
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const [membership, stored] = (ids.length > 0 ? values : [[], []]) as [number[], Array<string | null>];
    const members = (broadcasts ? values.at(-1) : []) as string[];
    const online = new Map(ids.map((id, k) => [id, membership[k] === 1]));
    const backlogs = new Map(ids.map((id, k) => [id, stored[k]]));
    const transaction = client.multi();
    const plans = planEntries(entries, online, backlogs, members, caps, now, (envelope) => transaction.publish(names.channel, envelope));
    for (const [id, { messages }] of plans.backlogs) {
      if (messages.length === 0) transaction.hdel(names.undeliveredMessages, id);
      else transaction.hset(names.undeliveredMessages, id, `[${messages.join(',')}]`);
    }
    const results = await transaction.exec();
    if (results === null) continue;
    return plans.outcomes.map((outcome) => (typeof outcome === 'function' ? outcome(results) : outcome));
  }
  await client.unwatch();
  throw new MesaDispatchError(`could not store for offline users: ${MAX_ATTEMPTS} transactions in a row conflicted with Mesa servers.`);
}

type Planned = EntryOutcome | ((results: Array<[Error | null, unknown]>) => EntryOutcome);

function planEntries(
  entries: BatchEntry[],
  online: Map<string, boolean>,
  stored: Map<string, string | null>,
  members: string[],
  caps: BacklogCaps,
  now: number,
  publish: (envelope: string) => void,
): { outcomes: Planned[]; backlogs: Map<string, Backlog> } {
  const backlogs = new Map<string, Backlog>();
  const outcomes: Planned[] = [];
  let publishes = 0;
  const receiversAt = (at: number) => (results: Array<[Error | null, unknown]>) => results[at][1] as number;
  for (const entry of entries) {
    if (entry.kind === 'publish') {
      publish(entry.envelope);
      const at = receiversAt(publishes++);
      outcomes.push((results) => publishedResult(entry, at(results)));
      continue;
    }
    if (entry.kind === 'broadcast-except') {
      const skip = new Set(entry.excluding);
      const live = members.filter((id) => !skip.has(id));
      if (live.length === 0) outcomes.push({ recipients: [], publishedTo: [], storedFor: [], receivers: 0 });
      else {
        publish(mesaEnvelope(entry.messageJson, JSON.stringify(live)));
        const at = receiversAt(publishes++);
        outcomes.push((results) => ({ recipients: live, publishedTo: [...live], storedFor: [], receivers: at(results) }));
      }
      continue;
    }
    const { messageJson } = entry;
    const recipients = entry.recipients.slice();
    const live = recipients.filter((id) => online.get(id));
    const offline = recipients.filter((id) => !online.get(id));
    const corrupt = offline.find((id) => backlogOf(backlogs, stored, id, now) === undefined);
    if (corrupt !== undefined) {
      outcomes.push({ reason: `undelivered_messages field of user ${corrupt} is not a JSON array`, mayHaveBeenPublished: false });
      continue;
    }
    const storedJson = entry.ttl > 0 ? `{"x":${now + entry.ttl},${messageJson.slice(1)}` : messageJson;
    const dropped: Array<string | number> = [];
    const expired: Array<string | number> = [];
    for (const id of offline) {
      const backlog = backlogOf(backlogs, stored, id, now)!;
      const count = appendCapped(backlog.messages, storedJson, caps);
      if (count > 0) dropped.push(id, count);
      if (backlog.expired > 0) expired.push(id, backlog.expired);
      backlog.expired = 0;
    }
    const base: Omit<DispatchResult, 'receivers'> = { recipients, publishedTo: live, storedFor: offline };
    if (dropped.length > 0) base.dropped = countsById(dropped);
    if (expired.length > 0) base.expired = countsById(expired);
    if (live.length === 0) outcomes.push({ ...base, receivers: 0 });
    else {
      publish(mesaEnvelope(messageJson, JSON.stringify(live)));
      const at = receiversAt(publishes++);
      outcomes.push((results) => ({ ...base, receivers: at(results) }));
    }
  }
  return { outcomes, backlogs };
}

/** A user's stored messages, as JSON texts, and how many expired ones reading it removed (not yet reported). */
interface Backlog {
  messages: string[];
  expired: number;
}

/**
 * A user's stored messages as JSON texts (re-encoded, without the count `n` the script keeps on the last one, and
 * without those expired at `now`), read once per batch; undefined when corrupt.
 */
function backlogOf(backlogs: Map<string, Backlog>, stored: Map<string, string | null>, id: string, now: number): Backlog | undefined {
  let backlog = backlogs.get(id);
  if (backlog) return backlog;
  const text = stored.get(id);
  try {
    const parsed: unknown = text ? JSON.parse(text) : [];
    if (!Array.isArray(parsed)) return undefined;
    const live = parsed.filter((message) => !(typeof message?.x === 'number' && message.x <= now));
    backlog = { messages: live.map((message) => JSON.stringify(withoutCount(message))), expired: parsed.length - live.length };
  } catch {
    return undefined;
  }
  backlogs.set(id, backlog);
  return backlog;
}

/** Appends and drops the oldest messages over the caps; returns how many it dropped. */
function appendCapped(messages: string[], message: string, caps: BacklogCaps): number {
  messages.push(message);
  let bytes = 1;
  for (const text of messages) bytes += text.length + 1;
  let dropped = 0;
  while (messages.length > 0 && ((caps.maxCount > 0 && messages.length > caps.maxCount) || (caps.maxBytes > 0 && bytes > caps.maxBytes))) {
    bytes -= messages.shift()!.length + 1;
    dropped++;
  }
  return dropped;
}

/** A stored message without the backlog count `n` the script keeps on the last one (it is written anew). */
function withoutCount(message: unknown): unknown {
  if (typeof message !== 'object' || message === null || !('n' in message)) return message;
  const copy: Record<string, unknown> = { ...message };
  delete copy.n;
  return copy;
}
