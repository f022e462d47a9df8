import type { RedisScript } from './redis-types.js';

// Lua of presence (redis-presence.ts). Keys of one presence scope (a room, or `~user:ID`), all
// with the scope's hash tag:
//   z  ZSET user → when they came online (µs on Redis' clock, unique in the scope: the order
//      of `members` and the page cursor), so a count is ZCARD and a page is ZRANGE BYSCORE
//   c  HASH user → how many node instances hold them
//   u  HASH user → JSON {id,name}
//   i  SET  instances with entries in the scope
//   m:INSTANCE  SET users that instance holds
// Every call is O(1) or O(log n) in the scope's size; sweeps and resyncs are O(their chunk).
// Scores are passed to Redis as strings (%.0f): Lua's own number formatting keeps 14 digits.

/** Shared Lua: `now` µs on Redis' clock; `online_at` a fresh score, above every score in z. */
const CLOCK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function online_at(z)
  local top = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
  local s = now
  if top[2] ~= nil and tonumber(top[2]) >= s then s = tonumber(top[2]) + 1 end
  return string.format('%.0f', s)
end
`;

/** Shared Lua: one instance more holds `uid`; true when nobody held them before. */
const HOLD = `
local function hold(z, c, uid)
  if redis.call('HINCRBY', c, uid, 1) == 1 then
    redis.call('ZADD', z, online_at(z), uid)
    return true
  end
  return false
end
local function release(z, c, u, uid)
  if redis.call('HINCRBY', c, uid, -1) <= 0 then
    local json = redis.call('HGET', u, uid)
    redis.call('HDEL', c, uid)
    redis.call('HDEL', u, uid)
    redis.call('ZREM', z, uid)
    return json or cjson.encode({id = uid, name = uid})
  end
  return nil
end
`;

export const PRESENCE_SCRIPTS = {
  // KEYS z c u i mine; ARGV instance, uid, json. Returns {changed, online}.
  add: {
    name: 'presenceAdd',
    keys: 5,
    lua: `${CLOCK}${HOLD}
local changed = 0
if redis.call('SADD', KEYS[5], ARGV[2]) == 1 then
  redis.call('SADD', KEYS[4], ARGV[1])
  if hold(KEYS[1], KEYS[2], ARGV[2]) then changed = 1 end
end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return {changed, redis.call('ZCARD', KEYS[1])}`,
  },
  // KEYS z c u i mine; ARGV instance, uid. Returns {changed, online}.
  remove: {
    name: 'presenceRemove',
    keys: 5,
    lua: `${CLOCK}${HOLD}
local changed = 0
if redis.call('SREM', KEYS[5], ARGV[2]) == 1 then
  if redis.call('SCARD', KEYS[5]) == 0 then redis.call('SREM', KEYS[4], ARGV[1]) end
  if release(KEYS[1], KEYS[2], KEYS[3], ARGV[2]) then changed = 1 end
end
return {changed, redis.call('ZCARD', KEYS[1])}`,
  },
  // KEYS z u; ARGV after-score (exclusive, '-inf' for the first page), limit.
  // Returns {online, score, json, score, json…}.
  page: {
    name: 'presencePage',
    keys: 2,
    lua: `
local ids = redis.call('ZRANGE', KEYS[1], ARGV[1], '+inf', 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]), 'WITHSCORES')
local out = {redis.call('ZCARD', KEYS[1])}
if #ids == 0 then return out end
local names = {}
for i = 1, #ids, 2 do names[#names + 1] = ids[i] end
local json = redis.call('HMGET', KEYS[2], unpack(names))
for i = 1, #names do
  out[#out + 1] = ids[2 * i]
  out[#out + 1] = json[i] or cjson.encode({id = names[i], name = names[i]})
end
return out`,
  },
  // KEYS z u; ARGV uid…. Returns {online, json of those online…}.
  among: {
    name: 'presenceAmong',
    keys: 2,
    lua: `
local out = {redis.call('ZCARD', KEYS[1])}
if #ARGV == 0 then return out end
local json = redis.call('HMGET', KEYS[2], unpack(ARGV))
for i = 1, #ARGV do if json[i] then out[#out + 1] = json[i] end end
return out`,
  },
  // A dead instance's entries, at most ARGV[2] of them. KEYS z c u i theirs; ARGV instance,
  // chunk. Returns {online, done (1: nothing of theirs left here), json of users gone…}.
  sweep: {
    name: 'presenceSweep',
    keys: 5,
    lua: `${CLOCK}${HOLD}
local out = {0, 0}
local users = redis.call('SPOP', KEYS[5], tonumber(ARGV[2]))
for _, uid in ipairs(users) do
  local json = release(KEYS[1], KEYS[2], KEYS[3], uid)
  if json then out[#out + 1] = json end
end
if redis.call('SCARD', KEYS[5]) == 0 then
  redis.call('SREM', KEYS[4], ARGV[1])
  out[2] = 1
end
out[1] = redis.call('ZCARD', KEYS[1])
return out`,
  },
  // Makes the instance's entries in the scope exactly ARGV[3..] (uid, json pairs): after Redis
  // was away. KEYS z c u i mine; ARGV instance, pairs. Returns {online, #joined, joined json…,
  // left json…}.
  reconcile: {
    name: 'presenceReconcile',
    keys: 5,
    lua: `${CLOCK}${HOLD}
local want = {}
for i = 2, #ARGV, 2 do want[ARGV[i]] = ARGV[i + 1] end
local joined, left = {}, {}
for _, uid in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  if want[uid] == nil then
    redis.call('SREM', KEYS[5], uid)
    local json = release(KEYS[1], KEYS[2], KEYS[3], uid)
    if json then left[#left + 1] = json end
  end
end
for i = 2, #ARGV, 2 do
  local uid = ARGV[i]
  if redis.call('SADD', KEYS[5], uid) == 1 and hold(KEYS[1], KEYS[2], uid) then joined[#joined + 1] = ARGV[i + 1] end
  redis.call('HSET', KEYS[3], uid, ARGV[i + 1])
end
if redis.call('SCARD', KEYS[5]) > 0 then redis.call('SADD', KEYS[4], ARGV[1]) else redis.call('SREM', KEYS[4], ARGV[1]) end
local out = {redis.call('ZCARD', KEYS[1]), #joined}
for _, j in ipairs(joined) do out[#out + 1] = j end
for _, l in ipairs(left) do out[#out + 1] = l end
return out`,
  },
  // The instance lease table. KEYS instances; ARGV instance, lease ms, instances to mark dead….
  // Returns {now ms, instance, expiry, …} (Redis' clock, so nodes need not agree on time).
  lease: {
    name: 'presenceLease',
    keys: 1,
    lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[2])), ARGV[1])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], 'XX', 0, ARGV[i]) end
local out = {string.format('%.0f', now)}
for _, v in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')) do out[#out + 1] = v end
return out`,
  },
} satisfies Record<string, RedisScript>;
