/**
 * The atomic Redis scripts of distributed mode: instance claims, and limits shared by every host.
 *
 * The five rate algorithms are the ones of src/limits/algorithms.ts, transcribed line for line on
 * the same integer arithmetic (time in whole ms of the Redis server's clock, so hosts with skewed
 * clocks agree; amounts scaled so fractional rates never round). Times are kept relative to an
 * epoch stored with each limit's state, so products like GCRA's TAT × capacity stay exact.
 *
 * A set's waiters form one FIFO queue across all hosts: only the head may take, so a big request is
 * never overtaken. Waiters and resource holders are leases: a host that dies stops renewing them,
 * and the next script to run after their expiry gives their place (and resources) back.
 */
import type { Redis as RedisClient } from 'ioredis';

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Rate algorithm state: fields e (epoch), a, b, c of a hash; sliding-window log in a zset. */
const RATE = `
local function loadRate(l, now)
  local v = redis.call('HMGET', l.state, 'e', 'a', 'b', 'c')
  if not v[1] then
    l.e = now; l.b = 0; l.c = 0
    if l.alg == 'token-bucket' then l.a = l.cap * l.win else l.a = 0 end
    -- a log left over from an expired state would have stale relative times
    redis.call('DEL', l.log)
  else
    l.e = tonumber(v[1]); l.a = tonumber(v[2]); l.b = tonumber(v[3]); l.c = tonumber(v[4])
  end
  l.r = now - l.e
end

local function saveRate(l)
  redis.call('HSET', l.state, 'e', l.e, 'a', l.a, 'b', l.b, 'c', l.c)
  local ttl = l.win * 2 + 1000
  redis.call('PEXPIRE', l.state, ttl)
  if l.alg == 'sliding-window' then redis.call('PEXPIRE', l.log, ttl) end
end

local function advance(l)
  local r = l.r
  if l.alg == 'token-bucket' then
    if r > l.b then l.a = math.min(l.cap * l.win, l.a + (r - l.b) * l.cap) end
    l.b = math.max(l.b, r)
  elseif l.alg == 'leaky-bucket' then
    if r > l.b then l.a = math.max(0, l.a - (r - l.b) * l.cap) end
    l.b = math.max(l.b, r)
  elseif l.alg == 'sliding-window' then
    local old = redis.call('ZRANGEBYSCORE', l.log, '-inf', r - l.win)
    if #old > 0 then
      for _, m in ipairs(old) do
        l.a = l.a - tonumber(string.match(m, ':(%d+)$'))
      end
      redis.call('ZREMRANGEBYSCORE', l.log, '-inf', r - l.win)
    end
  elseif l.alg == 'fixed-window' then
    if r - l.b >= l.win then
      l.b = l.b + math.floor((r - l.b) / l.win) * l.win
      l.a = 0
    end
  end
end

-- ms until n fits (0 = now)
local function rateWait(l, n)
  advance(l)
  local r = l.r
  if l.alg == 'token-bucket' then
    local missing = n * l.win - l.a
    if missing <= 0 then return 0 end
    return math.ceil(missing / l.cap)
  elseif l.alg == 'leaky-bucket' then
    local over = l.a + n * l.win - l.cap * l.win
    if over <= 0 then return 0 end
    return math.ceil(over / l.cap)
  elseif l.alg == 'sliding-window' then
    local excess = l.a + n - l.cap
    if excess <= 0 then return 0 end
    local start = 0
    while true do
      local chunk = redis.call('ZRANGE', l.log, start, start + 63, 'WITHSCORES')
      if #chunk == 0 then break end
      for k = 1, #chunk, 2 do
        excess = excess - tonumber(string.match(chunk[k], ':(%d+)$'))
        if excess <= 0 then return tonumber(chunk[k + 1]) + l.win - r end
      end
      start = start + 64
    end
    return l.win
  elseif l.alg == 'fixed-window' then
    if l.a + n <= l.cap then return 0 end
    return l.b + l.win - r
  else -- gcra
    local nowS = r * l.cap
    local over = math.max(l.a, nowS) + n * l.win - nowS - l.win * l.cap
    if over <= 0 then return 0 end
    return math.ceil(over / l.cap)
  end
end

local function rateTake(l, n)
  local r = l.r
  if l.alg == 'token-bucket' then
    l.a = l.a - n * l.win
  elseif l.alg == 'leaky-bucket' then
    l.a = l.a + n * l.win
  elseif l.alg == 'sliding-window' then
    l.c = l.c + 1
    redis.call('ZADD', l.log, r, l.c .. ':' .. n)
    l.a = l.a + n
  elseif l.alg == 'fixed-window' then
    l.a = l.a + n
  else
    l.a = math.max(l.a, r * l.cap) + n * l.win
  end
end

local function rateRefund(l, n)
  advance(l)
  local r = l.r
  if l.alg == 'token-bucket' then
    l.a = math.min(l.cap * l.win, l.a + n * l.win)
  elseif l.alg == 'gcra' then
    l.a = math.max(r * l.cap, l.a - n * l.win)
  end
end
`;

