-- Shared helpers, prepended to every script by RedisScripts. Every script receives each key it
-- touches in KEYS (built by RedisKeys.java), all of one cluster slot, and spells none itself.

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
