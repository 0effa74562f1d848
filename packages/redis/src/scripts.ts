/**
 * Lua scripts for the state store. Items are hashes `{data, version}` as Dapr's Redis store writes
 * them, so data written by either is readable by the other. A script runs atomically, which is
 * what makes the ETag check-and-set and the transactions correct under concurrency.
 *
 * Versions: an existing version is incremented, as Dapr does. A new item's version starts at the
 * server's clock in microseconds rather than at 1, so a delete followed by a re-create never
 * brings back an ETag an old reader might still hold (Dapr's versions restart at 1).
 *
 * Errors are returned as `ETAG_MISMATCH ...` error replies, which the client maps to ETagError.
 */

/** Shared helpers, prepended to every writing script. */
const NEXT_VERSION = `
local function fresh_version()
  local t = redis.call("TIME")
  return t[1] .. string.format("%06d", tonumber(t[2]))
end
local function next_version(current)
  local n = current and tonumber(current)
  if n then return string.format("%.0f", n + 1) end
  return fresh_version()
end
local function apply_ttl(key, ttl)
  local seconds = tonumber(ttl)
  if seconds and seconds > 0 then
    redis.call("EXPIRE", key, seconds)
  else
    redis.call("PERSIST", key)
  end
end
`;

/**
 * KEYS: the items to read. Per key, in order: `false` for a missing item, `{data, version, pttl}`
 * (the remaining TTL in ms, -1 without one, read in the same script) or `{message}` when the key
 * holds something that is not an item. One script for many keys is one command on the server,
 * which costs far less than a script call per key.
 */
export const GET_MANY_SCRIPT = `
local out = {}
for i = 1, #KEYS do
  local r = redis.pcall("HMGET", KEYS[i], "data", "version")
  if r.err then
    out[i] = {r.err}
  elseif r[1] then
    out[i] = {r[1], r[2], redis.call("PTTL", KEYS[i])}
  else
    out[i] = false
  end
end
return out
`;

/** Arguments per item of {@link SET_MANY_SCRIPT}. */
export const SET_ARGS_PER_ITEM = 4;

/**
 * KEYS: the items to write; ARGV per item: etag ("" for none), first-write ("1"/"0"), data, ttl
 * seconds ("0": none, "-1": remove). Each item is checked and written on its own (bulk writes
 * are not atomic): with an etag the stored version must equal it; first-write without an etag
 * needs the item to be absent (Redis drops expired items itself, so those count as absent).
 * Per key: `OK <version>`, `ETAG_MISMATCH etag|first-write` or `ERROR <message>`.
 */
export const SET_MANY_SCRIPT = `${NEXT_VERSION}
local n = ${SET_ARGS_PER_ITEM}
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local b = (i - 1) * n
  local etag, first = ARGV[b + 1], ARGV[b + 2]
  local current = redis.pcall("HGET", key, "version")
  if type(current) == "table" and current.err then
    out[i] = "ERROR " .. current.err
  elseif etag ~= "" and current ~= etag then
    out[i] = "ETAG_MISMATCH etag"
  elseif etag == "" and first == "1" and current then
    out[i] = "ETAG_MISMATCH first-write"
  else
    local version = next_version(current)
    redis.call("HSET", key, "data", ARGV[b + 3], "version", version)
    apply_ttl(key, ARGV[b + 4])
    out[i] = "OK " .. version
  end
end
return out
`;

/**
 * KEYS: the items to delete; ARGV per item: etag ("" for none). With an etag, the item is deleted
 * only when its version equals it. Per key: `OK`, `ETAG_MISMATCH etag` or `ERROR <message>`.
 */
export const DELETE_MANY_SCRIPT = `
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  if ARGV[i] == "" then
    redis.call("DEL", key)
    out[i] = "OK"
  else
    local current = redis.pcall("HGET", key, "version")
    if type(current) == "table" and current.err then
      out[i] = "ERROR " .. current.err
    elseif current ~= ARGV[i] then
      out[i] = "ETAG_MISMATCH etag"
    else
      redis.call("DEL", key)
      out[i] = "OK"
    end
  end
end
return out
`;

/** Arguments per operation of {@link TRANSACT_SCRIPT}. */
export const TRANSACT_ARGS_PER_OP = 5;

/**
 * KEYS: one key per operation (repeats allowed); ARGV: per operation kind ("set"/"del"), etag,
 * first-write, data, ttl. All conditions are checked first against the state each earlier
 * operation of the transaction leaves behind; only when all hold are the operations applied, in
 * order. A failed check returns `ETAG_MISMATCH <1-based index>` and writes nothing.
 */
export const TRANSACT_SCRIPT = `${NEXT_VERSION}
local n = ${TRANSACT_ARGS_PER_OP}
local versions = {}
local plan = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local b = (i - 1) * n
  local kind, etag, first = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  local current = versions[key]
  if current == nil then current = redis.call("HGET", key, "version") or false end
  if etag ~= "" then
    if current ~= etag then return redis.error_reply("ETAG_MISMATCH " .. i) end
  elseif kind == "set" and first == "1" and current then
    return redis.error_reply("ETAG_MISMATCH " .. i)
  end
  if kind == "set" then
    plan[i] = next_version(current)
    versions[key] = plan[i]
  else
    versions[key] = false
  end
end
for i = 1, #KEYS do
  local b = (i - 1) * n
  if ARGV[b + 1] == "set" then
    redis.call("HSET", KEYS[i], "data", ARGV[b + 4], "version", plan[i])
    apply_ttl(KEYS[i], ARGV[b + 5])
  else
    redis.call("DEL", KEYS[i])
  end
end
return #KEYS
`;
