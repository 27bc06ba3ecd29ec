-- KEYS: the tag's zset (cg:t:<tag>)
-- returns the live keys filed under the tag
return redis.call('ZRANGEBYSCORE', KEYS[1], now_ms(), '+inf')
