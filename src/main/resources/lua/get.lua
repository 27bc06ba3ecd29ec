-- ARGV: ns, key, want_lease ('1'/'0'), lease_ttl_ms, lease_token
-- returns {'hit', value, version, pttl, tags_json} | {'miss'} | {'miss', token} | {'miss', '', retry_after_ms}
local ns, key, want_lease = ARGV[1], ARGV[2], ARGV[3]
local mkey = ns .. 'cg:m:' .. key
local value = redis.call('GET', ns .. key)
if value then
  local m = redis.call('HMGET', mkey, 'v', 'tags', 'sliding', 'ttl')
  local pttl = redis.call('PTTL', ns .. key)
  if m[3] == '1' and m[4] then
    local ttl = tonumber(m[4])
    local exp = now_ms() + ttl
    redis.call('PEXPIRE', ns .. key, ttl)
    redis.call('PEXPIRE', mkey, ttl)
    for _, t in ipairs(decode_array(m[2])) do
      redis.call('ZADD', ns .. 'cg:t:' .. t, 'XX', exp, key)
      extend(ns .. 'cg:t:' .. t, ttl)
    end
    redis.call('ZADD', ns .. 'cg:x', 'XX', exp, key)
    pttl = ttl
  end
  return {'hit', value, m[1] or '', pttl, m[2] or '[]'}
end
if want_lease == '1' then
  local lkey = ns .. 'cg:l:' .. key
  if redis.call('SET', lkey, ARGV[5], 'NX', 'PX', tonumber(ARGV[4])) then
    return {'miss', ARGV[5]}
  end
  return {'miss', '', redis.call('PTTL', lkey)}
end
return {'miss'}
