-- KEYS: the co-access zsets (cg:co:) of the keys in ARGV[3], all in one slot, in that order
-- ARGV: ttl_ms, keep, members_json (the keys of this slot), keys_json (every key read together)
-- Records that these keys were read together: for each of this slot's keys a, ZINCRBY cg:co:<a> 1 <b>
-- for every other b. Each set keeps its `keep` strongest members and expires after ttl_ms.
local ttl, keep = tonumber(ARGV[1]), tonumber(ARGV[2])
local mine, keys = decode_array(ARGV[3]), decode_array(ARGV[4])
for i, a in ipairs(mine) do
  local z = KEYS[i]
  for _, b in ipairs(keys) do
    if a ~= b then redis.call('ZINCRBY', z, 1, b) end
  end
  redis.call('ZREMRANGEBYRANK', z, 0, -(keep + 1))
  redis.call('PEXPIRE', z, ttl)
end
return #mine
