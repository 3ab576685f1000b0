/**
 * Lua functions the batch script and the sweep share on a stored backlog (one JSON array of messages per user, the
 * format Mesa reads), inserted into their bodies after `max_count` and `max_bytes` (the caps, `0`: none) are defined.
 *
 * **The format this version writes.** Every message it stores starts on a line of its own (`,\n{…}`; JSON allows a
 * line feed between elements, and none can occur inside a compact message), so its messages are found with plain
 * searches for a line feed, never by parsing. Messages written by Mesa or an older version (without a line feed)
 * stay in front, as written ("foreign"). The last message carries the backlog's state as extra fields, which Mesa
 * drops when it rebuilds `Message(op, d, t)`: `"m"` (no message expires before it: a lower bound of the earliest
 * expiry; `0`: none expires), `"l"` (the latest expiry, present only while expiries never decrease along the array)
 * and `"n"` (the number of messages). A message with a time to live starts with `"x"`, its expiry in ms of Redis
 * time. A text whose last message lacks `"m"` was not written by this version: it is checked the way Mesa will
 * read it (`JSON.parse`, then `Message(op, d, t)` of each element) before anything is appended to it, its stray
 * line feeds (whitespace) are removed, and its messages are put on lines of their own if any of them expires.
 *
 * - `load_backlog(text)`: the backlog's state (`corrupt` when Mesa could not read it); `backlog_cost(text, now)`
 *   estimates its work in bytes of a plain rewrite before it is loaded (`now`: a function giving Redis time, ms).
 * - `remove_expired(state, now)`: removes every expired message (a walk over the expired ones when expiries are in
 *   order, over this version's messages otherwise), counted in `state.expired`.
 * - `add_message(state, line, expires)` (line: `'\\n' .. json`), `drop_oldest(state)`: append, and drop from the head over
 *   the caps.
 * - `backlog_text(state)`: the text to write (nil: nothing left).
 */
