-- ARGV: ns, instance, position_ms. Records how far an instance's notice tail has streamed.
local ns = ARGV[1]
redis.call('ZADD', K.tails(ns), tonumber(ARGV[3]), ARGV[2])
redis.call('ZADD', K.tailbeat(ns), now_ms(), ARGV[2])
return 1