/**
 * Acquire. KEYS: q, qexp, h, hexp, seq, then per limit: state, log.
 * ARGV: reqId, waiterLeaseMs, holderLeaseMs, nLimits, channel, tryOnly ('1'/'0'),
 *       then per limit: kind ('r' rate | 's' resource), algorithm, capacity, window, amount.
 * Returns {1, 0} when granted, {0, waitMs} otherwise (waitMs: when to look again at the latest).
 */
const ACQUIRE = `${NOW}${RATE}
local reqId = ARGV[1]
local waiterLease = tonumber(ARGV[2])
local holderLease = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local channel = ARGV[5]
local tryOnly = ARGV[6] == '1'
local setTtl = math.max(waiterLease, holderLease) * 3
local L = {}
for i = 1, n do
  local b = 6 + (i - 1) * 5
  L[i] = { kind = ARGV[b + 1], alg = ARGV[b + 2], cap = tonumber(ARGV[b + 3]), win = tonumber(ARGV[b + 4]),
           amt = tonumber(ARGV[b + 5]), state = KEYS[5 + (i - 1) * 2 + 1], log = KEYS[5 + (i - 1) * 2 + 2] }
end

-- holders whose lease ran out (their host died) give their resources back
local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
for _, a in ipairs(expired) do
  redis.call('HDEL', KEYS[3], a)
  redis.call('ZREM', KEYS[4], a)
end
-- waiters whose lease ran out leave the queue
while true do
  local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if not head then break end
  local exp = tonumber(redis.call('HGET', KEYS[2], head) or '0')
  if exp > now then break end
  redis.call('ZREM', KEYS[1], head)
  redis.call('HDEL', KEYS[2], head)
end

local function enqueue()
  if not redis.call('ZSCORE', KEYS[1], reqId) then
    redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[5]), reqId)
  end
  redis.call('HSET', KEYS[2], reqId, now + waiterLease)
  redis.call('PEXPIRE', KEYS[1], setTtl)
  redis.call('PEXPIRE', KEYS[2], setTtl)
  redis.call('PEXPIRE', KEYS[5], setTtl)
end

local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
if head and head ~= reqId then
  if tryOnly then return {0, -1} end
  enqueue()
  local hexp = tonumber(redis.call('HGET', KEYS[2], head))
  return {0, math.max(1, hexp - now)}
end

local wait = 0
local held = nil
local blocked = false
for i = 1, n do
  local l = L[i]
  if l.amt > 0 then
    if l.kind == 's' then
      if not held then
        held = {}
        for _, spec in ipairs(redis.call('HVALS', KEYS[3])) do
          for idx, amt in string.gmatch(spec, '(%d+):(%d+)') do
            local k = tonumber(idx)
            held[k] = (held[k] or 0) + tonumber(amt)
          end
        end
      end
      if (held[i] or 0) + l.amt > l.cap then blocked = true end
    else
      loadRate(l, now)
      local w = rateWait(l, l.amt)
      if w > wait then wait = w end
    end
  end
end
if blocked then
  local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  local w = 1
  if first[2] then w = math.max(1, tonumber(first[2]) - now) end
  if w > wait then wait = w end
end

if wait == 0 then
  local spec = {}
  for i = 1, n do
    local l = L[i]
    if l.amt > 0 then
      if l.kind == 's' then
        spec[#spec + 1] = i .. ':' .. l.amt
      else
        rateTake(l, l.amt)
        saveRate(l)
      end
    end
  end
  if #spec > 0 then
    redis.call('HSET', KEYS[3], reqId, table.concat(spec, ','))
    redis.call('ZADD', KEYS[4], now + holderLease, reqId)
    redis.call('PEXPIRE', KEYS[3], setTtl)
    redis.call('PEXPIRE', KEYS[4], setTtl)
  end
  redis.call('ZREM', KEYS[1], reqId)
  redis.call('HDEL', KEYS[2], reqId)
  if redis.call('ZCARD', KEYS[1]) > 0 then redis.call('PUBLISH', channel, '1') end
  return {1, 0}
end
for i = 1, n do
  local l = L[i]
  if l.amt > 0 and l.kind ~= 's' then saveRate(l) end
end
if not tryOnly then enqueue() end
return {0, wait}
`;

