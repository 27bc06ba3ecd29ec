-- KEYS: the co-access zset (cg:co:<key>) of each key, in the order of keys_json
-- ARGV: keys_json, ttl_ms, keep. Records that these keys were read together: for each ordered
-- pair, ZINCRBY cg:co:<a> 1 <b>. Each set keeps its `keep` strongest members and expires after ttl_ms.
local keys = decode_array(ARGV[1])
local ttl, keep = tonumber(ARGV[2]), tonumber(ARGV[3])
for i, a in ipairs(keys) do
  local z = KEYS[i]
  for _, b in ipairs(keys) do
    if a ~= b then redis.call('ZINCRBY', z, 1, b) end
  end
  redis.call('ZREMRANGEBYRANK', z, 0, -(keep + 1))
  redis.call('PEXPIRE', z, ttl)
end
return #keys
