import type { Redis } from 'ioredis';
import type { DispatchResult } from '../interfaces/dispatch-result.interface.js';
import { StoredBacklog, type BacklogCaps } from '../backlog/stored-backlog.js';
import { MesaDispatchError } from '../errors/mesa.errors.js';
import type { MesaRedisNames } from '../redis/mesa-redis-names.js';
import { countsById, publishedResult, type EntryOutcome } from './batch-protocol.js';
import { mesaEnvelope, type BatchEntry, type PublishEntry } from './dispatch-entries.js';
import { redisTimeMs } from '../redis/redis-time.js';
import { watchedTransaction, type TransactionResults } from '../redis/watched-transaction.js';
import { readRedisError } from './dispatch-failures.js';

const MAX_ATTEMPTS = 20;

/**
 * The batch script's semantics without Lua, for Redis servers where scripts are disabled: read membership
 * (and, for broadcast-except entries, the whole `connected_clients` set) and backlogs under WATCH, then
 * publish and store in one MULTI/EXEC, retrying when a Mesa server changed `connected_clients` or
 * `undelivered_messages` in between. Redis runs all of a transaction or none of it (EXECABORT), so a refused
 * transaction sent nothing. Callers serialize batches on the connection. Backlogs follow the script's rule and
 * format ({@link StoredBacklog}: checked as Mesa reads them, expired messages removed, then capped), parsed here.
 * Unlike the script, a batch's backlogs are read (HMGET) and written (EXEC) whole, in one command each.
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
  const outcomes = await watchedTransaction(
    client,
    [names.connectedClients, names.undeliveredMessages],
    async () => {
      const reads = client.pipeline();
      if (ids.length > 0) reads.smismember(names.connectedClients, ids as never).hmget(names.undeliveredMessages, ids as never);
      if (broadcasts) reads.smembers(names.connectedClients);
      reads.time();
      const values = (await reads.exec())!.map(([error, value]) => {
        if (error) throw error;
        return value;
      });
      const now = redisTimeMs(values.pop() as string[]);
      const [membership, stored] = (ids.length > 0 ? values : [[], []]) as [number[], Array<string | null>];
      const members = (broadcasts ? values.at(-1) : []) as string[];
      const online = new Map(ids.map((id, k) => [id, membership[k] === 1]));
      const backlogs = new Map(ids.map((id, k) => [id, stored[k]]));
      const transaction = client.multi();
      const plans = planEntries(entries, online, backlogs, members, caps, now, (envelope) => transaction.publish(names.channel, envelope));
      for (const [id, backlog] of plans.backlogs) {
        const text = backlog.text();
        if (text === undefined) transaction.hdel(names.undeliveredMessages, id);
        else transaction.hset(names.undeliveredMessages, id, text);
      }
      return {
        transaction,
        outcome: (results) => plans.outcomes.map((outcome) => (typeof outcome === 'function' ? outcome(results) : outcome)),
      };
    },
    MAX_ATTEMPTS,
    (attempts) =>
      new MesaDispatchError(`could not store for offline users: ${attempts} transactions in a row conflicted with Mesa servers.`),
  );
  return outcomes!;
}

type Planned = EntryOutcome | ((results: TransactionResults) => EntryOutcome);

function planEntries(
  entries: BatchEntry[],
  online: Map<string, boolean>,
  stored: Map<string, string | null>,
  members: string[],
  caps: BacklogCaps,
  now: number,
  publish: (envelope: string) => void,
): { outcomes: Planned[]; backlogs: Map<string, StoredBacklog> } {
  const backlogs = new Map<string, StoredBacklog>();
  const written = new Map<string, StoredBacklog>();
  const outcomes: Planned[] = [];
  let publishes = 0;
  const receiversAt = (at: number) => (results: TransactionResults) => results[at][1] as number;
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
    const corrupt = offline.find((id) => backlogOf(backlogs, stored, id, caps, now) === undefined);
    if (corrupt !== undefined) {
      outcomes.push({
        reason: `undelivered_messages field of user ${corrupt} is not a JSON array Mesa can read (Mesa would redeliver none of it); clear it with MesaBacklog.clear()`,
        mayHaveBeenPublished: false,
      });
      continue;
    }
    const expires = entry.ttl > 0 ? now + entry.ttl : undefined;
    const dropped: Array<string | number> = [];
    const expired: Array<string | number> = [];
    for (const id of offline) {
      const backlog = backlogOf(backlogs, stored, id, caps, now)!;
      const count = backlog.append(messageJson, expires);
      written.set(id, backlog);
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
  return { outcomes, backlogs: written };
}

/** A user's backlog, read once per batch, its expired messages removed; undefined when Mesa could not read it. */
function backlogOf(
  backlogs: Map<string, StoredBacklog>,
  stored: Map<string, string | null>,
  id: string,
  caps: BacklogCaps,
  now: number,
): StoredBacklog | undefined {
  let backlog = backlogs.get(id);
  if (backlog) return backlog;
  backlog = StoredBacklog.load(stored.get(id), caps);
  if (backlog === undefined) return undefined;
  backlog.removeExpired(now);
  backlogs.set(id, backlog);
  return backlog;
}