/**
 * Release. KEYS as ACQUIRE. ARGV: acqId, nLimits, channel, then per limit: kind, algorithm,
 * capacity, window, unused amount to refund (0 = none).
 */
const RELEASE = `${NOW}${RATE}
local acqId = ARGV[1]
local n = tonumber(ARGV[2])
local channel = ARGV[3]
redis.call('HDEL', KEYS[3], acqId)
redis.call('ZREM', KEYS[4], acqId)
for i = 1, n do
  local b = 3 + (i - 1) * 5
  local l = { kind = ARGV[b + 1], alg = ARGV[b + 2], cap = tonumber(ARGV[b + 3]), win = tonumber(ARGV[b + 4]),
              state = KEYS[5 + (i - 1) * 2 + 1], log = KEYS[5 + (i - 1) * 2 + 2] }
  local refund = tonumber(ARGV[b + 5])
  if refund > 0 and l.kind ~= 's' and (l.alg == 'token-bucket' or l.alg == 'gcra') and redis.call('EXISTS', l.state) == 1 then
    loadRate(l, now)
    rateRefund(l, refund)
    saveRate(l)
  end
end
if redis.call('ZCARD', KEYS[1]) > 0 then redis.call('PUBLISH', channel, '1') end
return 1
`;

/** Renews resource leases. KEYS: h, hexp. ARGV: leaseMs, acqIds… Returns how many were still held. */
const RENEW = `${NOW}
local lease = tonumber(ARGV[1])
local kept = 0
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[2], ARGV[i]) then
    redis.call('ZADD', KEYS[2], now + lease, ARGV[i])
    kept = kept + 1
  end
end
redis.call('PEXPIRE', KEYS[1], lease * 3)
redis.call('PEXPIRE', KEYS[2], lease * 3)
return kept
`;

/** A waiter gives up (timeout, abort). KEYS: q, qexp. ARGV: reqId, channel. */
const LEAVE = `
local head = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if head == ARGV[1] and redis.call('ZCARD', KEYS[1]) > 0 then redis.call('PUBLISH', ARGV[2], '1') end
return 1
`;

/**
 * Read-only snapshot for stats. KEYS as ACQUIRE. ARGV: nLimits, then per limit: kind, algorithm,
 * capacity, window. Returns per limit {available, capacity}, then the number of waiters.
 */
const STATS = `${NOW}${RATE}
local n = tonumber(ARGV[1])
local out = {}
local held = {}
local expired = {}
for _, a in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)) do expired[a] = true end
local all = redis.call('HGETALL', KEYS[3])
for k = 1, #all, 2 do
  if not expired[all[k]] then
    for idx, amt in string.gmatch(all[k + 1], '(%d+):(%d+)') do
      local i = tonumber(idx)
      held[i] = (held[i] or 0) + tonumber(amt)
    end
  end
end
for i = 1, n do
  local b = 1 + (i - 1) * 4
  local l = { kind = ARGV[b + 1], alg = ARGV[b + 2], cap = tonumber(ARGV[b + 3]), win = tonumber(ARGV[b + 4]),
              state = KEYS[5 + (i - 1) * 2 + 1], log = KEYS[5 + (i - 1) * 2 + 2] }
  local available
  if l.kind == 's' then
    available = l.cap - (held[i] or 0)
  elseif redis.call('EXISTS', l.state) == 0 then
    available = l.cap
  else
    local v = redis.call('HMGET', l.state, 'e', 'a', 'b', 'c')
    l.e = tonumber(v[1]); l.a = tonumber(v[2]); l.b = tonumber(v[3]); l.c = tonumber(v[4]); l.r = now - l.e
    if l.alg == 'sliding-window' then
      local s = 0
      for _, m in ipairs(redis.call('ZRANGEBYSCORE', l.log, '(' .. (l.r - l.win), '+inf')) do
        s = s + tonumber(string.match(m, ':(%d+)$'))
      end
      available = l.cap - s
    else
      local r = l.r
      if l.alg == 'token-bucket' then
        local a = l.a
        if r > l.b then a = math.min(l.cap * l.win, a + (r - l.b) * l.cap) end
        available = math.floor(a / l.win)
      elseif l.alg == 'leaky-bucket' then
        local a = l.a
        if r > l.b then a = math.max(0, a - (r - l.b) * l.cap) end
        available = math.floor((l.cap * l.win - a) / l.win)
      elseif l.alg == 'fixed-window' then
        if r - l.b >= l.win then available = l.cap else available = l.cap - l.a end
      else
        local nowS = r * l.cap
        available = math.min(l.cap, math.floor((nowS + l.win * l.cap - math.max(l.a, nowS)) / l.win))
      end
    end
  end
  out[#out + 1] = available
end
out[#out + 1] = redis.call('ZCARD', KEYS[1])
return out
`;

