import type { Redis } from 'ioredis';
import { MesaDispatchError } from '../errors/mesa.errors.js';
import { mesaEnvelope, type MesaRedisNames } from '../redis/mesa-redis-names.js';
import { droppedMap, type BacklogCaps, type BatchEntry, type EntryOutcome } from './batch-protocol.js';
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
      return {
        recipients: entry.prepared.recipients,
        publishedTo: entry.prepared.recipients,
        storedFor: [],
        receivers: receivers as number,
      };
    });
  }
  const ids = [...new Set(entries.flatMap((entry) => (entry.kind === 'sync' ? entry.prepared.recipients : [])))];
  const broadcasts = entries.some((entry) => entry.kind === 'broadcast-except');
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    await client.watch(names.connectedClients, names.undeliveredMessages);
    const reads = client.pipeline();
    if (ids.length > 0) reads.smismember(names.connectedClients, ids as never).hmget(names.undeliveredMessages, ids as never);
    if (broadcasts) reads.smembers(names.connectedClients);
    const values = (await reads.exec())!.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    const [membership, stored] = (ids.length > 0 ? values : [[], []]) as [number[], Array<string | null>];
    const members = (broadcasts ? values.at(-1) : []) as string[];
    const online = new Map(ids.map((id, k) => [id, membership[k] === 1]));
    const backlogs = new Map(ids.map((id, k) => [id, stored[k]]));
    const transaction = client.multi();
    const plans = planEntries(entries, online, backlogs, members, caps, (envelope) => transaction.publish(names.channel, envelope));
    for (const [id, messages] of plans.backlogs) {
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
  publish: (envelope: string) => void,
): { outcomes: Planned[]; backlogs: Map<string, string[]> } {
  const backlogs = new Map<string, string[]>();
  const outcomes: Planned[] = [];
  let publishes = 0;
  const receiversAt = (at: number) => (results: Array<[Error | null, unknown]>) => results[at][1] as number;
  for (const entry of entries) {
    if (entry.kind === 'publish') {
      publish(entry.envelope);
      const at = receiversAt(publishes++);
      const { recipients } = entry.prepared;
      outcomes.push((results) => ({ recipients, publishedTo: recipients, storedFor: [], receivers: at(results) }));
      continue;
    }
    if (entry.kind === 'broadcast-except') {
      const skip = new Set(entry.excluding);
      const live = members.filter((id) => !skip.has(id));
      if (live.length === 0) outcomes.push({ recipients: [], publishedTo: [], storedFor: [], receivers: 0 });
      else {
        publish(mesaEnvelope(entry.prepared.messageJson, live));
        const at = receiversAt(publishes++);
        outcomes.push((results) => ({ recipients: live, publishedTo: [...live], storedFor: [], receivers: at(results) }));
      }
      continue;
    }
    const { recipients, messageJson } = entry.prepared;
    const live = recipients.filter((id) => online.get(id));
    const offline = recipients.filter((id) => !online.get(id));
    const corrupt = offline.find((id) => backlogOf(backlogs, stored, id) === undefined);
    if (corrupt !== undefined) {
      outcomes.push({ reason: `undelivered_messages field of user ${corrupt} is not a JSON array`, mayHaveBeenPublished: false });
      continue;
    }
    const dropped: Array<string | number> = [];
    for (const id of offline) {
      const count = appendCapped(backlogOf(backlogs, stored, id)!, messageJson, caps);
      if (count > 0) dropped.push(id, count);
    }
    const base = { recipients, publishedTo: live, storedFor: offline, ...(dropped.length > 0 ? { dropped: droppedMap(dropped) } : {}) };
    if (live.length === 0) outcomes.push({ ...base, receivers: 0 });
    else {
      publish(mesaEnvelope(messageJson, live));
      const at = receiversAt(publishes++);
      outcomes.push((results) => ({ ...base, receivers: at(results) }));
    }
  }
  return { outcomes, backlogs };
}

/** A user's stored messages as JSON texts (re-encoded), read once per batch; undefined when corrupt. */
function backlogOf(backlogs: Map<string, string[]>, stored: Map<string, string | null>, id: string): string[] | undefined {
  let messages = backlogs.get(id);
  if (messages) return messages;
  const text = stored.get(id);
  try {
    const parsed: unknown = text ? JSON.parse(text) : [];
    if (!Array.isArray(parsed)) return undefined;
    messages = parsed.map((message) => JSON.stringify(message));
  } catch {
    return undefined;
  }
  backlogs.set(id, messages);
  return messages;
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
