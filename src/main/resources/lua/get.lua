-- ARGV: ns, key, want_lease ('1'/'0'), lease_ttl_ms, lease_token
-- a lease handed out is the token with its issue time: token .. '.' .. ms (put.lua reads the time back)
-- hit:  {'hit', value, version, pttl, tags_json, type, stale ('1'/''), compute_ms, lease ('' or a token)}
--       a stale (soft-invalidated) entry hands its refresh lease to one caller, asked for or not
-- miss: {'miss'} | {'miss', token} | {'miss', '', retry_after_ms}
local ns, key, want_lease = ARGV[1], ARGV[2], ARGV[3]
local mkey = K.meta(ns, key)
local lkey = K.lease(ns, key)
local token = ARGV[5] .. '.' .. now_ms()
local value = redis.call('GET', K.value(ns, key))
if value then
  local m = redis.call('HMGET', mkey, 'v', 'tags', 'sliding', 'ttl', 'type', 'stale', 'cms')
  local pttl = redis.call('PTTL', K.value(ns, key))
  if m[3] == '1' and m[4] then
    renew(ns, key, tonumber(m[4]))
    pttl = tonumber(m[4])
  end
  local lease = ''
  if m[6] == '1' and redis.call('SET', lkey, token, 'NX', 'PX', tonumber(ARGV[4])) then lease = token end
  return {'hit', value, m[1] or '', pttl, m[2] or '[]', m[5] or '', m[6] or '', m[7] or '0', lease}
end
if want_lease == '1' then
  if redis.call('SET', lkey, token, 'NX', 'PX', tonumber(ARGV[4])) then
    return {'miss', token}
  end
  return {'miss', '', redis.call('PTTL', lkey)}
end
return {'miss'}
