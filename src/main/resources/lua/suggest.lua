-- ARGV: ns, key, limit, min_score. returns {key, score, key, score, ...}, strongest first
local out = {}
local r = redis.call('ZREVRANGEBYSCORE', K.coaccess(ARGV[1], ARGV[2]), '+inf', ARGV[4], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
for i = 1, #r, 2 do
  out[#out + 1] = r[i]
  out[#out + 1] = r[i + 1]
end
return out
