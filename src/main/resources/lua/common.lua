-- Shared helpers, prepended to every script by RedisScripts. Data model (ns = redis.namespace):
--   ns..key            the value, as JSON text, with the entry's TTL
--   ns..'cg:m:'..key   hash: v (version), tags (JSON), deps (JSON), sliding ('1'/'0'), ttl (ms); same TTL
--   ns..'cg:t:'..tag   zset of keys filed under the tag, score = the key's expiry (ms)
--   ns..'cg:d:'..key   zset of keys that depend on key, score = the dependent's expiry (ms)
--   ns..'cg:k'         zset of live keys, all scores 0, for prefix look-ups by ZRANGEBYLEX
--   ns..'cg:x'         zset of live keys, score = expiry (ms), to sweep cg:k
--   ns..'cg:l:'..key   a fill lease: token.issue_ms, with the lease TTL
--   ns..'cg:ti'        zset of tags invalidated in the last lease TTL, score = when (ms); same TTL
--   ns..'cg:pi'        zset of prefixes invalidated in the last lease TTL, score = when (ms); same TTL
--   ns..'cg:ver'       the version counter
--   ns..'cg:notices'   the notice stream
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function json_array(t)
  if #t == 0 then return '[]' end
  return cjson.encode(t)
end

local function decode_array(s)
  if not s or s == '' then return {} end
  local ok, v = pcall(cjson.decode, s)
  if ok and type(v) == 'table' then return v end
  return {}
end

-- a zset that indexes entries lives as long as its longest-lived member
local function extend(zkey, ttl_ms)
  local cur = redis.call('PTTL', zkey)
  if cur >= 0 and cur < ttl_ms then redis.call('PEXPIRE', zkey, ttl_ms) end
  if cur == -1 then redis.call('PEXPIRE', zkey, ttl_ms) end
end

-- forget the index entries of keys that expired on their own (bounded work per call)
local function sweep(ns, now, limit)
  local expired = redis.call('ZRANGEBYSCORE', ns .. 'cg:x', '-inf', now, 'LIMIT', 0, limit)
  for _, k in ipairs(expired) do
    if redis.call('EXISTS', ns .. k) == 0 then
      redis.call('ZREM', ns .. 'cg:k', k)
      redis.call('ZREM', ns .. 'cg:x', k)
    end
  end
  return #expired
end

-- renew an entry's TTL everywhere it is indexed (sliding reads and touch)
local function renew(ns, key, ttl)
  local exp = now_ms() + ttl
  local mkey = ns .. 'cg:m:' .. key
  redis.call('PEXPIRE', ns .. key, ttl)
  redis.call('PEXPIRE', mkey, ttl)
  local m = redis.call('HMGET', mkey, 'tags', 'deps')
  for _, t in ipairs(decode_array(m[1])) do
    redis.call('ZADD', ns .. 'cg:t:' .. t, 'XX', exp, key)
    extend(ns .. 'cg:t:' .. t, ttl)
  end
  for _, d in ipairs(decode_array(m[2])) do
    redis.call('ZADD', ns .. 'cg:d:' .. d, 'XX', exp, key)
    extend(ns .. 'cg:d:' .. d, ttl)
  end
  redis.call('ZADD', ns .. 'cg:x', 'XX', exp, key)
end
