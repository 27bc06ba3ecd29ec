-- KEYS: the notice stream (cg:{cg}:notices)
-- ARGV: per notice five values: keys_json, tags_json, prefixes_json, cause_json, soft ('1'/'0')
-- The last step of invalidations, after every delete answered: appends their notices, in order, with
-- one time; returns their ids. Not trimmed here: trim.lua trims by length and age without passing an
-- instance's read position.
local at = tostring(now_ms())
local ids = {}
for i = 1, #ARGV, 5 do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], '*', 'k', ARGV[i], 't', ARGV[i + 1], 'p', ARGV[i + 2], 'c', ARGV[i + 3],
      'a', at, 's', ARGV[i + 4])
end
return ids
