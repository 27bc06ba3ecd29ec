-- KEYS: the notice stream (cg:{cg}:notices), the tails' positions (cg:{cg}:tails), their heartbeats
-- (cg:{cg}:tailbeat), the last trimmed id (cg:{cg}:trimmed)
-- ARGV: max_len, max_age_ms, tail_ttl_ms, hard_max_len
-- Trims cg:notices to about max_len entries and max_age_ms, but never past the position of an
-- instance that is still streaming (cg:tails, kept fresh in cg:tailbeat by each notice tail), unless
-- the history would exceed hard_max_len: then it trims to that, and a tail left behind learns it from
-- cg:trimmed (the id of the last entry ever removed) and resets its clients.
-- returns the number of entries removed
local s, tails_key, tailbeat_key, trimmed_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local max_len, max_age, tail_ttl, hard_max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()

local dead = redis.call('ZRANGEBYSCORE', tailbeat_key, '-inf', now - tail_ttl)
for _, m in ipairs(dead) do
  redis.call('ZREM', tailbeat_key, m)
  redis.call('ZREM', tails_key, m)
end

-- the cut as {ms, seq}: entries with a smaller id go
local cut_ms, cut_seq = now - max_age, 0
local len = redis.call('XLEN', s)

-- an entry id as {ms, seq}
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end

-- the id of the entry that keeping only `keep` entries would keep first, as {ms, seq}
local function keep_last(keep)
  local over = math.min(len - keep, 100000)
  local e = redis.call('XRANGE', s, '-', '+', 'COUNT', over + 1)
  return parse(e[#e][1])
end

local slowest = redis.call('ZRANGE', tails_key, 0, 0, 'WITHSCORES')
local tail_ms = slowest[2] and tonumber(slowest[2]) or nil
if len > max_len then
  -- skipped while the slowest live tail holds even the oldest entry (a stuck instance): the clamp
  -- below would undo it, and reading ~max_len entries every run would load Redis for nothing
  local first_ms = parse(redis.call('XRANGE', s, '-', '+', 'COUNT', 1)[1][1])
  if tail_ms == nil or tail_ms > first_ms then
    local ms, seq = keep_last(max_len)
    if ms > cut_ms or (ms == cut_ms and seq > cut_seq) then cut_ms, cut_seq = ms, seq end
  end
end
-- tails report only the millisecond of their position: entries of that millisecond are kept
if tail_ms and tail_ms <= cut_ms then cut_ms, cut_seq = tail_ms, 0 end
if len > hard_max then -- a live but stuck instance may not make the history grow without bound
  local ms, seq = keep_last(hard_max)
  if ms > cut_ms or (ms == cut_ms and seq > cut_seq) then cut_ms, cut_seq = ms, seq end
end
if cut_ms <= 0 then return 0 end
local cut = string.format('%d-%d', cut_ms, cut_seq)
local last_removed = redis.call('XREVRANGE', s, '(' .. cut, '-', 'COUNT', 1)
local removed = redis.call('XTRIM', s, 'MINID', cut)
if removed > 0 and last_removed[1] then
  -- only ever forward (several instances trim)
  local id = last_removed[1][1]
  local prev = redis.call('GET', trimmed_key)
  local ms, seq = parse(id)
  local pms, pseq = 0, 0
  if prev then pms, pseq = parse(prev) end
  if ms > pms or (ms == pms and seq > pseq) then redis.call('SET', trimmed_key, id) end
end
return removed
