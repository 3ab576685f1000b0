import type { Redis } from 'ioredis';
import type { DispatchResult } from '../interfaces/dispatch-result.interface.js';
import { StoredBacklog, type BacklogCaps } from '../backlog/stored-backlog.js';
import { MesaDispatchError } from '../errors/mesa.errors.js';
import type { MesaRedisNames } from '../redis/mesa-redis-names.js';
import { countsById, duplicateResult, publishedResult, type EntryOutcome } from './batch-protocol.js';
import { mesaEnvelope, type BatchEntry, type PublishEntry } from './dispatch-entries.js';
import { redisTimeMs } from '../redis/redis-time.js';
import { watchedTransaction, type TransactionResults } from '../redis/watched-transaction.js';
import { readRedisError } from './dispatch-failures.js';

const MAX_ATTEMPTS = 20;

/**
 * The batch script's semantics without Lua, for Redis servers where scripts are disabled: read membership
 * (and, for broadcast-except entries, the whole `connected_clients` set), backlogs and idempotency keys under WATCH,
 * then publish, store and record the keys in one MULTI/EXEC, retrying when a Mesa server (or another instance)
 * changed one of them in between. Redis runs all of a transaction or none of it (EXECABORT), so a refused
 * transaction sent nothing. Callers serialize batches on the connection. Backlogs follow the script's rule and
 * format ({@link StoredBacklog}: checked as Mesa reads them, expired messages removed, then capped), parsed here;
 * idempotency keys follow the script's rule (see `dispatch-batch.script.ts`). Unlike the script, a batch's backlogs
 * are read (HMGET) and written (EXEC) whole, in one command each, and its stores are never split.
 */
