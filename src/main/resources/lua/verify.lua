-- KEYS: entries of one slot, two keys each: value, bookkeeping hash (cg:m:)
-- ARGV: field ('tags' or 'deps'), name
-- returns the 1-based positions of the entries that exist and whose bookkeeping lists name in field:
-- a tag's or dependents zset may hold members an entry no longer lists (old filings are not removed)
local field, name = ARGV[1], ARGV[2]
local out = {}
for i = 1, #KEYS / 2 do
  if redis.call('EXISTS', KEYS[2 * i - 1]) == 1 then
    for _, x in ipairs(decode_array(redis.call('HGET', KEYS[2 * i], field))) do
      if x == name then out[#out + 1] = i; break end
    end
  end
end
return out
