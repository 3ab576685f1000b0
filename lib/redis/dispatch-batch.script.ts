/**
 * The Lua script that carries a whole batch of coalesced dispatches in one round trip, atomically.
 *
 * KEYS: connected_clients, undelivered_messages. ARGV[1]: the channel; ARGV[2] the layout:
 * - `lines`: ARGV[3] holds ready envelopes joined by newlines (JSON text never contains a raw newline),
 *   each published as it is: the fast path for batches without sync, one argument however many;
 * - `entries`: then, per dispatch, in call order, `p <envelope>` (publish as it is) or
 *   `s <message JSON> <n> <id 1> … <id n>` (sync: publish to the recipients that are members of
 *   `connected_clients`, store for the others).
 *
 * Each stored-to user's JSON array in `undelivered_messages` is read once and written once per batch,
 * by text-level append (the stored JSON is byte for byte what was dispatched, Mesa's format). A stored
 * field that is not a JSON array fails only the dispatches that would store there; nothing of theirs is
 * published or stored.
 *
 * Returns one reply per dispatch: the number of receivers for a published envelope;
 * `{1, receivers, online ids, stored ids}` for `s`; `{0, error}` for a failed one.
 */
export const DISPATCH_BATCH_SCRIPT = `
local channel = ARGV[1]
if ARGV[2] == 'lines' then
  local replies = {}
  for envelope in string.gmatch(ARGV[3], '[^\\n]+') do
    replies[#replies + 1] = redis.call('PUBLISH', channel, envelope)
  end
  return replies
end
local online, backlog, pending, order = {}, {}, {}, {}
local replies = {}
local i = 3
local function is_online(id)
  local known = online[id]
  if known == nil then
    known = redis.call('SISMEMBER', KEYS[1], id) == 1
    online[id] = known
  end
  return known
end
local function backlog_of(id)
  local state = backlog[id]
  if state == nil then
    local stored = redis.call('HGET', KEYS[2], id)
    if not stored or string.match(stored, '^%s*%[%s*%]%s*$') then
      state = { head = false }
    else
      local head = string.match(stored, '^%s*(%[.*)%]%s*$')
      if head then state = { head = head } else state = { corrupt = true } end
    end
    backlog[id] = state
  end
  return state
end
while i <= #ARGV do
  if ARGV[i] == 'p' then
    replies[#replies + 1] = redis.call('PUBLISH', channel, ARGV[i + 1])
    i = i + 2
  else
    local message, n = ARGV[i + 1], tonumber(ARGV[i + 2])
    local live, offline, failed = {}, {}, false
    for k = i + 3, i + 2 + n do
      local id = ARGV[k]
      if is_online(id) then
        live[#live + 1] = id
      else
        offline[#offline + 1] = id
        if backlog_of(id).corrupt then failed = id end
      end
    end
    i = i + 3 + n
    if failed then
      replies[#replies + 1] = { 0, 'undelivered_messages field of user ' .. failed .. ' is not a JSON array' }
    else
      for _, id in ipairs(offline) do
        if not pending[id] then pending[id] = {}; order[#order + 1] = id end
        table.insert(pending[id], message)
      end
      local receivers = 0
      if #live > 0 then
        local ids = {}
        for k, id in ipairs(live) do ids[k] = cjson.encode(id) end
        receivers = redis.call('PUBLISH', channel, '{"message":' .. message .. ',"recipients":[' .. table.concat(ids, ',') .. ']}')
      end
      replies[#replies + 1] = { 1, receivers, live, offline }
    end
  end
end
for _, id in ipairs(order) do
  local added = table.concat(pending[id], ',')
  local head = backlog[id].head
  if head then
    redis.call('HSET', KEYS[2], id, head .. ',' .. added .. ']')
  else
    redis.call('HSET', KEYS[2], id, '[' .. added .. ']')
  end
end
return replies
`;
