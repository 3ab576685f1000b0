import { BACKLOG_TEXT_FUNCTIONS } from './backlog-text.lua.js';
import { REDIS_TIME_LUA } from './redis-time.js';

/**
 * The Lua script that carries a whole batch of coalesced dispatches in one round trip, atomically.
 * `lib/publishing/batch-protocol.ts` encodes its arguments and decodes its replies; read the two together.
 *
 * KEYS: connected_clients, undelivered_messages, this publisher's hold key. ARGV[1]: the channel; ARGV[2]: the layout.
 * - `p`: ARGV[3…] are ready envelopes, each published as it is (the fast path for batches without sync); the
 *   reply is one number, the receivers of them all (one channel, one atomic script: the same subscribers).
 * - `e`: ARGV[3] and ARGV[4] cap each user's stored messages in count and in bytes (`0`: no cap); ARGV[5] is the
 *   budget of this call, in bytes of stored text read and rewritten (`0`: none); ARGV[6] is `c` for a continuation (below),
 *   else empty; ARGV[7] the hold key's time to live (ms). Then, per dispatch, in call order: `p <envelope>`
 *   (publish as it is); `s <message JSON> <ttl> <n> <id 1> … <id n>` (sync: publish to the recipients that are
 *   members of `connected_clients`, store for the others, to expire `ttl` ms later (`0`: never; `@<ms>`: at that
 *   Redis time), or `s <message JSON> <ttl> =<k>` to reuse the k-th list of the batch, or `r <message JSON>` for a sync
 *   with the ttl and the list of the `s` (or `r`) before it (a room's dispatches: two arguments each); `x <message JSON> <n> <id 1>
 *   … <id n>` (broadcast-except: publish to the members of `connected_clients` but these ids; never stored). A
 *   dispatch with an idempotency key is preceded by `i <key> <window ms>`.
 *
 * **Idempotency keys.** The key is a Redis SET (named by the client, `nestjs_mesa_idempotency[_ns]:<registration>:<key>`,
 * passed in ARGV, not KEYS: the module targets standalone and Sentinel Redis, where a script may reach keys it did not
 * declare). It is checked and written in the same atomic call as the dispatch's publish and stores: absent, the
 * dispatch runs and the SET is created with the member `''` (never a user id) and a time to live of the window; present,
 * the dispatch is a duplicate and answers `{3}` (nothing published or stored), and so is a second dispatch with the same
 * key in one call (the first wins). A dispatch whose stores are deferred keeps, in its SET, the ids still to store for;
 * each later call with the key (its own continuations, or a retry of it after it was cut short) handles only the ids
 * still there, taking each off once published to or stored for, and flags the others `4` (done before); so a retry
 * never publishes again what the first call published, and makes exactly the stores that were never made. A refused
 * dispatch records nothing. A key of another type refuses the dispatch.
 *
 * **Bounded work.** Backlogs are Mesa's format, one JSON array per user, so storing rewrites the user's whole text
 * (see `backlog-text.lua.ts`). A call loads offline users' backlogs, each with all of the batch's messages for it,
 * until the budget is spent (the first always); the others are deferred: flag `2` in the reply, and the client sends
 * their stores in continuation calls (`c`), each bounded the same way, where each deferred user is checked again
 * (online then: published to, not stored for). Online recipients are all published to in the first call, in call
 * order. A call that defers sets the hold key (a continuation refreshes it, the last one deletes it); while it is
 * set, a first call of this publisher that stores does nothing and answers `held` (the client sends it again after
 * the continuation), so that no later batch stores for a user before an earlier batch's deferred store.
 *
 * The script runs in three phases, so that nothing it publishes can be followed by a failure: it checks key
 * types and reads everything (membership, backlogs) and decides every reply first; then it publishes; then it
 * writes the backlogs. A dispatch it refuses (a key of the wrong type, a stored text Mesa could not read) gets
 * `{0, reason}` and nothing of it is published or stored; in a continuation, such a user is flagged `3` (not stored)
 * and the others are stored for. With Redis 7 the script declares itself a writing script (`#!lua`), so an
 * out-of-memory or read-only server refuses it before it runs.
 *
 * Every append first removes the user's expired messages (reported in `expired`), then drops the oldest over a cap
 * (reported in `dropped`).
 *
 * Replies for `e`, one per dispatch: receivers (a number) for `p`; `{1, receivers, flags, {id, dropped…}, {id, expired…}}`
 * for `s` (flags: one character per recipient, `1` published to, `0` stored for, `2` deferred, `3` not stored, `4` done
 * by an earlier call with the same key; a sixth element `1` when a first call finishes an earlier attempt's stores).
 * A room's dispatches answer alike, so an `s` reply is compact: flags `''` when they are those of the `s` reply before
 * it in the call, and the two lists left out when both are empty (and no sixth element follows);
 * `{2, receivers, id…}` for `x` (the ids published to); `{3}` for a duplicate; `{0, reason}`. When it deferred users,
 * one more element follows: the Redis time (ms) their messages' expiry counts from.
 */
