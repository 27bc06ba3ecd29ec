-- Shared helpers, prepended to every script by RedisScripts.
--
-- The Redis schema: every key the gateway uses is built by one function of K below, and nowhere else
-- (RedisKeys.java names the same keys for Java, docs/architecture.md's "State in Redis" table lists
-- them with their lifetimes; RedisSchemaTest checks that the three agree). ns = redis.namespace.
local K = {}
function K.value(ns, key) return ns .. key end                 -- string: the entry's value, JSON text, the entry's TTL
function K.meta(ns, key) return ns .. 'cg:m:' .. key end       -- hash: v, tags, deps, sliding, ttl, type, cms, stale; same TTL
function K.coaccess(ns, key) return ns .. 'cg:co:' .. key end  -- zset: keys read with key in multi-gets, score = count
function K.tag(ns, tag) return ns .. 'cg:t:' .. tag end        -- zset: keys filed under tag, score = expiry (ms)
function K.dependents(ns, key) return ns .. 'cg:d:' .. key end -- zset: keys that depend on key, score = expiry (ms)
function K.lease(ns, key) return ns .. 'cg:l:' .. key end      -- string: a fill lease, token.issue_ms, lease TTL
function K.live(ns) return ns .. 'cg:k' end                    -- zset: live keys, scores 0, for prefixes (ZRANGEBYLEX)
function K.expiry(ns) return ns .. 'cg:x' end                  -- zset: live keys, score = expiry (ms), to sweep cg:k
function K.tags_invalidated(ns) return ns .. 'cg:ti' end       -- zset: tags invalidated in the last lease TTL, score = ms
function K.prefixes_invalidated(ns) return ns .. 'cg:pi' end   -- zset: prefixes invalidated in the last lease TTL, score = ms
function K.version(ns) return ns .. 'cg:ver' end               -- string: the version counter
function K.notices(ns) return ns .. 'cg:notices' end           -- stream: the notices
function K.trimmed(ns) return ns .. 'cg:trimmed' end           -- string: id of the last entry the trim removed
function K.tails(ns) return ns .. 'cg:tails' end               -- zset: each instance's streamed position (ms)
function K.tailbeat(ns) return ns .. 'cg:tailbeat' end         -- zset: when each instance last reported it (ms)
function K.epoch(ns) return ns .. 'cg:epoch' end               -- string: a random id of this data set (written from Java)

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
  local expired = redis.call('ZRANGEBYSCORE', K.expiry(ns), '-inf', now, 'LIMIT', 0, limit)
  for _, k in ipairs(expired) do
    if redis.call('EXISTS', K.value(ns, k)) == 0 then
      redis.call('ZREM', K.live(ns), k)
      redis.call('ZREM', K.expiry(ns), k)
    end
  end
  return #expired
end
