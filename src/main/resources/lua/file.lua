-- KEYS: filings of one entry, all in one slot, as ARGV[6] spells them, one letter each:
--   't' a tag's zset and its invalidation record (cg:t:, cg:ti:), 'd' a dependency's dependents zset
--   (cg:d:), 's' an index shard's live set, expiry set and prefix invalidation record (cg:k:, cg:x:, cg:pi:)
-- ARGV: key, ttl_ms, issued_ms ('' = no lease), margin_ms, lease_margin_ms, kinds
-- The first step of a PUT: files the key before its value is written (a crash in between leaves a
-- member whose entry does not list it, which readers ignore). Score = now + ttl + margin, only ever
-- raised (GT), so a member outlives its value on any node's clock. With a lease issued at issued_ms,
-- files nothing and returns 0 when a tag here or a prefix of the key was invalidated since (lease_margin:
-- the nodes' clocks may differ by that much). returns 1 when filed
local key, ttl, issued = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local margin, lease_margin, kinds = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local now = now_ms()
if issued then
  local i = 1
  for c in string.gmatch(kinds, '.') do
    if c == 't' then
      local at = redis.call('GET', KEYS[i + 1])
      if at and tonumber(at) + lease_margin >= issued then return 0 end
      i = i + 2
    elseif c == 'd' then
      i = i + 1
    else
      for _, p in ipairs(redis.call('ZRANGEBYSCORE', KEYS[i + 2], issued - lease_margin, '+inf')) do
        if string.sub(key, 1, #p) == p then return 0 end
      end
      i = i + 3
    end
  end
end
local score = now + ttl + margin
local i = 1
for c in string.gmatch(kinds, '.') do
  if c == 's' then
    redis.call('ZADD', KEYS[i], 0, key)
    redis.call('ZADD', KEYS[i + 1], 'GT', score, key)
    i = i + 3
  else
    local z = KEYS[i]
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
    redis.call('ZADD', z, 'GT', score, key)
    extend(z, ttl + margin)
    if c == 't' then i = i + 2 else i = i + 1 end
  end
end
return 1
