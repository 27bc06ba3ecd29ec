-- KEYS: the entry's value, its bookkeeping hash (cg:m:<key>), the expiry index (cg:x), then the zset of
-- each tag in tags_json (cg:t:<tag>), then of each dependency in deps_json (cg:d:<dep>), in order
-- ARGV: key, ttl_ms ('' = the entry's own ttl), tags_json, deps_json: the filing the caller read
-- (HMGET tags deps, or get.lua's reply). Renews the entry's TTL everywhere it is indexed, without rewriting.
-- returns the new TTL in ms; -2 when the entry does not exist; -3 when its filing is no longer the one
-- read (a PUT in between re-filed it, with a fresh TTL of its own)
local value_key, meta_key, expiry_key = KEYS[1], KEYS[2], KEYS[3]
local key, ttl_arg, tags_json, deps_json = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('EXISTS', value_key) == 0 then return -2 end
local m = redis.call('HMGET', meta_key, 'ttl', 'tags', 'deps')
if (m[2] or '[]') ~= tags_json or (m[3] or '[]') ~= deps_json then return -3 end
local ttl = tonumber(ttl_arg) or tonumber(m[1])
if not ttl then return -2 end
if ttl_arg ~= '' then redis.call('HSET', meta_key, 'ttl', ttl) end
local exp = now_ms() + ttl
redis.call('PEXPIRE', value_key, ttl)
redis.call('PEXPIRE', meta_key, ttl)
for i = 4, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', exp, key)
  extend(KEYS[i], ttl)
end
redis.call('ZADD', expiry_key, 'XX', exp, key)
return ttl
