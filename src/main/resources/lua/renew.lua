-- KEYS: filings of one entry in one slot, as ARGV[4] spells them: 'z' a tag's or dependents zset,
-- 'x' an index shard's expiry set (cg:x:)
-- ARGV: key, ttl_ms, margin_ms, kinds
-- The first step of renewing a sliding entry (touch.lua is the second): raises the key's score to
-- now + ttl + margin where it is filed (XX: never files it anew; GT: never lowers it)
local key, ttl, margin, kinds = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local score = now_ms() + ttl + margin
local i = 1
for c in string.gmatch(kinds, '.') do
  redis.call('ZADD', KEYS[i], 'XX', 'GT', score, key)
  if c == 'z' then extend(KEYS[i], ttl + margin) end
  i = i + 1
end
return 1
