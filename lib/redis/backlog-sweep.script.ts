/**
 * The Lua script of one step of the backlog sweep: removes the expired messages (`{"x":<expiry ms>,…}`, see
 * `dispatch-batch.script.ts`) of the users one HSCAN step returns, atomically per step.
 *
 * KEYS: undelivered_messages, the sweep's lock. ARGV: this sweeper's token, the lock's time to live (ms), the
 * HSCAN cursor, the HSCAN COUNT. One sweeper runs across the application's replicas: a step finding the lock
 * held by another token does nothing and answers `busy`; otherwise it takes or renews the lock.
 *
 * Only backlogs holding an expiry are read beyond a plain search, and only arrays of objects (Mesa's format)
 * are rewritten. Elements are found with C-speed passes: escapes and strings are masked with same-length
 * filler, then each top-level object is one `%b{}` match, its position the same in the original text.
 * The last kept message carries the new count (`"n"`); a backlog left empty is deleted.
 *
 * Returns `{next cursor, messages removed, users changed}` (cursor `0`: the pass is over), or `{'busy', 0, 0}`.
 */
const BACKLOG_SWEEP_BODY = `
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then return { 'busy', 0, 0 } end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return { '0', 0, 0 } end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local scan = redis.call('HSCAN', KEYS[1], ARGV[3], 'COUNT', ARGV[4])
local fields, removed, users = scan[2], 0, 0
local fillers = {}
local function filler(text)
  local fill = fillers[#text]
  if not fill then
    fill = string.rep('_', #text)
    fillers[#text] = fill
  end
  return fill
end
for k = 1, #fields, 2 do
  local id, text = fields[k], fields[k + 1]
  if string.find(text, '{"x":', 1, true) then
    local unescaped = string.find(text, '\\\\', 1, true) and string.gsub(text, '\\\\.', '__') or text
    local masked = string.gsub(unescaped, '"[^"]*"', filler)
    local outside = string.gsub(masked, '%b{}', '')
    if string.find(outside, '^%s*%[[%s,]*%]%s*$') then
      local kept, gone = {}, 0
      for first, after in string.gmatch(masked, '()%b{}()') do
        local expires = string.match(text, '^{"x":(%d+),', first)
        if expires and tonumber(expires) <= now then
          gone = gone + 1
        else
          kept[#kept + 1] = string.sub(text, first, after - 1)
        end
      end
      if gone > 0 then
        removed, users = removed + gone, users + 1
        if #kept == 0 then
          redis.call('HDEL', KEYS[1], id)
        else
          local last = string.gsub(kept[#kept], ',"n":%d+}$', '}')
          kept[#kept] = string.sub(last, 1, -2) .. ',"n":' .. #kept .. '}'
          redis.call('HSET', KEYS[1], id, '[' .. table.concat(kept, ',') .. ']')
        end
      end
    end
  end
end
return { scan[1], removed, users }
`;

/** The sweep step for Redis 7 and later (a writing script: refused before it runs under OOM or on a replica). */
export const BACKLOG_SWEEP_SCRIPT = `#!lua\n${BACKLOG_SWEEP_BODY}`;

/** The same script for Redis before 7. */
export const BACKLOG_SWEEP_SCRIPT_LEGACY = BACKLOG_SWEEP_BODY;

/** Deletes the sweep's lock if this sweeper holds it (KEYS[1]: the lock; ARGV[1]: the token). */
export const RELEASE_SWEEP_LOCK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
