import type { Redis } from 'ioredis';
import { MesaDispatchError } from '../errors/mesa.errors.js';
import { mesaEnvelope, type MesaRedisNames } from '../redis/mesa-redis-names.js';
import type { BatchEntry, BatchReply } from './batch-entry.js';

const MAX_ATTEMPTS = 20;
const EMPTY_ARRAY = /^\s*\[\s*\]\s*$/;
const JSON_ARRAY = /^\s*(\[[\s\S]*)\]\s*$/;

/**
 * The batch script's semantics without Lua, for Redis servers where scripts are disabled: read
 * membership (and, for broadcast-except entries, the whole `connected_clients` set) and backlogs under
 * WATCH, then publish and store in one MULTI/EXEC, retrying when a
 * Mesa server changed `connected_clients` or `undelivered_messages` in between. Callers serialize
 * batches on the connection.
 */
export async function sendWithoutScripts(
  client: Redis,
  names: MesaRedisNames,
  entries: BatchEntry[],
  maxStoredPerUser = 0,
): Promise<BatchReply[]> {
  if (!entries.some((entry) => entry.sync || entry.excluding)) {
    const results = await client.pipeline(entries.map((entry) => ['publish', names.channel, entry.envelope!])).exec();
    return results!.map(([error, receivers]) => (error ? [0, error.message] : (receivers as number)));
  }
  const ids = [...new Set(entries.flatMap((entry) => (entry.sync ? entry.prepared.recipients : [])))];
  const broadcasts = entries.some((entry) => entry.excluding);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    await client.watch(names.connectedClients, names.undeliveredMessages);
    const reads = client.pipeline();
    if (ids.length > 0) reads.smismember(names.connectedClients, ...ids).hmget(names.undeliveredMessages, ...ids);
    if (broadcasts) reads.smembers(names.connectedClients);
    const values = (await reads.exec())!.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    const [membership, backlogs] = (ids.length > 0 ? values : [[], []]) as [number[], Array<string | null>];
    const members = (broadcasts ? values.at(-1) : []) as string[];
    const online = new Map(ids.map((id, k) => [id, membership[k] === 1]));
    const stored = new Map(ids.map((id, k) => [id, backlogs[k]]));
    const transaction = client.multi();
    const pending = new Map<string, string[]>();
    const counts = new Map<string, number>();
    const planned: Planned[] = [];
    let publishes = 0;
    for (const entry of entries) {
      if (entry.excluding) {
        const skip = new Set(entry.excluding);
        const live = members.filter((id) => !skip.has(id));
        if (live.length === 0) planned.push({ reply: [2, 0] });
        else {
          transaction.publish(names.channel, mesaEnvelope(entry.prepared.messageJson, live));
          planned.push({ publishAt: publishes++, live });
        }
        continue;
      }
      if (!entry.sync) {
        transaction.publish(names.channel, entry.envelope!);
        planned.push({ publishAt: publishes++ });
        continue;
      }
      const live = entry.prepared.recipients.filter((id) => online.get(id));
      const offline = entry.prepared.recipients.filter((id) => !online.get(id));
      const corrupt = offline.find((id) => isCorrupt(stored.get(id)));
      if (corrupt) {
        planned.push({ reply: [0, `undelivered_messages field of user ${corrupt} is not a JSON array`] });
        continue;
      }
      const dropped: Array<string | number> = [];
      for (const id of offline) {
        pending.set(id, [...(pending.get(id) ?? []), entry.prepared.messageJson]);
        if (maxStoredPerUser === 0) continue;
        const count = (counts.get(id) ?? storedCount(stored.get(id))) + 1;
        if (count > maxStoredPerUser) dropped.push(id, count - maxStoredPerUser);
        counts.set(id, Math.min(count, maxStoredPerUser));
      }
      const flags = entry.prepared.recipients.map((id) => (online.get(id) ? '1' : '0')).join('');
      if (live.length === 0) {
        planned.push({ reply: [1, 0, flags, ...dropped] });
        continue;
      }
      transaction.publish(names.channel, mesaEnvelope(entry.prepared.messageJson, live));
      planned.push({ publishAt: publishes++, flags, dropped });
    }
    for (const [id, added] of pending) {
      transaction.hset(names.undeliveredMessages, id, appendTo(stored.get(id), added, maxStoredPerUser));
    }
    const results = await transaction.exec();
    if (results === null) continue;
    return planned.map((plan) => {
      if ('reply' in plan) return plan.reply;
      const receivers = results[plan.publishAt][1] as number;
      if (plan.live) return [2, receivers, ...plan.live];
      return plan.flags !== undefined ? [1, receivers, plan.flags, ...plan.dropped!] : receivers;
    });
  }
  await client.unwatch();
  throw new MesaDispatchError(`could not store for offline users: ${MAX_ATTEMPTS} transactions in a row conflicted with Mesa servers.`);
}

type Planned = { reply: BatchReply } | { publishAt: number; flags?: string; dropped?: Array<string | number>; live?: string[] };

/**
 * Mesa's JSON array with `added` message texts appended, without re-encoding what was stored; under a
 * cap, the oldest messages beyond it are dropped (those kept are re-encoded by JSON.stringify).
 */
function appendTo(stored: string | null | undefined, added: string[], cap: number): string {
  if (cap > 0 && storedCount(stored) + added.length > cap) {
    const existing = stored ? (JSON.parse(stored) as unknown[]).map((message) => JSON.stringify(message)) : [];
    return `[${[...existing, ...added].slice(-cap).join(',')}]`;
  }
  const head = stored && !EMPTY_ARRAY.test(stored) ? stored.match(JSON_ARRAY)?.[1] : undefined;
  return head ? `${head},${added.join(',')}]` : `[${added.join(',')}]`;
}

function storedCount(stored: string | null | undefined): number {
  return stored ? (JSON.parse(stored) as unknown[]).length : 0;
}

function isCorrupt(stored: string | null | undefined): boolean {
  return typeof stored === 'string' && !JSON_ARRAY.test(stored);
}
