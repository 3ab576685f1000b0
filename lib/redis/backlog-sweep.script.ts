import { BACKLOG_TEXT_FUNCTIONS } from './backlog-text.lua.js';
import { REDIS_TIME_LUA } from './redis-time.js';

/**
 * The Lua script of one step of the backlog sweep: removes the expired messages (`{"x":<expiry ms>,…}`, see
 * `backlog-text.lua.ts`) of the users it reads, atomically per step, within a budget of bytes.
 *
 * KEYS: undelivered_messages, the sweep's lock. ARGV: this sweeper's token, the lock's time to live (ms), the
 * HSCAN cursor, the HSCAN COUNT, the step's budget (bytes of stored text read and rewritten, as `backlog_cost`
 * counts them), then users left over by the previous step, read first (HGET). One sweeper runs across the application's
 * replicas: a step finding the lock held by another token does nothing and answers `busy`; otherwise it takes or
 * renews the lock.
 *
 * A backlog this version wrote says on its last message when its earliest message expires (`"m"`): one with
 * nothing expired costs the step reading it (HSCAN returns values) and nothing more. One with expired messages has
 * them removed, visiting only the expired ones when expiries are in order. One an older version wrote with
 * expiries is checked and rewritten in this version's format once. A text Mesa could not read, or one without an
 * expiry that this version did not write, is left alone. Once the budget is spent (the first backlog always goes),
 * the users still to rewrite are returned, for the next step.
 *
 * Returns `{next cursor, messages removed, users changed, bytes read, {users left over…}}` (cursor `0` and no user
 * left over: the pass is over), or `{'busy', 0, 0, 0, {}}`.
 */
const BACKLOG_SWEEP_BODY = `
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return { 'busy', 0, 0, 0, {} } end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return { '0', 0, 0, 0, {} } end
${REDIS_TIME_LUA}
local now = redis_time_ms()
local max_count, max_bytes = 0, 0
${BACKLOG_TEXT_FUNCTIONS}
local budget, spent = tonumber(ARGV[5]), false
local removed, users, read, leftover = 0, 0, 0, {}

local function sweep(id, text)
  if not text then return end
  local at, m = read_tail(text)
  if at and (m == 0 or m > now) then return end
  if not at and not string.find(text, '{"x":', 1, true) then return end
  local cost = backlog_cost(text, function() return now end)
  if spent and cost > budget then
    leftover[#leftover + 1] = id
    budget = 0
    return
  end
  spent, budget = true, budget - cost
  local state = load_backlog(text)
  if state.corrupt or state.m == nil then return end
  remove_expired(state, now)
  if state.changed then
    if state.expired > 0 then removed, users = removed + state.expired, users + 1 end
    local rewritten = backlog_text(state)
    if rewritten then redis.call('HSET', KEYS[1], id, rewritten) else redis.call('HDEL', KEYS[1], id) end
  end
end

for k = 6, #ARGV do
  if budget > 0 then sweep(ARGV[k], redis.call('HGET', KEYS[1], ARGV[k])) else leftover[#leftover + 1] = ARGV[k] end
end
local cursor = ARGV[3]
if budget > 0 then
  local scan = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', ARGV[4])
  local fields = scan[2]
  cursor = scan[1]
  -- reading the values HSCAN returns is part of the step's work
  for k = 2, #fields, 2 do read = read + #fields[k] end
  budget = budget - read
  for k = 1, #fields, 2 do
    if budget > 0 or not spent then sweep(fields[k], fields[k + 1]) else leftover[#leftover + 1] = fields[k] end
  end
end
return { cursor, removed, users, read, leftover }
`;

/** The sweep step, a writing script (`#!lua`; `ScriptRunner` leaves that line out for Redis before 7). */
export const BACKLOG_SWEEP_SCRIPT = `#!lua\n${BACKLOG_SWEEP_BODY}`;

/** Renews the sweep's lock if this sweeper holds it or nobody does (KEYS[1]: the lock; ARGV: the token, ms); 1 when held. */
export const RENEW_SWEEP_LOCK_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** Deletes the sweep's lock if this sweeper holds it (KEYS[1]: the lock; ARGV[1]: the token). */
export const RELEASE_SWEEP_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
