-- ARGV: ns, max_cascade, requests_json, lease_ttl_ms
-- requests_json: [{"keys":[..],"tags":[..],"prefixes":[..],"cascade":bool,"soft":bool,"cause":{..}}, ..]
-- Each request removes its keys, the live keys filed under its tags, the live keys starting with its
-- prefixes and (with cascade) their dependents, voids their leases, and appends one notice.
-- soft: the entries stay, marked stale (the next GET hands one caller the lease to refresh them).
-- The tags and prefixes asked for are also recorded with the time (cg:ti, cg:pi, kept one lease TTL),
-- so a fill of a key that was not live yet, leased before and tagged or named under them, is refused.
-- replies, per request, field/value pairs (ScriptReplies.Invalidated reads them): notice (its stream id),
-- keys (JSON), truncated (0/1: the cascade stopped at max_cascade)
local ns = ARGV[1]
local max_cascade = tonumber(ARGV[2])
local requests = cjson.decode(ARGV[3])
local lease_ttl = tonumber(ARGV[4])
local now = now_ms()
local recorded = false
local results = {}

for _, req in ipairs(requests) do
  local keys, seen = {}, {}
  local function add(k)
    if not seen[k] then seen[k] = true; keys[#keys + 1] = k; return true end
    return false
  end
  for _, k in ipairs(req.keys or {}) do add(k) end
  for _, t in ipairs(req.tags or {}) do
    local z = K.tag(ns, t)
    for _, k in ipairs(redis.call('ZRANGEBYSCORE', z, now, '+inf')) do add(k) end
    if not req.soft then redis.call('DEL', z) end
  end
  for _, p in ipairs(req.prefixes or {}) do
    for _, k in ipairs(redis.call('ZRANGEBYLEX', K.live(ns), '[' .. p, '[' .. p .. '\255')) do add(k) end
  end
  for _, t in ipairs(req.tags or {}) do redis.call('ZADD', K.tags_invalidated(ns), now, t); recorded = true end
  for _, p in ipairs(req.prefixes or {}) do redis.call('ZADD', K.prefixes_invalidated(ns), now, p); recorded = true end
  local truncated = 0
  if req.cascade then
    local added, i = 0, 1
    while i <= #keys and truncated == 0 do
      for _, d in ipairs(redis.call('ZRANGEBYSCORE', K.dependents(ns, keys[i]), now, '+inf')) do
        if not seen[d] then
          if added >= max_cascade then truncated = 1; break end
          add(d)
          added = added + 1
        end
      end
      i = i + 1
    end
  end

  local tags, tag_seen = {}, {}
  for _, t in ipairs(req.tags or {}) do
    if not tag_seen[t] then tag_seen[t] = true; tags[#tags + 1] = t end
  end
  local dels = {}
  for _, k in ipairs(keys) do
    local mkey = K.meta(ns, k)
    local m = redis.call('HMGET', mkey, 'tags', 'deps')
    local filed = m[1] or m[2] -- an entry the gateway wrote (a bare key has no bookkeeping to undo)
    for _, t in ipairs(decode_array(m[1])) do
      if not tag_seen[t] then tag_seen[t] = true; tags[#tags + 1] = t end
      if not req.soft then redis.call('ZREM', K.tag(ns, t), k) end
    end
    dels[#dels + 1] = K.lease(ns, k) -- a fill or refresh begun before this change must not land
    if req.soft then
      if redis.call('EXISTS', K.value(ns, k)) == 1 then redis.call('HSET', mkey, 'stale', '1') end
    else
      dels[#dels + 1] = K.value(ns, k)
      if filed then
        for _, d in ipairs(decode_array(m[2])) do redis.call('ZREM', K.dependents(ns, d), k) end
        dels[#dels + 1] = mkey
        redis.call('ZREM', K.live(ns), k)
        redis.call('ZREM', K.expiry(ns), k)
      end
    end
    if #dels >= 3000 then
      redis.call('DEL', unpack(dels))
      dels = {}
    end
  end
  if #dels > 0 then redis.call('DEL', unpack(dels)) end

  local keys_json = json_array(keys)
  -- not trimmed here: trim.lua trims by length and age without passing an instance's read position
  local id = redis.call('XADD', K.notices(ns), '*',
      'k', keys_json, 't', json_array(tags), 'p', json_array(req.prefixes or {}),
      'c', cjson.encode(req.cause or {source = 'api'}), 'a', tostring(now), 's', req.soft and '1' or '0')
  results[#results + 1] = {'notice', id, 'keys', keys_json, 'truncated', truncated}
end
if recorded then
  for _, z in ipairs({K.tags_invalidated(ns), K.prefixes_invalidated(ns)}) do
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now - lease_ttl)
    if redis.call('EXISTS', z) == 1 then redis.call('PEXPIRE', z, lease_ttl) end
  end
end
sweep(ns, now, 20)
return results
