-- ARGV: ns, key, want_lease ('1'/'0'), lease_ttl_ms, lease_token
-- a lease handed out is the token with its issue time: token .. '.' .. ms (put.lua reads the time back)
-- replies field/value pairs (ScriptReplies.Get reads them):
-- hit:  status 'hit', value, version, pttl, tags (JSON), type, stale ('1'/''), cms (compute ms), lease ('' or a token)
--       a stale (soft-invalidated) entry hands its refresh lease to one caller, asked for or not
-- miss: status 'miss', and lease (the caller's to fill) or retry_after_ms (another caller holds it)
local ns, key, want_lease = ARGV[1], ARGV[2], ARGV[3]
local mkey = K.meta(ns, key)
local lkey = K.lease(ns, key)
-- takes the fill lease if nobody holds it; the token (and its TIME call) only on the paths that lease
local function take_lease()
  local token = ARGV[5] .. '.' .. now_ms()
  if redis.call('SET', lkey, token, 'NX', 'PX', tonumber(ARGV[4])) then return token end
  return nil
end
local value = redis.call('GET', K.value(ns, key))
if value then
  local m = redis.call('HMGET', mkey, 'v', 'tags', 'sliding', 'ttl', 'type', 'stale', 'cms')
  local pttl = redis.call('PTTL', K.value(ns, key))
  if m[3] == '1' and m[4] then
    renew(ns, key, tonumber(m[4]))
    pttl = tonumber(m[4])
  end
  local lease = ''
  if m[6] == '1' then lease = take_lease() or '' end
  return {'status', 'hit', 'value', value, 'version', m[1] or '', 'pttl', pttl, 'tags', m[2] or '[]', 'type', m[5] or '',
          'stale', m[6] or '', 'cms', m[7] or '0', 'lease', lease}
end
if want_lease == '1' then
  local token = take_lease()
  if token then return {'status', 'miss', 'lease', token} end
  return {'status', 'miss', 'retry_after_ms', redis.call('PTTL', lkey)}
end
return {'status', 'miss'}
