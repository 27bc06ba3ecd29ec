-- KEYS: the live index (cg:k), the expiry index (cg:x), then the value of each candidate, in ARGV's order
-- ARGV: the candidates (keys whose expiry in cg:x has passed, read by the caller with ZRANGEBYSCORE)
-- forgets the index entries of those that really expired; returns how many it forgot
local live_key, expiry_key = KEYS[1], KEYS[2]
local forgot = 0
for i, k in ipairs(ARGV) do
  if redis.call('EXISTS', KEYS[i + 2]) == 0 then
    redis.call('ZREM', live_key, k)
    redis.call('ZREM', expiry_key, k)
    forgot = forgot + 1
  end
end
return forgot
