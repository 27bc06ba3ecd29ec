-- ARGV: ns, keys_json, ttl_ms, keep. Records that these keys were read together: for each ordered
-- pair, ZINCRBY cg:co:<a> 1 <b>. Each set keeps its `keep` strongest members and expires after ttl_ms.
local ns = ARGV[1]
local keys = decode_array(ARGV[2])
local ttl, keep = tonumber(ARGV[3]), tonumber(ARGV[4])
for _, a in ipairs(keys) do
  local z = K.coaccess(ns, a)
  for _, b in ipairs(keys) do
    if a ~= b then redis.call('ZINCRBY', z, 1, b) end
  end
  redis.call('ZREMRANGEBYRANK', z, 0, -(keep + 1))
  redis.call('PEXPIRE', z, ttl)
end
return #keys
