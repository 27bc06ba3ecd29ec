-- KEYS: the notice stream (cg:{cg}:notices)
-- ARGV: since_stream_id, max. Atomic, so a trim cannot slip between the checks and the read.
-- replies field/value pairs (ScriptReplies.History reads them): first, last (stream ids, '' when the
-- stream is empty), found ('1' when the entry since names exists), entries (as XRANGE gives them)
local s = KEYS[1]
local since, max = ARGV[1], tonumber(ARGV[2])
local first = redis.call('XRANGE', s, '-', '+', 'COUNT', 1)
local last = redis.call('XREVRANGE', s, '+', '-', 'COUNT', 1)
local entries, found = {}, '0'
if since ~= '' then
  if #redis.call('XRANGE', s, since, since) > 0 then found = '1' end
  entries = redis.call('XRANGE', s, '(' .. since, '+', 'COUNT', max + 1)
end
return {'first', first[1] and first[1][1] or '', 'last', last[1] and last[1][1] or '', 'found', found, 'entries', entries}
