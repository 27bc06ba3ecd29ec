-- KEYS: the entry's value, its bookkeeping hash (cg:m:), its fill lease (cg:l:), its slot's version counter (cg:ver:)
-- ARGV: value, ttl_ms, tags_json, deps_json, sliding, if_version, lease, type, compute_ms, refused ('1': file.lua
-- refused the lease; it is released, so the next reader can take one, and nothing is written)
-- The second step of a PUT, after file.lua filed the key: checks the lease and ifVersion, writes.
-- replies field/value pairs (ScriptReplies.Put reads them): status 'ok' with version and ttl_ms;
-- status 'version_mismatch' with current ('' when the key does not exist); status 'lease_voided'
local value_key, meta_key, lease_key, version_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local value, ttl, tags_json, deps_json = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local sliding, if_version, lease, typ, compute_ms = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
if ARGV[10] == '1' then
  if lease ~= '' and redis.call('GET', lease_key) == lease then redis.call('DEL', lease_key) end
  return {'status', 'lease_voided'}
end
if lease ~= '' and redis.call('GET', lease_key) ~= lease then return {'status', 'lease_voided'} end
local exists = redis.call('EXISTS', value_key) == 1
if if_version ~= '' then
  local cur = exists and redis.call('HGET', meta_key, 'v') or false
  if cur ~= if_version then return {'status', 'version_mismatch', 'current', cur or ''} end
end
if lease ~= '' then redis.call('DEL', lease_key) end
local version = tostring(redis.call('INCR', version_key))
redis.call('SET', value_key, value, 'PX', ttl)
redis.call('DEL', meta_key) -- a write clears a soft invalidation's stale mark
redis.call('HSET', meta_key, 'v', version, 'tags', tags_json, 'deps', deps_json, 'sliding', sliding,
    'ttl', ttl, 'type', typ, 'cms', compute_ms)
redis.call('PEXPIRE', meta_key, ttl)
return {'status', 'ok', 'version', version, 'ttl_ms', ttl}
