/**
 * The Lua script that carries a whole batch of coalesced dispatches in one round trip, atomically.
 *
 * KEYS: connected_clients, undelivered_messages. ARGV[1]: the channel; ARGV[2] the layout; for `entries`,
 * ARGV[3] is the cap on a user's stored messages (`0`: none; the oldest beyond it are dropped and reported):
 * - `lines`: ARGV[3] holds ready envelopes joined by newlines (JSON text never contains a raw newline),
 *   each published as it is: the fast path for batches without sync, one argument however many;
 * - `entries`: then, per dispatch, in call order, `p <envelope>` (publish as it is) or
 *   `s <message JSON> <n> <id 1> … <id n>` (sync: publish to the recipients that are members of
 *   `connected_clients`, store for the others); `s <message JSON> =<k>` reuses the k-th recipient list
 *   of the batch (a room's members, sent once however many messages go to them);
 *   `x <message JSON> <n> <id 1> … <id n>` (broadcast-except: publish to the members of
 *   `connected_clients`, read once per batch, but the n ids; never stored).
 *
 * Each stored-to user's JSON array in `undelivered_messages` is read once and written once per batch,
 * by text-level append (the stored JSON is byte for byte what was dispatched, Mesa's format). A stored
 * field that is not a JSON array fails only the dispatches that would store there; nothing of theirs is
 * published or stored.
 *
 * Returns one reply per dispatch: the number of receivers for a published envelope;
 * `{1, receivers, flags, [id, dropped]…}` for `s`, where flags has one character per recipient, `1`
 * published to (online), `0` stored for (offline), followed by the users whose oldest stored messages
 * this dispatch pushed out under the cap; `{2, receivers, id…}` for `x`, the ids published to
 * (none: nothing published); `{0, error}` for a failed one.
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
local cap = tonumber(ARGV[3])
local online, backlog, user_lists, order, sequence = {}, {}, {}, {}, {}
local replies = {}
local i = 4
local function is_online(id)
  local known = online[id]
  if known == nil then
    known = redis.call('SISMEMBER', KEYS[1], id) == 1
    online[id] = known
  end
  return known
end
-- Positions of the commas between the elements of a JSON array text (skipping strings and nesting):
-- how a capped backlog counts and trims its oldest messages without re-encoding them.
local function top_level_commas(text)
  local commas, depth, pos = {}, 0, 1
  while true do
    local at, _, c = string.find(text, '([%[%]{}",])', pos)
    if not at then return commas end
    if c == '"' then
      local close = at + 1
      while true do
        local q = string.find(text, '["\\\\]', close)
        if not q then return commas end
        if string.byte(text, q) == 92 then close = q + 2 else close = q + 1; break end
      end
      pos = close
    else
      if c == '[' or c == '{' then depth = depth + 1
      elseif c == ']' or c == '}' then depth = depth - 1
      elseif depth == 1 then commas[#commas + 1] = at end
      pos = at + 1
    end
  end
end
local function backlog_of(id)
  local state = backlog[id]
  if state == nil then
    local stored = redis.call('HGET', KEYS[2], id)
    if not stored or string.match(stored, '^%s*%[%s*%]%s*$') then
      state = { head = false, count = 0, initial = 0, dropped = 0 }
    else
      local head = string.match(stored, '^%s*(%[.*)%]%s*$')
      if not head then
        state = { corrupt = true }
      elseif cap > 0 then
        local commas = top_level_commas(head)
        state = { head = head, commas = commas, count = #commas + 1, initial = #commas + 1, dropped = 0 }
      else
        state = { head = head }
      end
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
local members
while i <= #ARGV do
  if ARGV[i] == 'p' then
    replies[#replies + 1] = redis.call('PUBLISH', channel, ARGV[i + 1])
    i = i + 2
  elseif ARGV[i] == 'x' then
    local n = tonumber(ARGV[i + 2])
    local skip = {}
    for k = i + 3, i + 2 + n do skip[ARGV[k]] = true end
    members = members or redis.call('SMEMBERS', KEYS[1])
    local reply, encoded = { 2, 0 }, {}
    for _, id in ipairs(members) do
      if not skip[id] then
        reply[#reply + 1] = id
        encoded[#encoded + 1] = cjson.encode(id)
      end
    end
    if #encoded > 0 then
      reply[2] = redis.call('PUBLISH', channel, '{"message":' .. ARGV[i + 1] .. ',"recipients":[' .. table.concat(encoded, ',') .. ']}')
    end
    replies[#replies + 1] = reply
    i = i + 3 + n
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
      local reply = { 1, receivers, list.flags }
      if cap > 0 then
        for _, id in ipairs(list.offline) do
          local state = backlog[id]
          state.count = state.count + 1
          if state.count > cap then
            reply[#reply + 1] = id
            reply[#reply + 1] = state.count - cap
            state.dropped = state.dropped + state.count - cap
            state.count = cap
          end
        end
      end
      replies[#replies + 1] = reply
    end
  end
end
-- Each offline user gets, in call order, the messages of the lists they are in: one shared list for
-- the common case of a user in a single list (a room), a walk over the batch for the others.
local function added_for(in_lists)
  if #in_lists == 1 then return in_lists[1].messages, in_lists[1] end
  local member, parts = {}, {}
  for _, list in ipairs(in_lists) do member[list] = true end
  for _, step in ipairs(sequence) do
    if member[step[1]] then parts[#parts + 1] = step[2] end
  end
  return parts
end
for _, id in ipairs(order) do
  local added, list = added_for(user_lists[id])
  if #added > 0 then
    local state = backlog[id]
    local head, drop = state.head, state.dropped or 0
    local existing = state.initial or 0
    local text
    if drop >= existing and drop > 0 then
      text = '[' .. table.concat(added, ',', drop - existing + 1, #added) .. ']'
    else
      if list then
        list.joined = list.joined or table.concat(added, ',')
        text = list.joined
      else
        text = table.concat(added, ',')
      end
      if drop > 0 then head = '[' .. string.sub(head, state.commas[drop] + 1) end
      text = head and (head .. ',' .. text .. ']') or ('[' .. text .. ']')
    end
    redis.call('HSET', KEYS[2], id, text)
  end
end
return replies
`;
