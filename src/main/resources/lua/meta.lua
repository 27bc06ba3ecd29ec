-- ARGV: ns, key. returns {} when missing, else {version, pttl, tags_json, deps_json, dependents...}
local ns, key = ARGV[1], ARGV[2]
if redis.call('EXISTS', ns .. key) == 0 then return {} end
local m = redis.call('HMGET', ns .. 'cg:m:' .. key, 'v', 'tags', 'deps')
local out = {m[1] or '', redis.call('PTTL', ns .. key), m[2] or '[]', m[3] or '[]'}
for _, d in ipairs(redis.call('ZRANGEBYSCORE', ns .. 'cg:d:' .. key, now_ms(), '+inf')) do out[#out + 1] = d end
return out
