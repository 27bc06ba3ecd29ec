-- ARGV: ns, key. replies {} when missing, else field/value pairs (ScriptReplies.Meta reads them):
-- version, pttl, tags (JSON), deps (JSON), dependents (an array of keys)
local ns, key = ARGV[1], ARGV[2]
if redis.call('EXISTS', K.value(ns, key)) == 0 then return {} end
local m = redis.call('HMGET', K.meta(ns, key), 'v', 'tags', 'deps')
return {'version', m[1] or '', 'pttl', redis.call('PTTL', K.value(ns, key)), 'tags', m[2] or '[]', 'deps', m[3] or '[]',
        'dependents', redis.call('ZRANGEBYSCORE', K.dependents(ns, key), now_ms(), '+inf')}
