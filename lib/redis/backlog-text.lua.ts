/**
 * Lua functions the batch script uses on a stored backlog's text (one JSON array of messages), inserted into its
 * body after `max_count` and `max_bytes` (the caps, `0`: none) are defined:
 * - `element_end(text, pos, close)`: where the element starting at `pos` ends (its `,`, or `close`), skipping
 *   strings and nesting; work proportional to that element.
 * - `skip_space(text, pos)`: the first non-space position from `pos`.
 * - `count_elements(run)`: how many elements a run of whole elements (each followed by a comma) holds, with
 *   C-speed `gsub` passes rather than a scan.
 * - `keep_newest(state, inner)`: cuts a backlog to the caps from its end, scanning only what it keeps, and notes
 *   how many it cut off (`state.pending`), reported with the next store.
 */
export const BACKLOG_TEXT_FUNCTIONS = `
-- Position of the ',' (or the array's closing ']' at close) that ends the JSON element starting at pos.
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
local function skip_space(text, pos)
  return string.find(text, '[^ \\t\\r\\n]', pos) or (#text + 1)
end

-- How many elements a run of whole JSON elements holds, each followed by a comma: its top-level commas,
-- counted with C-speed passes (escapes, then strings, then nested objects and arrays removed). A pattern pass
-- costs about 20 ns a byte even when nothing matches, so the escape pass runs only where a backslash is.
local function count_elements(run)
  if string.find(run, '\\\\', 1, true) then run = string.gsub(run, '\\\\.', '') end
  run = string.gsub(run, '"[^"]*"', '')
  run = string.gsub(run, '%b{}', '')
  run = string.gsub(run, '%b[]', '')
  local _, commas = string.gsub(run, ',', '')
  return commas
end

-- Keeps only the newest stored messages that fit the caps, scanning from the end of the text (so the work
-- is bounded by the caps, not by the backlog); what it cuts off is counted, not scanned, and reported with
-- the next store. For backlogs whose count nestjs-mesa did not write (Mesa's own writers) or over the caps.
local function keep_newest(state, inner)
  local text, close = state.text, state.close
  local low = inner
  if max_bytes > 0 and close - max_bytes - 1 > low then low = close - max_bytes - 1 end
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
  if complete then
    kept, cut = kept + 1, inner
  end
  local dropped
  if cut then
    dropped = cut > inner and count_elements(string.sub(text, inner, cut - 1)) or 0
    state.cursor = skip_space(text, cut)
  else
    dropped = count_elements(string.sub(text, inner, close - 1)) + 1
    state.cursor = nil
  end
  if state.cursor and state.cursor >= close then state.cursor = nil end
  state.count, state.pending = kept, dropped
  state.bytes = state.cursor and (close - state.cursor + 2) or 1
end
`;
