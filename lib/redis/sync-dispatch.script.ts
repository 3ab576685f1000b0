import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import type { MesaRedisNames } from './mesa-redis-names.js';

/**
 * One dispatch in sync mode, atomically and in one round trip whatever the number of recipients:
 * split the recipients into online (members of `connected_clients`) and offline, append the message
 * to each offline recipient's JSON array in `undelivered_messages` (text-level append, so the stored
 * JSON is byte-for-byte what was dispatched), then publish the envelope to the online ones.
 * A stored field that is not a JSON array aborts the whole dispatch before anything is written.
 *
 * KEYS: connected_clients, undelivered_messages. ARGV: channel, message JSON, recipient ids...
 * Returns { receivers, online ids, stored ids }.
 */
export const SYNC_DISPATCH_SCRIPT = `
local online, offline, backlogs = {}, {}, {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('SISMEMBER', KEYS[1], id) == 1 then
    online[#online + 1] = id
  else
    local backlog = redis.call('HGET', KEYS[2], id)
    local head = false
    if backlog then
      if string.match(backlog, '^%s*%[%s*%]%s*$') then
        head = false
      else
        head = string.match(backlog, '^%s*(%[.*)%]%s*$')
        if not head then
          return redis.error_reply('undelivered_messages field of user ' .. id .. ' is not a JSON array')
        end
      end
    end
    offline[#offline + 1] = id
    backlogs[#offline] = head
  end
end
for i, id in ipairs(offline) do
  local head = backlogs[i]
  if head then
    redis.call('HSET', KEYS[2], id, head .. ',' .. ARGV[2] .. ']')
  else
    redis.call('HSET', KEYS[2], id, '[' .. ARGV[2] .. ']')
  end
end
local receivers = 0
if #online > 0 then
  local ids = {}
  for i, id in ipairs(online) do ids[i] = cjson.encode(id) end
  receivers = redis.call('PUBLISH', ARGV[1], '{"message":' .. ARGV[2] .. ',"recipients":[' .. table.concat(ids, ',') .. ']}')
end
return { receivers, online, offline }
`;

const SYNC_DISPATCH_SHA = createHash('sha1').update(SYNC_DISPATCH_SCRIPT).digest('hex');

/** What the sync script did. */
export interface SyncDispatchOutcome {
  receivers: number;
  online: string[];
  stored: string[];
}

/**
 * Runs {@link SYNC_DISPATCH_SCRIPT} by its SHA, loading it with EVAL when the server answers NOSCRIPT
 * (first use, or after a restart or SCRIPT FLUSH). Commands on one connection keep call order.
 */
export async function runSyncDispatch(
  client: Redis,
  names: MesaRedisNames,
  messageJson: string,
  recipients: readonly string[],
): Promise<SyncDispatchOutcome> {
  const args = [names.connectedClients, names.undeliveredMessages, names.channel, messageJson, ...recipients];
  let reply: unknown;
  try {
    reply = await client.evalsha(SYNC_DISPATCH_SHA, 2, ...args);
  } catch (error) {
    if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
    reply = await client.eval(SYNC_DISPATCH_SCRIPT, 2, ...args);
  }
  const [receivers, online, stored] = reply as [number, string[], string[]];
  return { receivers, online, stored };
}
