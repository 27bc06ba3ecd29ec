-- ARGV: ns, since_stream_id, max. Atomic, so a trim cannot slip between the checks and the read.
-- returns {first_id, last_id, entries}; ids are '' when the stream is empty
local s = K.notices(ARGV[1])
local first = redis.call('XRANGE', s, '-', '+', 'COUNT', 1)
local last = redis.call('XREVRANGE', s, '+', '-', 'COUNT', 1)
local entries = {}
if ARGV[2] ~= '' then
  entries = redis.call('XRANGE', s, '(' .. ARGV[2], '+', 'COUNT', tonumber(ARGV[3]) + 1)
end
return {first[1] and first[1][1] or '', last[1] and last[1][1] or '', entries}
