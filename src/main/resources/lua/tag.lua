-- KEYS: the tag's zset (cg:t:)
-- returns the members filed under the tag whose score has not passed (verify.lua checks them)
return redis.call('ZRANGEBYSCORE', KEYS[1], now_ms(), '+inf')
