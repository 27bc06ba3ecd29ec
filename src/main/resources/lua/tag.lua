-- ARGV: ns, tag. returns the live keys filed under the tag
local ns, tag = ARGV[1], ARGV[2]
return redis.call('ZRANGEBYSCORE', K.tag(ns, tag), now_ms(), '+inf')
