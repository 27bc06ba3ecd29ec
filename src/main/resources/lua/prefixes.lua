-- KEYS: one index shard's live set (cg:k:) and prefix invalidation record (cg:pi:)
-- ARGV: lease_ttl_ms, then the prefixes
-- The first step of a prefix invalidation, on each shard: records the prefixes with the time
-- (file.lua refuses a fill leased before it) and returns the shard's keys that start with any of them
local live, rec = KEYS[1], KEYS[2]
local lease_ttl = tonumber(ARGV[1])
local now = now_ms()
local out, seen = {}, {}
for i = 2, #ARGV do
  local p = ARGV[i]
  redis.call('ZADD', rec, now, p)
  for _, k in ipairs(redis.call('ZRANGEBYLEX', live, '[' .. p, '[' .. p .. '\255')) do
    if not seen[k] then seen[k] = true; out[#out + 1] = k end
  end
end
redis.call('ZREMRANGEBYSCORE', rec, '-inf', now - lease_ttl)
redis.call('PEXPIRE', rec, lease_ttl)
return out
