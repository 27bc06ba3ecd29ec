-- KEYS: entries of one slot, four keys each: value, bookkeeping hash (cg:m:), fill lease (cg:l:),
-- dependents zset (cg:d:); then, for an invalidation of named keys only whose entries and notice
-- stream share the slot (one Redis), the notice stream (cg:{cg}:notices)
-- ARGV: soft ('1'/'0'), cascade ('1'/'0'), then per entry why it is invalidated: '' (named, or by a
-- prefix: always), or lines 't<tag>' / 'd<key>' (found in that tag's or key's filing: only while the
-- entry's own bookkeeping still lists that tag or dependency, since an old filing is never removed);
-- with the notice stream, then the notice's keys_json and cause_json
-- Removes each entry (soft: marks it stale) and voids its lease. replies one {existed, tags (JSON, ''
-- for none), dependents} per entry: existed 1 when it had a value; dependents (with cascade) from its
-- zset; or, when every entry is reached unconditionally and none has bookkeeping or dependents, only
-- the marker '='. With the notice stream and no dependents to cascade to, this is the whole invalidation: the
-- notice is appended here, as notice.lua would append it after the drop (the named keys, then every
-- dropped entry's tags once, in order), and its id follows the entries in the reply
local soft, cascade = ARGV[1] == '1', ARGV[2] == '1'
local now = now_ms()
local out, dels = {}, {}
local entries = math.floor(#KEYS / 4)
-- every redis.call costs a few microseconds of its own: ask once whether any entry has bookkeeping,
-- or (with cascade) any dependents, and skip the per-entry reads when none has
local function any_of(offset)
  local names = {}
  for i = 1, entries do names[i] = KEYS[4 * i - 4 + offset] end
  return redis.call('EXISTS', unpack(names)) > 0
end
local some_meta = any_of(2)
local some_dependents = cascade and any_of(4)
-- with the notice stream: the notice, as notice.lua would append it (ARGV after the entries' reasons)
local function append_notice(tags_json)
  local a = entries + 3
  return redis.call('XADD', KEYS[#KEYS], '*', 'k', ARGV[a], 't', tags_json, 'p', '[]', 'c', ARGV[a + 1],
      'a', tostring(now), 's', soft and '1' or '0')
end
-- the common case of a batch: named keys (or found by a prefix) that the gateway never wrote or that
-- have no bookkeeping left: one DEL of their values and leases, and no per-entry record (none of
-- them has tags or dependents to report); the reply is the marker '=' (then the notice's id)
local plain = not some_meta and not some_dependents and not soft
if plain then
  for i = 1, entries do
    if ARGV[i + 2] ~= '' then plain = false; break end
  end
end
if plain then
  for i = 1, entries do
    dels[2 * i - 1], dels[2 * i] = KEYS[4 * i - 3], KEYS[4 * i - 1]
  end
  if entries > 0 then redis.call('DEL', unpack(dels)) end
  if #KEYS == 4 * entries then return {'='} end
  return {'=', append_notice('[]')}
end
local no_meta = {false, false}
for i = 1, entries do
  local value_key, meta_key, lease_key, dependents_key = KEYS[4 * i - 3], KEYS[4 * i - 2], KEYS[4 * i - 1], KEYS[4 * i]
  local why = ARGV[i + 2]
  local m = some_meta and redis.call('HMGET', meta_key, 'tags', 'deps') or no_meta
  local valid = why == ''
  if not valid then
    local tags, deps = decode_array(m[1]), decode_array(m[2])
    for line in string.gmatch(why, '[^\n]+') do
      local list, name = (string.sub(line, 1, 1) == 't') and tags or deps, string.sub(line, 2)
      for _, x in ipairs(list) do
        if x == name then valid = true; break end
      end
      if valid then break end
    end
  end
  local existed, tags, dependents = 0, '', {}
  if valid then
    dels[#dels + 1] = lease_key -- a fill or refresh begun before this change must not land
    if m[1] and m[1] ~= '[]' then tags = m[1] end
    if soft then
      existed = redis.call('EXISTS', value_key)
      if existed == 1 then redis.call('HSET', meta_key, 'stale', '1') end
    else
      existed = redis.call('DEL', value_key)
      if m[1] or m[2] then dels[#dels + 1] = meta_key end
    end
    if some_dependents then dependents = redis.call('ZRANGEBYSCORE', dependents_key, now, '+inf') end
  end
  out[i] = {existed, tags, dependents}
end
if #dels > 0 then redis.call('DEL', unpack(dels)) end
if #KEYS == 4 * entries then return out end
for i = 1, entries do
  if #out[i][3] > 0 then return out end -- dependents: the cascade's rounds, then notice.lua
end
local tags, seen, tagged, only = {}, {}, 0, '[]'
for i = 1, entries do
  if out[i][2] ~= '' then
    tagged, only = tagged + 1, out[i][2]
    for _, t in ipairs(decode_array(out[i][2])) do
      if not seen[t] then seen[t] = true; tags[#tags + 1] = t end
    end
  end
end
-- one tagged entry: its tags as written, not re-encoded
out[entries + 1] = append_notice(tagged == 1 and only or json_array(tags))
return out
