-- ARGV: ns, key, ttl_ms ('' = the entry's own ttl). Renews without rewriting.
-- returns the new TTL in ms, or -2 when the entry does not exist
local ns, key = ARGV[1], ARGV[2]
if redis.call('EXISTS', K.value(ns, key)) == 0 then return -2 end
local ttl = tonumber(ARGV[3]) or tonumber(redis.call('HGET', K.meta(ns, key), 'ttl'))
if not ttl then return -2 end
if ARGV[3] ~= '' then redis.call('HSET', K.meta(ns, key), 'ttl', ttl) end
renew(ns, key, ttl)
return ttl
