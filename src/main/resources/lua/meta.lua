-- ARGV: ns, key. returns {} when missing, else {version, pttl, tags_json, deps_json, dependents...}
local ns, key = ARGV[1], ARGV[2]
if redis.call('EXISTS', K.value(ns, key)) == 0 then return {} end
local m = redis.call('HMGET', K.meta(ns, key), 'v', 'tags', 'deps')
local out = {m[1] or '', redis.call('PTTL', K.value(ns, key)), m[2] or '[]', m[3] or '[]'}
for _, d in ipairs(redis.call('ZRANGEBYSCORE', K.dependents(ns, key), now_ms(), '+inf')) do out[#out + 1] = d end
return out
