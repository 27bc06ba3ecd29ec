-- KEYS: tags of one slot, two keys each: the tag's zset (cg:t:) and its invalidation record (cg:ti:)
-- ARGV: lease_ttl_ms
-- The first step of a tag invalidation: records the time (file.lua refuses a fill leased before it)
-- and reads the members, in one step, so a PUT files either before (its key is read here) or after.
-- The zset is kept: a PUT that filed before this read may write its value after the delete, and must
-- stay filed for the next invalidation of the tag. returns one array of members per tag
local lease_ttl = tonumber(ARGV[1])
local now = now_ms()
local out = {}
for i = 1, #KEYS, 2 do
  local z, rec = KEYS[i], KEYS[i + 1]
  local at = tonumber(redis.call('GET', rec) or '0') or 0
  redis.call('SET', rec, math.max(at, now), 'PX', lease_ttl)
  out[#out + 1] = redis.call('ZRANGEBYSCORE', z, now, '+inf')
end
return out
