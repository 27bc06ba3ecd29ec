-- KEYS: the entry's value, its bookkeeping hash (cg:m:)
-- ARGV: ttl_ms ('' = the entry's own ttl), tags_json, deps_json: the filing the caller read and renewed
-- (renew.lua) before. Renews the entry's TTL without rewriting it.
-- returns the new TTL in ms; -2 when the entry does not exist; -3 when its filing is no longer the one
-- read (a PUT in between re-filed it, with a fresh TTL of its own)
local value_key, meta_key = KEYS[1], KEYS[2]
local ttl_arg, tags_json, deps_json = ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', value_key) == 0 then return -2 end
local m = redis.call('HMGET', meta_key, 'ttl', 'tags', 'deps')
if (m[2] or '[]') ~= tags_json or (m[3] or '[]') ~= deps_json then return -3 end
local ttl = tonumber(ttl_arg) or tonumber(m[1])
if not ttl then return -2 end
if ttl_arg ~= '' then redis.call('HSET', meta_key, 'ttl', ttl) end
redis.call('PEXPIRE', value_key, ttl)
redis.call('PEXPIRE', meta_key, ttl)
return ttl
