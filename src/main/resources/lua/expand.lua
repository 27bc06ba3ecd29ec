-- KEYS: tags of one slot, two keys each: the tag's zset (cg:t:) and its invalidation record (cg:ti:)
-- ARGV: soft ('1'/'0'), lease_ttl_ms
-- The first step of a tag invalidation: records the time (file.lua refuses a fill leased before it),
-- reads the members, and (unless soft) drops the zset, in one step, so a PUT files either before
-- (its key is read here) or after (into a new zset). returns one array of members per tag
local soft, lease_ttl = ARGV[1] == '1', tonumber(ARGV[2])
local now = now_ms()
local out = {}
for i = 1, #KEYS, 2 do
  local z, rec = KEYS[i], KEYS[i + 1]
  local at = tonumber(redis.call('GET', rec) or '0') or 0
  redis.call('SET', rec, math.max(at, now), 'PX', lease_ttl)
  out[#out + 1] = redis.call('ZRANGEBYSCORE', z, now, '+inf')
  if not soft then redis.call('DEL', z) end
end
return out
