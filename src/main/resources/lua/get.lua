-- KEYS: the entry's value, its bookkeeping hash (cg:m:), its fill lease (cg:l:)
-- ARGV: want_lease ('1'/'0'), lease_ttl_ms, lease_token
-- a lease handed out is the token with its issue time: token .. '.' .. ms (put.lua reads the time back)
-- replies field/value pairs (ScriptReplies.Get reads them):
-- hit:  status 'hit', value, version, pttl, tags (JSON), type, stale ('1'/''), cms (compute ms), lease ('' or a token),
--       and for a sliding entry renew '1' with deps (JSON) and ttl (ms): the caller renews it (touch.lua),
--       since the tag and dependency zsets to renew are named by this reply
--       a stale (soft-invalidated) entry hands its refresh lease to one caller, asked for or not
-- miss: status 'miss', and lease (the caller's to fill) or retry_after_ms (another caller holds it)
local value_key, meta_key, lease_key = KEYS[1], KEYS[2], KEYS[3]
local want_lease, lease_ttl, lease_token = ARGV[1], tonumber(ARGV[2]), ARGV[3]
-- takes the fill lease if nobody holds it; the token (and its TIME call) only on the paths that lease
local function take_lease()
  local token = lease_token .. '.' .. now_ms()
  if redis.call('SET', lease_key, token, 'NX', 'PX', lease_ttl) then return token end
  return nil
end
local value = redis.call('GET', value_key)
if value then
  local m = redis.call('HMGET', meta_key, 'v', 'tags', 'sliding', 'ttl', 'type', 'stale', 'cms', 'deps')
  local pttl = redis.call('PTTL', value_key)
  local lease = ''
  if m[6] == '1' then lease = take_lease() or '' end
  local reply = {'status', 'hit', 'value', value, 'version', m[1] or '', 'pttl', pttl, 'tags', m[2] or '[]', 'type', m[5] or '',
                 'stale', m[6] or '', 'cms', m[7] or '0', 'lease', lease}
  if m[3] == '1' and m[4] then
    for _, x in ipairs({'renew', '1', 'deps', m[8] or '[]', 'ttl', m[4]}) do reply[#reply + 1] = x end
  end
  return reply
end
if want_lease == '1' then
  local token = take_lease()
  if token then return {'status', 'miss', 'lease', token} end
  return {'status', 'miss', 'retry_after_ms', redis.call('PTTL', lease_key)}
end
return {'status', 'miss'}
