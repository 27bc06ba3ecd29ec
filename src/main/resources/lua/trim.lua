-- ARGV: ns, max_len, max_age_ms, tail_ttl_ms
-- Trims cg:notices to about max_len entries and max_age_ms, but never past the position of an
-- instance that is still streaming (cg:tails, kept fresh in cg:tailbeat by each notice tail).
-- returns the number of entries removed
local ns = ARGV[1]
local s = ns .. 'cg:notices'
local max_len, max_age, tail_ttl = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()

local dead = redis.call('ZRANGEBYSCORE', ns .. 'cg:tailbeat', '-inf', now - tail_ttl)
for _, m in ipairs(dead) do
  redis.call('ZREM', ns .. 'cg:tailbeat', m)
  redis.call('ZREM', ns .. 'cg:tails', m)
end

-- the cut as {ms, seq}: entries with a smaller id go
local cut_ms, cut_seq = now - max_age, 0
local len = redis.call('XLEN', s)
if len > max_len then
  local over = math.min(len - max_len, 100000)
  local e = redis.call('XRANGE', s, '-', '+', 'COUNT', over + 1)
  local id = e[#e][1]
  local dash = string.find(id, '-', 1, true)
  local ms, seq = tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
  if ms > cut_ms or (ms == cut_ms and seq > cut_seq) then cut_ms, cut_seq = ms, seq end
end
local slowest = redis.call('ZRANGE', ns .. 'cg:tails', 0, 0, 'WITHSCORES')
if slowest[2] then
  local tail_ms = tonumber(slowest[2])
  if tail_ms < cut_ms then cut_ms, cut_seq = tail_ms, 0 end
end
if cut_ms <= 0 then return 0 end
return redis.call('XTRIM', s, 'MINID', string.format('%d-%d', cut_ms, cut_seq))
