/**
 * The Lua script that carries a whole batch of coalesced dispatches in one round trip, atomically.
 *
 * KEYS: connected_clients, undelivered_messages. ARGV[1]: the channel; ARGV[2] the layout:
 * - `lines`: ARGV[3] holds ready envelopes joined by newlines (JSON text never contains a raw newline),
 *   each published as it is: the fast path for batches without sync, one argument however many;
 * - `entries`: then, per dispatch, in call order, `p <envelope>` (publish as it is) or
 *   `s <message JSON> <n> <id 1> … <id n>` (sync: publish to the recipients that are members of
 *   `connected_clients`, store for the others); `s <message JSON> =<k>` reuses the k-th recipient list
 *   of the batch (a room's members, sent once however many messages go to them).
 *
 * Each stored-to user's JSON array in `undelivered_messages` is read once and written once per batch,
 * by text-level append (the stored JSON is byte for byte what was dispatched, Mesa's format). A stored
 * field that is not a JSON array fails only the dispatches that would store there; nothing of theirs is
 * published or stored.
 *
 * Returns one reply per dispatch: the number of receivers for a published envelope;
 * `{1, receivers, flags}` for `s`, where flags has one character per recipient, `1` published to
 * (online), `0` stored for (offline); `{0, error}` for a failed one.
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
local online, backlog, user_lists, order, sequence = {}, {}, {}, {}, {}
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
local lists = {}
local function read_list(first, n)
  local list = { live = {}, offline = {}, flags = {}, messages = {} }
  for k = first, first + n - 1 do
    local id = ARGV[k]
    if is_online(id) then
      list.live[#list.live + 1] = id
      list.flags[#list.flags + 1] = '1'
    else
      list.offline[#list.offline + 1] = id
      list.flags[#list.flags + 1] = '0'
      if backlog_of(id).corrupt then list.corrupt = id end
      local in_lists = user_lists[id]
      if not in_lists then
        in_lists = {}
        user_lists[id] = in_lists
        order[#order + 1] = id
      end
      in_lists[#in_lists + 1] = list
    end
  end
  list.flags = table.concat(list.flags)
  if #list.live > 0 then
    local ids = {}
    for k, id in ipairs(list.live) do ids[k] = cjson.encode(id) end
    list.tail = ',"recipients":[' .. table.concat(ids, ',') .. ']}'
  end
  lists[#lists + 1] = list
  return list
end
while i <= #ARGV do
  if ARGV[i] == 'p' then
    replies[#replies + 1] = redis.call('PUBLISH', channel, ARGV[i + 1])
    i = i + 2
  else
    local message, size = ARGV[i + 1], ARGV[i + 2]
    local list
    if string.sub(size, 1, 1) == '=' then
      list = lists[tonumber(string.sub(size, 2))]
      i = i + 3
    else
      list = read_list(i + 3, tonumber(size))
      i = i + 3 + tonumber(size)
    end
    if list.corrupt then
      replies[#replies + 1] = { 0, 'undelivered_messages field of user ' .. list.corrupt .. ' is not a JSON array' }
    else
      list.messages[#list.messages + 1] = message
      sequence[#sequence + 1] = { list, message }
      local receivers = 0
      if list.tail then receivers = redis.call('PUBLISH', channel, '{"message":' .. message .. list.tail) end
      replies[#replies + 1] = { 1, receivers, list.flags }
    end
  end
end
-- Each offline user gets, in call order, the messages of the lists they are in: one shared text for
-- the common case of a user in a single list (a room), a walk over the batch for the others.
local function added_for(in_lists)
  if #in_lists == 1 then
    local list = in_lists[1]
    if #list.messages == 0 then return nil end
    list.joined = list.joined or table.concat(list.messages, ',')
    return list.joined
  end
  local member, parts = {}, {}
  for _, list in ipairs(in_lists) do member[list] = true end
  for _, step in ipairs(sequence) do
    if member[step[1]] then parts[#parts + 1] = step[2] end
  end
  if #parts == 0 then return nil end
  return table.concat(parts, ',')
end
for _, id in ipairs(order) do
  local added = added_for(user_lists[id])
  if added then
    local head = backlog[id].head
    if head then
      redis.call('HSET', KEYS[2], id, head .. ',' .. added .. ']')
    else
      redis.call('HSET', KEYS[2], id, '[' .. added .. ']')
    end
  end
end
return replies
`;
