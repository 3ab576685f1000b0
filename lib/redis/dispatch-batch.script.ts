import { BACKLOG_TEXT_FUNCTIONS } from './backlog-text.lua.js';

/**
 * The Lua script that carries a whole batch of coalesced dispatches in one round trip, atomically.
 * `lib/publishing/batch-protocol.ts` encodes its arguments and decodes its replies; read the two together.
 *
 * KEYS: connected_clients, undelivered_messages. ARGV[1]: the channel; ARGV[2]: the layout.
 * - `p`: ARGV[3…] are ready envelopes, each published as it is (the fast path for batches without sync); the
 *   reply is one number, the receivers of them all (one channel, one atomic script: the same subscribers).
 * - `e`: ARGV[3] and ARGV[4] cap each user's stored messages in count and in bytes (`0`: no cap); then, per
 *   dispatch, in call order: `p <envelope>` (publish as it is); `s <message JSON> <ttl> <n> <id 1> … <id n>` (sync:
 *   publish to the recipients that are members of `connected_clients`, store for the others, to expire `ttl` ms
 *   later, `0`: never), or `s <message JSON> <ttl> =<k>` to reuse the k-th list of the batch;
 *   `x <message JSON> <n> <id 1> … <id n>` (broadcast-except: publish to the members of `connected_clients` but
 *   these ids; never stored).
 *
 * The script runs in three phases, so that nothing it publishes can be followed by a failure: it checks key
 * types and reads everything (membership, backlogs) and decides every reply first; then it publishes; then it
 * writes the backlogs. A dispatch it refuses (a key of the wrong type, a stored field that is not a JSON
 * array) gets `{0, reason}` and nothing of it is published or stored. With Redis 7 the script declares itself
 * a writing script (`#!lua`), so an out-of-memory or read-only server refuses it before it runs.
 *
 * Backlogs keep Mesa's format (one JSON array of messages per user) and are appended at text level. Mesa rebuilds
 * stored messages as `Message(op, d, t)`, so extra fields never reach clients; two are used. The last stored
 * message carries `"n"`, the number of messages in the array, so the count cap is checked in O(1) from the end of
 * the text. A message with a time to live starts with `"x"`, its expiry in ms of Redis time: expired messages at
 * the head of a backlog are removed when it is appended to (the sweep, `backlog-sweep.script.ts`, removes the
 * others). Over a cap, the oldest messages are dropped, scanning only what is dropped.
 *
 * Replies for `e`, one per dispatch: receivers (a number) for `p`; `{1, receivers, flags, {id, dropped…}, {id, expired…}}`
 * for `s` (flags: one character per recipient, `1` published to, `0` stored for; then the users whose oldest
 * stored messages this dispatch pushed out, and those whose expired messages it removed); `{2, receivers, id…}`
 * for `x` (the ids published to); `{0, reason}`.
 */
