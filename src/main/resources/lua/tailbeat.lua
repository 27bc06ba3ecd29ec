-- KEYS: the tails' positions (cg:{cg}:tails), their heartbeats (cg:{cg}:tailbeat)
-- ARGV: instance, position_ms. Records how far an instance's notice tail has streamed.
redis.call('ZADD', KEYS[1], tonumber(ARGV[2]), ARGV[1])
redis.call('ZADD', KEYS[2], now_ms(), ARGV[1])
return 1
