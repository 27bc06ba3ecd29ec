-- KEYS: the entry's value, its bookkeeping hash (cg:m:), its dependents zset (cg:d:)
-- replies {} when missing, else field/value pairs (ScriptReplies.Meta reads them):
-- version, pttl, tags (JSON), deps (JSON), dependents (the zset's members: verify.lua checks them)
local value_key, meta_key, dependents_key = KEYS[1], KEYS[2], KEYS[3]
if redis.call('EXISTS', value_key) == 0 then return {} end
local m = redis.call('HMGET', meta_key, 'v', 'tags', 'deps')
return {'version', m[1] or '', 'pttl', redis.call('PTTL', value_key), 'tags', m[2] or '[]', 'deps', m[3] or '[]',
        'dependents', redis.call('ZRANGEBYSCORE', dependents_key, now_ms(), '+inf')}
