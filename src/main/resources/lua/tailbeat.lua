-- ARGV: ns, instance, position_ms. Records how far an instance's notice tail has streamed.
local ns = ARGV[1]
redis.call('ZADD', ns .. 'cg:tails', tonumber(ARGV[3]), ARGV[2])
redis.call('ZADD', ns .. 'cg:tailbeat', now_ms(), ARGV[2])
return 1