/**
 * Retry budget shared by a handle's workers on every host (the algorithm of src/retry/budget.ts).
 * KEYS: budget hash. ARGV: op ('record' | 'try'), ratio, minPerSecond. Returns 1 = allowed.
 */
const BUDGET = `${NOW}
local ratio = tonumber(ARGV[2])
local minPerSecond = tonumber(ARGV[3])
local cap = math.max(1, minPerSecond * 10 + ratio * 100)
local v = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(v[1]) or math.min(cap, minPerSecond)
local last = tonumber(v[2]) or now
if minPerSecond > 0 and now > last then tokens = math.min(cap, tokens + ((now - last) / 1000) * minPerSecond) end
local res = 1
if ARGV[1] == 'record' then
  tokens = math.min(cap, tokens + ratio)
elseif tokens >= 1 then
  tokens = tokens - 1
  redis.call('HINCRBY', KEYS[1], 'allowed', 1)
else
  redis.call('HINCRBY', KEYS[1], 'denied', 1)
  res = 0
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'last', now)
redis.call('PEXPIRE', KEYS[1], 3600000)
return res
`;

/**
 * A host claims an instance. KEYS: instance registry, caller key, caller reply list.
 * ARGV: hostId, claimed message, reply TTL ms. Returns 1 claimed, 0 gone or already claimed,
 * -1 the caller is gone.
 */
const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'host') == 1 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'host', ARGV[1])
redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
`;

/** The caller ends an instance. KEYS: registry. Returns the host that claimed it, if any. */
const UNREGISTER = `
local h = redis.call('HGET', KEYS[1], 'host')
redis.call('DEL', KEYS[1])
return h
`;

const SCRIPTS = {
  concurryAcquire: ACQUIRE,
  concurryRelease: RELEASE,
  concurryRenew: RENEW,
  concurryLeave: LEAVE,
  concurryLimitStats: STATS,
  concurryBudget: BUDGET,
  concurryClaim: CLAIM,
  concurryUnregister: UNREGISTER,
};

/** A client with the scripts defined (EVALSHA, loading them on first use). */
export type ScriptClient = RedisClient & {
  concurryAcquire(numKeys: number, ...args: (string | number)[]): Promise<[number, number]>;
  concurryRelease(numKeys: number, ...args: (string | number)[]): Promise<number>;
  concurryRenew(numKeys: number, ...args: (string | number)[]): Promise<number>;
  concurryLeave(numKeys: number, ...args: (string | number)[]): Promise<number>;
  concurryLimitStats(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  concurryBudget(numKeys: number, ...args: (string | number)[]): Promise<number>;
  concurryClaim(numKeys: number, ...args: (string | number | Buffer)[]): Promise<number>;
  concurryUnregister(numKeys: number, ...args: (string | number)[]): Promise<string | null>;
};

/** Defines the scripts on `client` (idempotent). */
export function withScripts(client: RedisClient): ScriptClient {
  const c = client as ScriptClient;
  for (const [name, lua] of Object.entries(SCRIPTS)) {
    if (typeof (c as unknown as Record<string, unknown>)[name] !== 'function') client.defineCommand(name, { lua });
  }
  return c;
}