const DISPATCH_BATCH_BODY = `
local channel, layout = ARGV[1], ARGV[2]
if layout == 'p' then
  -- one atomic script on one channel: every PUBLISH reaches the same subscribers, so one count answers for all
  local receivers = 0
  for k = 3, #ARGV do receivers = redis.call('PUBLISH', channel, ARGV[k]) end
  return receivers
end
local max_count, max_bytes = tonumber(ARGV[3]), tonumber(ARGV[4])
local now_ms
-- Redis's clock in ms, read once per call and only when an expiry is written or checked
local function now()
  if not now_ms then
    local time = redis.call('TIME')
    now_ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  end
  return now_ms
end

-- phase 1: parse, check key types, read, decide
local entries, uses_set, uses_hash = {}, false, false
local i = 5
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'p' then
    entries[#entries + 1] = { op = 'p', payload = ARGV[i + 1] }
    i = i + 2
  else
    local entry = { op = op, message = ARGV[i + 1] }
    if op == 's' then
      -- a sync entry carries its time to live in ms (0: none) before its list
      entry.ttl = tonumber(ARGV[i + 2])
      i = i + 1
    end
    local size = ARGV[i + 2]
    if string.sub(size, 1, 1) == '=' then
      entry.ref = tonumber(string.sub(size, 2))
      i = i + 3
    else
      entry.first, entry.n = i + 3, tonumber(size)
      i = i + 3 + entry.n
    end
    uses_set = true
    if op == 's' then uses_hash = true end
    entries[#entries + 1] = entry
  end
end
local function wrong_type(key, want)
  local kind = redis.call('TYPE', key).ok
  if kind ~= want and kind ~= 'none' then
    return 'WRONGTYPE: ' .. key .. ' holds a ' .. kind .. ', not a ' .. want .. ' (Mesa keeps a ' .. want .. ' there); fix or delete that key'
  end
end
local set_error = uses_set and wrong_type(KEYS[1], 'set') or nil
local hash_error = uses_hash and wrong_type(KEYS[2], 'hash') or nil

local online = {}
local function is_online(id)
  local known = online[id]
  if known == nil then
    known = redis.call('SISMEMBER', KEYS[1], id) == 1
    online[id] = known
  end
  return known
end

${BACKLOG_TEXT_FUNCTIONS}
local backlogs, order = {}, {}
local function backlog_of(id)
  local state = backlogs[id]
  if state then return state end
  state = { added = {}, skip = 0, pending = 0, expired = 0 }
  local text = hash_error == nil and redis.call('HGET', KEYS[2], id) or false
  if text then
    local first, last = skip_space(text, 1), #text
    while last > 0 and string.find(' \\t\\r\\n', string.sub(text, last, last), 1, true) do last = last - 1 end
    if string.byte(text, first) ~= 91 or string.byte(text, last) ~= 93 or last <= first then
      state.corrupt = true
    else
      state.text, state.close, state.bytes = text, last, last - first + 1
      local inner = skip_space(text, first + 1)
      if inner < last then
        state.cursor = inner
        local tail = string.sub(text, -24)
        local at, _, count = string.find(tail, ',"n":(%d+)}%s*%]%s*$')
        if at then
          state.count, state.tail_at = tonumber(count), #text - #tail + at
        end
        local over = (max_bytes > 0 and state.bytes > max_bytes) or (max_count > 0 and (not state.count or state.count > max_count))
        if over then keep_newest(state, inner) end
        -- expired messages at the head go now; the sweep removes those further in
        while state.cursor do
          local expires = string.match(text, '^{"x":(%d+),', state.cursor)
          if not expires or tonumber(expires) > now() then break end
          local ends = element_end(text, state.cursor, last)
          state.bytes = state.bytes - (ends - state.cursor + 1)
          state.cursor = ends < last and skip_space(text, ends + 1) or nil
          if state.count then state.count = state.count - 1 end
          state.expired = state.expired + 1
        end
      else
        state.count = 0
      end
    end
  else
    state.count, state.bytes = 0, 1
  end
  backlogs[id] = state
  order[#order + 1] = id
  return state
end

-- Adds one message to a user's backlog and drops the oldest ones over a cap; returns how many it dropped.
local function store(state, message)
  state.added[#state.added + 1] = message
  state.bytes = state.bytes + #message + 1
  if state.count then state.count = state.count + 1 end
  local dropped = state.pending
  state.pending = 0
  while (max_count > 0 and state.count > max_count) or (max_bytes > 0 and state.bytes > max_bytes) do
    if state.cursor then
      local ends = element_end(state.text, state.cursor, state.close)
      state.bytes = state.bytes - (ends - state.cursor + 1)
      state.cursor = ends < state.close and skip_space(state.text, ends + 1) or nil
    elseif state.skip < #state.added then
      state.skip = state.skip + 1
      state.bytes = state.bytes - (#state.added[state.skip] + 1)
    else
      break
    end
    if state.count then state.count = state.count - 1 end
    dropped = dropped + 1
  end
  return dropped
end

local lists = {}
local function read_list(first, n)
  local list = { live = {}, offline = {}, flags = {} }
  lists[#lists + 1] = list
  if set_error then return list end
  for k = first, first + n - 1 do
    local id = ARGV[k]
    if is_online(id) then
      list.live[#list.live + 1] = id
      list.flags[#list.flags + 1] = '1'
    else
      list.offline[#list.offline + 1] = id
      list.flags[#list.flags + 1] = '0'
    end
  end
  list.flags = table.concat(list.flags)
  if #list.live > 0 then
    local ids = {}
    for k, id in ipairs(list.live) do ids[k] = cjson.encode(id) end
    list.tail = ',"recipients":[' .. table.concat(ids, ',') .. ']}'
  end
  return list
end

local replies, publishes, members = {}, {}, nil
for index, entry in ipairs(entries) do
  if entry.op == 'p' then
    publishes[#publishes + 1] = { index, entry.payload }
    replies[index] = 0
  elseif entry.op == 'x' then
    if set_error then
      replies[index] = { 0, set_error }
    else
      local skip = {}
      for k = entry.first, entry.first + entry.n - 1 do skip[ARGV[k]] = true end
      members = members or redis.call('SMEMBERS', KEYS[1])
      local reply, encoded = { 2, 0 }, {}
      for _, id in ipairs(members) do
        if not skip[id] then
          reply[#reply + 1] = id
          encoded[#encoded + 1] = cjson.encode(id)
        end
      end
      if #encoded > 0 then
        publishes[#publishes + 1] = { index, '{"message":' .. entry.message .. ',"recipients":[' .. table.concat(encoded, ',') .. ']}', 2 }
      end
      replies[index] = reply
    end
  else
    local list = entry.ref and lists[entry.ref] or read_list(entry.first, entry.n)
    local refused = set_error or (#list.offline > 0 and hash_error) or nil
    if not refused then
      for _, id in ipairs(list.offline) do
        if backlog_of(id).corrupt then
          refused = 'undelivered_messages field of user ' .. id .. ' is not a JSON array'
          break
        end
      end
    end
    if refused then
      replies[index] = { 0, refused }
    else
      -- what is stored carries its expiry first, {"x":<ms>,"op":…}: Mesa rebuilds Message(op, d, t) and drops it
      local stored = entry.ttl > 0 and ('{"x":' .. (now() + entry.ttl) .. ',' .. string.sub(entry.message, 2)) or entry.message
      local drops, expired = {}, {}
      for _, id in ipairs(list.offline) do
        local state = backlog_of(id)
        local dropped = store(state, stored)
        if dropped > 0 then
          drops[#drops + 1] = id
          drops[#drops + 1] = dropped
        end
        if state.expired > 0 then
          expired[#expired + 1] = id
          expired[#expired + 1] = state.expired
          state.expired = 0
        end
      end
      local reply = { 1, 0, list.flags, drops, expired }
      if list.tail then publishes[#publishes + 1] = { index, '{"message":' .. entry.message .. list.tail, 2 } end
      replies[index] = reply
    end
  end
end

-- phase 2: publish, in call order
for _, publish in ipairs(publishes) do
  local receivers = redis.call('PUBLISH', channel, publish[2])
  if publish[3] then replies[publish[1]][publish[3]] = receivers else replies[publish[1]] = receivers end
end

-- phase 3: write each stored-to user's backlog once
for _, id in ipairs(order) do
  local state = backlogs[id]
  local kept = #state.added - state.skip
  if #state.added > 0 then
    if kept == 0 and not state.cursor then
      redis.call('HDEL', KEYS[2], id)
    else
      -- the kept stored messages, without the count their last one carried (the new last one carries it)
      local parts = {}
      if state.cursor then
        if state.tail_at and state.tail_at > state.cursor then
          local stale = string.sub(state.text, state.cursor, state.tail_at - 1)
          parts[1] = (kept == 0 and state.count) and (stale .. ',"n":' .. state.count .. '}') or (stale .. '}')
        else
          parts[1] = string.sub(state.text, state.cursor, state.close - 1)
        end
      end
      for k = state.skip + 1, #state.added - 1 do parts[#parts + 1] = state.added[k] end
      local last = state.added[#state.added]
      if kept > 0 and state.count then last = string.sub(last, 1, -2) .. ',"n":' .. state.count .. '}' end
      if kept > 0 then parts[#parts + 1] = last end
      redis.call('HSET', KEYS[2], id, '[' .. table.concat(parts, ',') .. ']')
    end
  end
end
return replies
`;

/** The batch script for Redis 7 and later: a writing script, refused before it runs under OOM or on a replica. */
export const DISPATCH_BATCH_SCRIPT = `#!lua\n${DISPATCH_BATCH_BODY}`;

/** The same script for Redis before 7, which does not read the `#!lua` line. */
export const DISPATCH_BATCH_SCRIPT_LEGACY = DISPATCH_BATCH_BODY;