export async function sendWithoutScripts(
  client: Redis,
  names: MesaRedisNames,
  entries: BatchEntry[],
  caps: BacklogCaps,
  keyWindow: number,
): Promise<EntryOutcome[]> {
  if (entries.every((entry) => entry.kind === 'publish' && entry.key === undefined)) {
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
  const keys = [...new Set(entries.flatMap((entry) => (entry.key === undefined ? [] : [entry.key])))];
  const broadcasts = entries.some((entry) => entry.kind === 'broadcast-except');
  const outcomes = await watchedTransaction(
    client,
    [names.connectedClients, names.undeliveredMessages, ...keys],
    async () => {
      const reads = client.pipeline();
      if (ids.length > 0) reads.smismember(names.connectedClients, ids as never).hmget(names.undeliveredMessages, ids as never);
      if (broadcasts) reads.smembers(names.connectedClients);
      for (const key of keys) reads.type(key).smembers(key);
      reads.time();
      const replies = (await reads.exec())!;
      let at = 0;
      const next = <T>(): T => {
        const [error, value] = replies[at++];
        if (error) throw error;
        return value as T;
      };
      const membership = ids.length > 0 ? next<number[]>() : [];
      const stored = ids.length > 0 ? next<Array<string | null>>() : [];
      const members = broadcasts ? next<string[]>() : [];
      const records = new Map<string, KeyRecord>();
      for (const key of keys) {
        const type = next<string>();
        // SMEMBERS fails on a key of another type: TYPE, just before it, says so
        const set = type === 'set' ? next<string[]>() : (at++, []);
        records.set(key, keyRecord(type, set));
      }
      const read: BatchReads = {
        online: new Map(ids.map((id, k) => [id, membership[k] === 1])),
        stored: new Map(ids.map((id, k) => [id, stored[k]])),
        members,
        keys: records,
        now: redisTimeMs(next<string[]>()),
      };
      const transaction = client.multi();
      const plans = planEntries(entries, read, caps, (envelope) => transaction.publish(names.channel, envelope));
      for (const [id, backlog] of plans.backlogs) {
        const text = backlog.text();
        if (text === undefined) transaction.hdel(names.undeliveredMessages, id);
        else transaction.hset(names.undeliveredMessages, id, text);
      }
      for (const [key, done] of plans.records) {
        if (done === FRESH) transaction.sadd(key, RECORDED).pexpire(key, keyWindow);
        else if (done.length > 0) transaction.srem(key, ...done);
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

/** The member of an idempotency key's SET that says the dispatch ran (an empty string: never a user id). */
const RECORDED = '';
/** What {@link planEntries} records for a key whose dispatch runs for the first time. */
const FRESH = Symbol('fresh');

/** An idempotency key as read: absent, of another type, recorded (done), or recorded with stores left (pending). */
type KeyRecord = { state: 'fresh' } | { state: 'wrong'; type: string } | { state: 'done' } | { state: 'pending'; ids: Set<string> };

function keyRecord(type: string, members: string[]): KeyRecord {
  if (type === 'none') return { state: 'fresh' };
  if (type !== 'set') return { state: 'wrong', type };
  const pending = members.filter((member) => member !== RECORDED);
  return pending.length === 0 ? { state: 'done' } : { state: 'pending', ids: new Set(pending) };
}

/** What the batch read under WATCH. */
interface BatchReads {
  online: Map<string, boolean>;
  stored: Map<string, string | null>;
  members: string[];
  keys: Map<string, KeyRecord>;
  now: number;
}

type Planned = EntryOutcome | ((results: TransactionResults) => EntryOutcome);

function planEntries(
  entries: BatchEntry[],
  read: BatchReads,
  caps: BacklogCaps,
  publish: (envelope: string) => void,
): { outcomes: Planned[]; backlogs: Map<string, StoredBacklog>; records: Map<string, typeof FRESH | string[]> } {
  const { online, stored, members, now } = read;
  const backlogs = new Map<string, StoredBacklog>();
  const written = new Map<string, StoredBacklog>();
  const records = new Map<string, typeof FRESH | string[]>();
  const outcomes: Planned[] = [];
  let publishes = 0;
  const receiversAt = (at: number) => (results: TransactionResults) => results[at][1] as number;
  for (const entry of entries) {
    const key = entry.key;
    const record = key === undefined ? undefined : records.has(key) ? ({ state: 'done' } as const) : read.keys.get(key)!;
    if (record?.state === 'wrong') {
      const reason = `WRONGTYPE: ${key} holds a ${record.type}, not a set (nestjs-mesa keeps an idempotency key there); delete that key`;
      outcomes.push({ reason, mayHaveBeenPublished: false, final: true });
      continue;
    }
    if (record?.state === 'done' || (record?.state === 'pending' && entry.kind !== 'sync')) {
      outcomes.push(duplicateResult(entry));
      continue;
    }
    if (entry.kind === 'publish') {
      publish(entry.envelope);
      const at = receiversAt(publishes++);
      outcomes.push((results) => publishedResult(entry, at(results)));
      if (key !== undefined) records.set(key, FRESH);
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
      if (key !== undefined) records.set(key, FRESH);
      continue;
    }
    const { messageJson } = entry;
    const recipients = entry.recipients.slice();
    // an earlier attempt with this key was cut short: only the recipients it left are done now
    const wanted = record?.state === 'pending' ? recipients.filter((id) => record.ids.has(id)) : recipients;
    const live = wanted.filter((id) => online.get(id));
    const offline = wanted.filter((id) => !online.get(id));
    const corrupt = offline.find((id) => backlogOf(backlogs, stored, id, caps, now) === undefined);
    if (corrupt !== undefined) {
      outcomes.push({
        reason: `undelivered_messages field of user ${corrupt} is not a JSON array Mesa can read (Mesa would redeliver none of it); clear it with MesaBacklog.clear()`,
        mayHaveBeenPublished: false,
        final: true,
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
    if (record?.state === 'pending') base.duplicate = true;
    if (key !== undefined) records.set(key, record?.state === 'pending' ? wanted : FRESH);
    if (live.length === 0) outcomes.push({ ...base, receivers: 0 });
    else {
      publish(mesaEnvelope(messageJson, JSON.stringify(live)));
      const at = receiversAt(publishes++);
      outcomes.push((results) => ({ ...base, receivers: at(results) }));
    }
  }
  return { outcomes, backlogs: written, records };
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
