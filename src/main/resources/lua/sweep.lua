-- KEYS: one index shard's live set (cg:k:) and expiry set (cg:x:)
-- ARGV: limit. Forgets the shard's keys whose score (expiry + margin) has passed: their values are
-- gone on any node's clock. returns how many it forgot
local live_key, expiry_key = KEYS[1], KEYS[2]
local expired = redis.call('ZRANGEBYSCORE', expiry_key, '-inf', now_ms(), 'LIMIT', 0, tonumber(ARGV[1]))
for _, k in ipairs(expired) do
  redis.call('ZREM', live_key, k)
  redis.call('ZREM', expiry_key, k)
end
return #expired
