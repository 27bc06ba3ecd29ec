-- ARGV: ns, key, value, ttl_ms, tags_json, deps_json, sliding, if_version, lease, type, compute_ms
-- replies field/value pairs (ScriptReplies.Put reads them): status 'ok' with version and ttl_ms;
-- status 'version_mismatch' with current ('' when the key does not exist); status 'lease_voided'
local ns, key, value = ARGV[1], ARGV[2], ARGV[3]
local ttl = tonumber(ARGV[4])
local tags, deps = decode_array(ARGV[5]), decode_array(ARGV[6])
local sliding, if_version, lease, typ, compute_ms = ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local now = now_ms()
local mkey = K.meta(ns, key)

if lease ~= '' then
  if redis.call('GET', K.lease(ns, key)) ~= lease then return {'status', 'lease_voided'} end
  -- a tag or prefix invalidated since the lease was issued voids it too, although this key was not
  -- live then (its lease could not be found by the invalidation): invalidate.lua records them
  local issued = tonumber(string.match(lease, '%.(%d+)$') or '')
  if issued then
    for _, t in ipairs(tags) do
      local at = redis.call('ZSCORE', K.tags_invalidated(ns), t)
      if at and tonumber(at) >= issued then return {'status', 'lease_voided'} end
    end
    for _, p in ipairs(redis.call('ZRANGEBYSCORE', K.prefixes_invalidated(ns), issued, '+inf')) do
      if string.sub(key, 1, #p) == p then return {'status', 'lease_voided'} end
    end
  end
end
local exists = redis.call('EXISTS', K.value(ns, key)) == 1
if if_version ~= '' then
  local cur = exists and redis.call('HGET', mkey, 'v') or false
  if cur ~= if_version then return {'status', 'version_mismatch', 'current', cur or ''} end
end
if lease ~= '' then redis.call('DEL', K.lease(ns, key)) end

-- drop the previous filing of this key, so re-tagging leaves nothing behind
if exists then
  for _, t in ipairs(decode_array(redis.call('HGET', mkey, 'tags'))) do redis.call('ZREM', K.tag(ns, t), key) end
  for _, d in ipairs(decode_array(redis.call('HGET', mkey, 'deps'))) do redis.call('ZREM', K.dependents(ns, d), key) end
end

local version = tostring(redis.call('INCR', K.version(ns)))
local exp = now + ttl
redis.call('SET', K.value(ns, key), value, 'PX', ttl)
redis.call('DEL', mkey) -- a write clears a soft invalidation's stale mark
redis.call('HSET', mkey, 'v', version, 'tags', json_array(tags), 'deps', json_array(deps), 'sliding', sliding,
    'ttl', ttl, 'type', typ, 'cms', compute_ms)
redis.call('PEXPIRE', mkey, ttl)
for _, t in ipairs(tags) do
  local z = K.tag(ns, t)
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
  redis.call('ZADD', z, exp, key)
  extend(z, ttl)
end
for _, d in ipairs(deps) do
  local z = K.dependents(ns, d)
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
  redis.call('ZADD', z, exp, key)
  extend(z, ttl)
end
redis.call('ZADD', K.live(ns), 0, key)
redis.call('ZADD', K.expiry(ns), exp, key)
sweep(ns, now, 20)
return {'status', 'ok', 'version', version, 'ttl_ms', ttl}