export const BACKLOG_TEXT_FUNCTIONS = `
local TAIL_RESERVE = 48
local UNTRUSTED_COST, REORDER_COST, WALK_COST = 5, 9, 3

local function skip_space(text, pos)
  return string.find(text, '[^ \\t\\r\\n]', pos) or (#text + 1)
end

-- Position of the ',' (or close) that ends the JSON element starting at pos, skipping strings and nesting.
local function element_end(text, pos, close)
  local depth = 0
  while true do
    local at, _, c = string.find(text, '([%[%]{}",])', pos)
    if not at or at >= close then return close end
    if c == '"' then
      local q = at + 1
      while true do
        q = string.find(text, '["\\\\]', q)
        if not q or q >= close then return close end
        if string.byte(text, q) == 92 then q = q + 2 else break end
      end
      pos = q + 1
    else
      if c == '[' or c == '{' then depth = depth + 1
      elseif c == ']' or c == '}' then depth = depth - 1
      elseif depth == 0 then return at end
      pos = at + 1
    end
  end
end

-- How many elements a run of whole JSON elements holds, each followed by a comma, with C-speed passes.
local function count_elements(run)
  if string.find(run, '\\\\', 1, true) then run = string.gsub(run, '\\\\.', '') end
  run = string.gsub(run, '"[^"]*"', '')
  run = string.gsub(run, '%b{}', '')
  run = string.gsub(run, '%b[]', '')
  local _, commas = string.gsub(run, ',', '')
  return commas
end

-- Where the newest elements that fit the caps start, scanning back from close only over what is kept: the cut
-- position (nil: none kept) and how many elements lie before it (counted, not scanned).
local function cut_newest(text, inner, close)
  local low = inner
  if max_bytes > 0 and close - max_bytes + TAIL_RESERVE > low then low = close - max_bytes + TAIL_RESERVE end
  local rev = string.reverse(string.sub(text, low, close - 1))
  local limit = max_count > 0 and max_count or math.huge
  local kept, cut, depth, pos, complete = 0, nil, 0, 1, false
  while kept < limit do
    local at, _, c = string.find(rev, '([%[%]{}",])', pos)
    if not at then
      complete = low == inner and depth == 0
      break
    end
    if c == '"' then
      local q = at + 1
      while true do
        q = string.find(rev, '"', q, true)
        if not q then break end
        local plain = string.find(rev, '[^\\\\]', q + 1) or (#rev + 1)
        if (plain - q - 1) % 2 == 0 then break end
        q = q + 1
      end
      if not q then break end
      pos = q + 1
    else
      if c == ']' or c == '}' then depth = depth + 1
      elseif c == '[' or c == '{' then depth = depth - 1
      elseif depth == 0 then
        kept, cut = kept + 1, close - at + 1
      end
      pos = at + 1
    end
  end
  if complete then return inner, 0 end
  if not cut then return nil, count_elements(string.sub(text, inner, close - 1)) + 1 end
  cut = skip_space(text, cut)
  if cut >= close then return nil, count_elements(string.sub(text, inner, close - 1)) + 1 end
  return cut, cut > inner and count_elements(string.sub(text, inner, cut - 1)) or 0
end

-- How many messages a Mesa server would redeliver from this JSON text (JSON.parse, then Message(op, d, t) of each
-- element, which throws on null); nil when it would redeliver none and keep the text.
local function mesa_count(body)
  -- control characters are never valid raw, and tab, line feed and return only outside strings
  if string.find(body, '[^ -\\255]') then
    if string.find(body, '[%z\\1-\\8\\11\\12\\14-\\31]') then return nil end
    for s in string.gmatch(string.gsub(body, '\\\\.', ''), '"[^"]*"') do
      if string.find(s, '[\\t\\n\\r]') then return nil end
    end
  end
  local lenient = cjson.decode_invalid_numbers and cjson.decode_invalid_numbers()
  if lenient then cjson.decode_invalid_numbers(false) end
  local ok, value = pcall(cjson.decode, body)
  if not ok and string.find(tostring(value), 'unicode escape', 1, true) then
    -- JSON.parse takes lone surrogate escapes, cjson does not: check the rest with them replaced
    ok, value = pcall(cjson.decode, (string.gsub(body, '\\\\u[dD][89a-fA-F]%x%x', '\\\\u0041')))
  end
  if lenient then cjson.decode_invalid_numbers(true) end
  if not ok then
    -- deeper than cjson goes (1000 levels): taken as JSON.parse takes it once balanced
    if string.find(tostring(value), 'too many nested', 1, true) and string.byte(body, 1) == 91 then
      return count_elements(string.sub(body, 2, -2) .. ',')
    end
    return nil
  end
  if type(value) ~= 'table' or string.byte(body, 1) ~= 91 then return nil end
  for k = 1, #value do
    if value[k] == cjson.null then return nil end
  end
  return #value
end

-- The top-level objects of a valid JSON array text, in order (nil when an element is not an object): strings
-- masked with same-length filler, then each object one %b{} match at the same position as in the text.
local fillers = {}
local function filler(s)
  local fill = fillers[#s]
  if not fill then
    fill = string.rep('_', #s)
    fillers[#s] = fill
  end
  return fill
end
local function split_objects(body)
  local unescaped = string.find(body, '\\\\', 1, true) and string.gsub(body, '\\\\.', '__') or body
  local masked = string.gsub(unescaped, '"[^"]*"', filler)
  if not string.find(string.gsub(masked, '%b{}', ''), '^%s*%[[%s,]*%]%s*$') then return nil end
  local objects = {}
  for first, after in string.gmatch(masked, '()%b{}()') do objects[#objects + 1] = string.sub(body, first, after - 1) end
  return objects
end

-- The expiry a message of ours starts with ({"x":<ms>,…), or nil; at is its line feed.
local function expiry_at(text, at)
  local x = string.match(text, '^{"x":(%d+),', at + 1)
  return x and tonumber(x)
end

-- The earliest and (when in order) latest expiry of a list of message texts; 0, 0 when none expires.
local function expiry_bounds(messages, from)
  local m, l = 0, 0
  for k = from or 1, #messages do
    local x = string.match(messages[k], '^\\n?{"x":(%d+),')
    if x then
      x = tonumber(x)
      if m == 0 or x < m then m = x end
      if l and x >= l then l = x else l = nil end
    end
  end
  return m, l
end

-- A text this version did not write (no "m" on its last message), cut to the caps from its end, then checked and
-- put in this version's format: returns the new text, its count, m and l (m nil: some element is not an object, so
-- expiries stay unknown), how many elements the caps cut off its head; nil when Mesa could not read what is kept.
local function adopt(text, first, last)
  local body, cut_off, cut = text, 0, first + 1
  if max_count > 0 or (max_bytes > 0 and last - first + 1 > max_bytes) then
    -- what the caps keep is found from the end, and only that is checked
    cut, cut_off = cut_newest(text, first + 1, last)
  end
  if cut ~= first + 1 then
    body = cut and ('[' .. string.sub(text, cut, last - 1) .. ']') or '[]'
  elseif first > 1 or last < #text then
    body = string.sub(text, first, last)
  end
  local count = mesa_count(body)
  if not count then return nil end
  if string.find(body, '\\n', 1, true) then body = string.gsub(body, '\\n', '') end
  if not string.find(body, '{"x":', 1, true) then return body, count, 0, 0, cut_off end
  local objects = split_objects(body)
  if not objects then return body, count, nil, nil, cut_off end
  local last_object = objects[#objects]
  local stale = string.find(last_object, ',"n":%d+}$', math.max(1, #last_object - 24))
  if stale then objects[#objects] = string.sub(last_object, 1, stale - 1) .. '}' end
  local m, l = expiry_bounds(objects)
  return '[\\n' .. table.concat(objects, ',\\n') .. ']', #objects, m, l, cut_off
end

-- The state this version writes on the last message: where it starts, m, l (nil: expiries out of order), n.
local function read_tail(text)
  local from = math.max(1, #text - 72)
  local at, _, m, l, n = string.find(text, ',"m":(%d+),"l":(%d+),"n":(%d+)}%]$', from)
  if not at then at, _, m, n = string.find(text, ',"m":(%d+),"n":(%d+)}%]$', from) end
  if at and string.byte(text, 1) == 91 then return at, tonumber(m), l and tonumber(l), tonumber(n) end
end

-- Estimated work of loading and rewriting a stored text, in bytes of a plain rewrite: adopting a text this version
-- did not write costs more, and so does visiting every message for expired ones (expiries out of order).
local function backlog_cost(text, now)
  if not text then return 0 end
  local at, m, l = read_tail(text)
  if at then return (m > 0 and l == nil and m <= now()) and #text * WALK_COST or #text end
  if string.find(text, '{"x":', 1, true) then return #text * (UNTRUSTED_COST + REORDER_COST) end
  return #text * UNTRUSTED_COST
end

-- The state of a stored backlog: runs of kept elements ({first, last, ours}), count, bytes (the text's, without the
-- tail; an empty backlog counts 1, so that each message adds its length, a line feed and a comma),
-- m and l, where the last message's tail starts. corrupt = true when Mesa could not read it.
local function load_backlog(text)
  local state = { runs = {}, added = {}, skip = 0, pending = 0, expired = 0, changed = false, count = 0, bytes = 1, m = 0, l = 0 }
  if not text or text == '' then return state end
  local first, last = skip_space(text, 1), #text
  while last > 0 and string.find(' \\t\\r\\n', string.sub(text, last, last), 1, true) do last = last - 1 end
  if string.byte(text, first) ~= 91 or string.byte(text, last) ~= 93 or last <= first then
    state.corrupt = true
    return state
  end
  local at, m, l, n = read_tail(text)
  if at then
    state.m, state.l, state.count, state.tail_at = m, l, n, at
  else
    local body, count, adopted_m, adopted_l, cut_off = adopt(text, first, last)
    if not body then
      state.corrupt = true
      return state
    end
    text, state.count, state.m, state.l, state.pending, state.changed = body, count, adopted_m, adopted_l, cut_off, true
    last = #text
  end
  state.text, state.close, state.bytes = text, last, last
  if state.tail_at then state.bytes = state.bytes - (last - 1 - state.tail_at) end
  if state.count == 0 then
    state.bytes = 1
    return state
  end
  local lf = string.find(text, '\\n', 2, true)
  local foreign_first = skip_space(text, 2)
  if lf ~= 2 and foreign_first < last then
    local foreign_last = lf and lf - 2 or last - 1
    state.runs[#state.runs + 1] = { foreign_first, foreign_last, false }
  end
  if lf then state.runs[#state.runs + 1] = { lf, last - 1, true } end
  state.last_end = last - 1
  return state
end

-- The bytes of the element at first..ends (its comma included) as the text without the state on its last message
-- counts them: the last message loses its state when it is written again.
local function element_bytes(state, first, ends)
  local bytes = ends - first + 1
  if state.tail_at and first < state.tail_at and ends >= state.last_end then bytes = bytes - (state.last_end - state.tail_at) end
  return bytes
end

-- Removes the first kept element (the oldest); returns false when none is left.
local function remove_first(state)
  local run = state.runs[1]
  if not run then return false end
  local text, first, last = state.text, run[1], run[2]
  local ends
  if run[3] then
    local next_lf = string.find(text, '\\n', first + 1, true)
    ends = (next_lf and next_lf <= last) and next_lf - 1 or last + 1
  else
    ends = element_end(text, first, state.close)
    if ends > last then ends = last + 1 end
  end
  state.bytes = state.bytes - element_bytes(state, first, ends)
  state.count = state.count - 1
  if ends > last then
    table.remove(state.runs, 1)
  else
    run[1] = run[3] and ends + 1 or skip_space(text, ends + 1)
  end
  state.changed = true
  return true
end

-- Removes every expired message: ours are found by their line feeds; in order, only the expired ones are visited.
local function remove_expired(state, now)
  if not state.text or state.m == nil or state.m == 0 or state.m > now then return end
  local text, runs, ordered = state.text, {}, state.l ~= nil
  local m, l, cut, removed = 0, 0, false, 0
  for _, run in ipairs(state.runs) do
    if not run[3] or cut then
      runs[#runs + 1] = run
    else
      local from, at = run[1], run[1]
      while at and at <= run[2] do
        local next_lf = string.find(text, '\\n', at + 1, true)
        if next_lf and next_lf > run[2] then next_lf = nil end
        local x = expiry_at(text, at)
        if x and x <= now then
          if at > from then runs[#runs + 1] = { from, at - 2, true } end
          local ends = next_lf and next_lf - 1 or run[2] + 1
          state.bytes = state.bytes - element_bytes(state, at, ends)
          removed = removed + 1
          from = next_lf or run[2] + 1
        elseif x then
          if m == 0 or x < m then m = x end
          if l and x >= l then l = x else l = nil end
          if ordered then
            cut = true
            break
          end
        end
        at = next_lf
      end
      if from <= run[2] then runs[#runs + 1] = { from, run[2], true } end
    end
  end
  if ordered then l = cut and state.l or l end
  state.runs, state.m, state.l = runs, m, l
  if removed > 0 then
    state.count, state.expired, state.changed = state.count - removed, state.expired + removed, true
  end
end

-- Appends one message, given as its line ('\\n' .. its JSON: made once for all the users it goes to), expiring at
-- expires (nil: never); the caps are applied by drop_oldest.
local function add_message(state, line, expires)
  state.added[#state.added + 1] = line
  state.bytes = state.bytes + #line + 1
  state.count = state.count + 1
  if expires and state.m then
    if state.m == 0 or expires < state.m then state.m = expires end
    if state.l and expires >= state.l then state.l = expires else state.l = nil end
  end
  state.changed = true
end

-- Drops the oldest messages while over a cap; returns how many (with those the adoption cut off).
local function drop_oldest(state)
  local dropped = state.pending
  state.pending = 0
  while (max_count > 0 and state.count > max_count) or (max_bytes > 0 and state.bytes + TAIL_RESERVE > max_bytes) do
    if not remove_first(state) then
      if state.skip >= #state.added then break end
      state.skip = state.skip + 1
      state.bytes = state.bytes - (#state.added[state.skip] + 1)
      state.count = state.count - 1
    end
    dropped = dropped + 1
  end
  return dropped
end

-- The text to write for a changed backlog (nil: nothing left, delete it), built with one concatenation.
local function backlog_text(state)
  if state.count <= 0 then return nil end
  local tail = state.m and (',"m":' .. state.m .. (state.l and (',"l":' .. state.l) or '') .. ',"n":' .. state.count) or (',"n":' .. state.count)
  local parts, text = { '[' }, state.text
  local kept_added = #state.added - state.skip
  for k, run in ipairs(state.runs) do
    local first, last = run[1], run[2]
    local is_last = kept_added == 0 and k == #state.runs
    if k > 1 then parts[#parts + 1] = ',' end
    if last == state.last_end and state.tail_at then
      parts[#parts + 1] = string.sub(text, first, state.tail_at - 1)
      if is_last then parts[#parts + 1] = tail end
      parts[#parts + 1] = '}'
    elseif is_last and string.byte(text, last) == 125 then
      parts[#parts + 1] = string.sub(text, first, last - 1)
      parts[#parts + 1] = tail
      parts[#parts + 1] = '}'
    else
      parts[#parts + 1] = string.sub(text, first, last)
    end
  end
  for k = state.skip + 1, #state.added do
    if #parts > 1 then parts[#parts + 1] = ',' end
    local message = state.added[k]
    if k == #state.added then
      parts[#parts + 1] = string.sub(message, 1, -2)
      parts[#parts + 1] = tail
      parts[#parts + 1] = '}'
    else
      parts[#parts + 1] = message
    end
  end
  parts[#parts + 1] = ']'
  return table.concat(parts)
end
`;
