-- KEYS: the key's co-access zset (cg:co:)
-- ARGV: limit, min_score. returns {key, score, key, score, ...}, strongest first
local out = {}
local r = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[2], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
for i = 1, #r, 2 do
  out[#out + 1] = r[i]
  out[#out + 1] = r[i + 1]
end
return out