const DISPATCH_BATCH_BODY = `
local channel, layout = ARGV[1], ARGV[2]
if layout == 'p' then
  -- one atomic script on one channel: every PUBLISH reaches the same subscribers, so one count answers for all
  -- (redis.call and ARGV in locals: two table lookups fewer per envelope, about 4 % of Redis's instructions here)
  local call, argv, receivers = redis.call, ARGV, 0
  for k = 3, #argv do receivers = call('PUBLISH', channel, argv[k]) end
  return receivers
end
local max_count, max_bytes, budget = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if budget == 0 then budget = math.huge end
local continuation, hold_ms = ARGV[6] == 'c', ARGV[7]
local now_ms
${REDIS_TIME_LUA}
-- Redis's clock in ms, read once per call and only when an expiry is written or checked
local function now()
  if not now_ms then now_ms = redis_time_ms() end
  return now_ms
end

-- phase 1: parse, check key types, read, decide
local entries, uses_set, uses_hash, sync_lists, last_sync = {}, false, false, 0, nil
local i = 8
while i <= #ARGV do
  -- a dispatch with an idempotency key: \`i <key> <window ms>\` before its operation
  local key, window
  if ARGV[i] == 'i' then
    key, window = ARGV[i + 1], ARGV[i + 2]
    i = i + 3
  end
  local op = ARGV[i]
  if op == 'p' then
    entries[#entries + 1] = { op = 'p', payload = ARGV[i + 1], key = key, window = window }
    i = i + 2
  elseif op == 'r' then
    -- a sync entry with the ttl and the list of the sync entry before it
    entries[#entries + 1] = { op = 's', message = ARGV[i + 1], key = key, window = window, ttl = last_sync.ttl, ref = last_sync.ref }
    i = i + 2
  else
    local entry = { op = op, message = ARGV[i + 1], key = key, window = window }
    if op == 's' then
      -- a sync entry carries its time to live in ms (0: none; @<ms>: an expiry) before its list
      entry.ttl = ARGV[i + 2]
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
    if op == 's' then
      uses_hash = true
      -- the lists of \`s\` entries are numbered in order (\`=<k>\`): an \`r\` after this one refers to its list by that number
      if not entry.ref then sync_lists = sync_lists + 1 end
      last_sync = { ttl = entry.ttl, ref = entry.ref or sync_lists }
    end
    entries[#entries + 1] = entry
  end
end
if uses_hash and not continuation and redis.call('EXISTS', KEYS[3]) == 1 then return 'held' end
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
-- Each offline user's backlog is loaded once per call, with every message of the batch for it, within the budget
local backlogs, order, deferred, loaded = {}, {}, 0, false
local DEFERRED = { deferred = true }
local function backlog_of(id)
  local state = backlogs[id]
  if state then return state end
  -- near the end of the budget, the size (HSTRLEN, O(1)) decides before the text is read
  if loaded and (budget <= 0 or (budget < 1048576 and hash_error == nil and redis.call('HSTRLEN', KEYS[2], id) + 256 > budget)) then
    budget, backlogs[id], deferred = 0, DEFERRED, deferred + 1
    return DEFERRED
  end
  local text = hash_error == nil and redis.call('HGET', KEYS[2], id) or false
  local cost = backlog_cost(text or nil, now) + 256
  if loaded and cost > budget then
    -- over the budget: this user's stores go to a continuation, and so do those of users not read yet
    budget, backlogs[id], deferred = 0, DEFERRED, deferred + 1
    return DEFERRED
  end
  loaded, budget = true, budget - cost
  state = load_backlog(text or nil)
  if not state.corrupt and state.m and state.m > 0 then remove_expired(state, now()) end
  backlogs[id] = state
  order[#order + 1] = id
  return state
end

-- A recipient list split by membership: who to publish to, who to store for, one flag per recipient. With
-- \`pending\` (an idempotency key whose earlier attempt left stores undone), only the recipients still in it count;
-- the others are flagged 4 (done by that attempt).
local lists = {}
local function split_list(first, n, pending)
  local list = { first = first, n = n, live = {}, offline = {}, flags = {}, offline_at = {} }
  if set_error then return list end
  for k = first, first + n - 1 do
    local id = ARGV[k]
    if pending and (pending == true or redis.call('SISMEMBER', pending, id) == 0) then
      list.flags[#list.flags + 1] = '4'
    elseif is_online(id) then
      list.live[#list.live + 1] = id
      list.flags[#list.flags + 1] = '1'
    else
      list.offline[#list.offline + 1] = id
      list.flags[#list.flags + 1] = '0'
      list.offline_at[#list.offline] = #list.flags
    end
  end
  list.flags_text = table.concat(list.flags)
  if #list.live > 0 then
    local ids = {}
    for k, id in ipairs(list.live) do ids[k] = cjson.encode(id) end
    list.tail = ',"recipients":[' .. table.concat(ids, ',') .. ']}'
  end
  return list
end
local function read_list(first, n)
  local list = split_list(first, n)
  lists[#lists + 1] = list
  return list
end

-- Idempotency keys: a SET per key, holding '' (never a user id) once its dispatch ran, plus, while that dispatch's
-- stores are finished in further calls, the ids still to store for. A key seen earlier in this call counts as done.
local keys_seen, records = {}, {}
local function key_state(entry)
  local key = entry.key
  if keys_seen[key] then return 'done' end
  local kind = redis.call('TYPE', key).ok
  if kind == 'none' then return 'fresh' end
  if kind ~= 'set' then
    return 'wrong', 'WRONGTYPE: ' .. key .. ' holds a ' .. kind .. ', not a set (nestjs-mesa keeps an idempotency key there); delete that key'
  end
  if redis.call('SCARD', key) <= 1 then return 'done' end
  return 'pending'
end
-- What phase 3 writes for a key: \`window\` set: record it, with \`ids\` left to continuations; else take \`ids\` off it.
local function record(key, window, ids)
  records[#records + 1] = { key, window, ids }
  keys_seen[key] = true
end

local replies, publishes, members, last_flags = {}, {}, nil, nil
local not_read = 'undelivered_messages field of user %s is not a JSON array Mesa can read (Mesa would redeliver none of it); clear it with MesaBacklog.clear()'
for index, entry in ipairs(entries) do
  local state, wrong
  if entry.key then state, wrong = key_state(entry) end
  if wrong then
    replies[index] = { 0, wrong }
    -- the list is read all the same: later entries refer to lists by their number
    if entry.op == 's' and not entry.ref then read_list(entry.first, entry.n) end
  elseif entry.op ~= 's' and (state == 'done' or state == 'pending') then
    replies[index] = { 3 }
  elseif entry.op == 'p' then
    publishes[#publishes + 1] = { index, entry.payload }
    replies[index] = 0
    if state then record(entry.key, entry.window, {}) end
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
      if state then record(entry.key, entry.window, {}) end
    end
  elseif state == 'done' and not continuation then
    if not entry.ref then read_list(entry.first, entry.n) end
    replies[index] = { 3 }
  else
    local list = entry.ref and lists[entry.ref] or read_list(entry.first, entry.n)
    if state == 'done' or state == 'pending' then
      -- an attempt with this key ran before: only the recipients it left are done now (none when it finished)
      list = split_list(list.first, list.n, state == 'done' or entry.key)
    end
    local refused = set_error or (#list.offline > 0 and hash_error) or nil
    -- a list found readable stays so for the call: a room's later dispatches skip the check
    if not refused and not continuation and not list.readable then
      for _, id in ipairs(list.offline) do
        if (backlogs[id] or backlog_of(id)).corrupt then
          refused = string.format(not_read, id)
          break
        end
      end
      list.readable = not refused
    end
    if refused then
      replies[index] = { 0, refused }
    else
      -- what is stored carries its expiry first, {"x":<ms>,"op":…}: Mesa rebuilds Message(op, d, t) and drops it
      local expires
      if string.sub(entry.ttl, 1, 1) == '@' then expires = tonumber(string.sub(entry.ttl, 2))
      elseif entry.ttl ~= '0' then expires = now() + tonumber(entry.ttl) end
      local stored = '\\n' .. (expires and ('{"x":' .. expires .. ',' .. string.sub(entry.message, 2)) or entry.message)
      local drops, expired, flags = {}, {}, nil
      -- for the key: the ids done by this call (published to, stored for: needed for a pending key only) and those
      -- left to a continuation
      local done, left = state == 'pending' and {} or nil, {}
      -- a numeric loop, not ipairs: no iterator call per user (Lua 5.1)
      local offline = list.offline
      for k = 1, #offline do
        local id = offline[k]
        local backlog = backlogs[id] or backlog_of(id)
        if backlog.deferred or backlog.corrupt then
          if not flags then
            flags = {}
            for f, flag in ipairs(list.flags) do flags[f] = flag end
          end
          flags[list.offline_at[k]] = backlog.deferred and '2' or '3'
          left[#left + 1] = id
        else
          add_message(backlog, stored, expires)
          local dropped = drop_oldest(backlog)
          if dropped > 0 then
            drops[#drops + 1] = id
            drops[#drops + 1] = dropped
          end
          if backlog.expired > 0 then
            expired[#expired + 1] = id
            expired[#expired + 1] = backlog.expired
            backlog.expired = 0
          end
          if done then done[#done + 1] = id end
        end
      end
      -- compact: '' for the flags of the sync reply before, the empty pair lists left out
      local flags_text = flags and table.concat(flags) or list.flags_text
      local reply = { 1, 0, flags_text == last_flags and '' or flags_text }
      last_flags = flags_text
      local finishes = state == 'pending' and not continuation
      if #drops > 0 or #expired > 0 or finishes then reply[4], reply[5] = drops, expired end
      if finishes then reply[6] = 1 end
      if list.tail then publishes[#publishes + 1] = { index, '{"message":' .. entry.message .. list.tail, 2 } end
      replies[index] = reply
      if state == 'fresh' and not continuation then
        record(entry.key, entry.window, left)
      elseif state == 'pending' then
        for _, id in ipairs(list.live) do done[#done + 1] = id end
        record(entry.key, false, done)
      end
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
  if #state.added > 0 then
    local text = backlog_text(state)
    if text then redis.call('HSET', KEYS[2], id, text) else redis.call('HDEL', KEYS[2], id) end
  end
end
-- and each key: recorded (with the ids left to continuations) for its window, or the ids done taken off it
-- (ids in slices: unpack takes a few thousand values at most)
local function in_slices(command, key, ids)
  for from = 1, #ids, 1000 do redis.call(command, key, unpack(ids, from, math.min(from + 999, #ids))) end
end
for _, written in ipairs(records) do
  local key, window, ids = written[1], written[2], written[3]
  if window then
    redis.call('SADD', key, '')
    in_slices('SADD', key, ids)
    redis.call('PEXPIRE', key, window)
  else
    in_slices('SREM', key, ids)
  end
end
if deferred > 0 then
  redis.call('SET', KEYS[3], '1', 'PX', hold_ms)
  replies[#entries + 1] = now()
elseif continuation then
  redis.call('DEL', KEYS[3])
end
return replies
`;

/** The batch script, a writing script (`#!lua`; `ScriptRunner` leaves that line out for Redis before 7). */
export const DISPATCH_BATCH_SCRIPT = `#!lua\n${DISPATCH_BATCH_BODY}`;
