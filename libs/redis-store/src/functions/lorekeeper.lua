#!lua name=lorekeeper
-- Lorekeeper's Redis Functions. Every key a function touches is passed in KEYS and shares the
-- campaign's hash tag {c:<id>}, so the library works unchanged on Redis Cluster.
--
-- Entity tokens: the `versions` hash maps a live persistent entity id to its version ("7"), or to
-- "d7" once an event destroyed it (a tombstone, so a destroyed entity is not reloaded from Postgres
-- before the worker has deleted it there). An absent entity has the empty token "". A transient
-- entity keeps its token in the `v` field of its own hash. Appends compare tokens (compare-and-set).

local function session_error(session_key, session_id)
  local found = redis.call('HMGET', session_key, 'id', 'status')
  if found[1] ~= session_id then return 'SESSION_NOT_FOUND' end
  if found[2] ~= 'active' then return 'SESSION_CLOSING' end
  return nil
end

-- The transient index lists transient entity ids; their hashes expire on their own, the index does
-- not. Each id added checks three random members and drops those whose hash is gone, so the index
-- stays within about 1.5 times the live transient entities however long a session runs (a dead
-- fraction f removes 3f per add, which balances one add at f = 1/3). The hashes share the index's
-- hash tag, so they are in its slot.
local function prune_transient_index(index_key)
  local prefix = string.sub(index_key, 1, -string.len('transient') - 1) .. 't:'
  for _, member in ipairs(redis.call('SRANDMEMBER', index_key, 3)) do
    if redis.call('EXISTS', prefix .. member) == 0 then redis.call('SREM', index_key, member) end
  end
end

-- Variadic commands take their arguments through unpack, which Lua bounds: CHUNK entries per call.
local CHUNK = 500

-- redis.call(command, key, ...) over a flat list whose entries are `width` items each (2 for
-- field/value pairs), CHUNK entries per call.
local function call_in_chunks(command, key, items, width)
  local per_call = CHUNK * width
  for start = 1, #items, per_call do
    redis.call(command, key, unpack(items, start, math.min(start + per_call - 1, #items)))
  end
end

local function token_at(versions_key, transient_key, entity_id)
  local token
  if transient_key then
    token = redis.call('HGET', transient_key, 'v')
  else
    token = redis.call('HGET', versions_key, entity_id)
  end
  if not token then return '' end
  return token
end

-- lk_append_v2: commit one validated batch atomically.
-- KEYS[1] session hash   KEYS[2] events stream   KEYS[3] seq counter   KEYS[4] versions hash
-- KEYS[5] entities hash  KEYS[6] idempotency hash (idempotency key -> "<first seq>\n<record>")
-- KEYS[7] transient index set   KEYS[8..] transient entity hashes, referred to by index below
-- ARGV[1] session id     ARGV[2] the idempotency key ('' when none was given)
-- ARGV[3] how long the idempotency hash lives after the campaign's last keyed append (s)
-- ARGV[4] results template stored under the idempotency key (JSON, written by the caller)
-- ARGV[5] transient entity ttl (s)
-- ARGV[6] n = number of entity entries, then n times 5 slots:
--   entity id, transient key index (0 = persistent, else KEYS[7 + index]), expected token,
--   new token ('' when unchanged: a check only), new entity JSON ('' for a tombstone)
-- then m = number of events, then m event JSONs (type, entityId, version, data, meta), each XADDed as
--   the entry's one field `event` (stream layout 2)
-- then the floor: the lowest seq counter the caller knows this campaign reached (0: unknown)
-- Returns {'ok', first seq} | {'replay', stored} | {'error', code} | {'cas', entity id, found token}
--   | {'stale', seq counter} when the counter is below the floor (Redis came back older)
-- lk_append_v3: the same with a sixth slot per entity entry, the entity JSON its expected token was
--   predicted with ('' for none): the session service validates an append on an entity against the
--   result of its commit still in flight there (docs/architecture.md, "The append path"). A token
--   alone could then match the same version written by another instance from other content, so the
--   entry also holds only when the entity's JSON is exactly that prediction. A predicted tombstone needs no
--   content: destroyed is destroyed, however it came about.
-- lk_append: each event in 5 slots (type, entity id, version, data JSON, meta JSON), XADDed as five
-- fields (stream layout 1). It and lk_append_v2 are kept for session services of previous versions
-- while an upgrade rolls (docs/deploy.md, "Upgrading"); the current one calls lk_append_v3.
local function append(keys, args, event_slots, entity_slots)
  local problem = session_error(keys[1], args[1])
  if problem then return { 'error', problem } end
  local floor = tonumber(args[#args]) or 0
  local head = tonumber(redis.call('GET', keys[3]) or '0')
  if head < floor then return { 'stale', head } end
  if args[2] ~= '' then
    local stored = redis.call('HGET', keys[6], args[2])
    if stored then return { 'replay', stored } end
  end

  local n = tonumber(args[6])
  local at = 7
  -- Tokens: a transient entity's from its own hash; the persistent ones' from the versions hash,
  -- with one HMGET per CHUNK of them.
  local persistent_ids, persistent_bases = {}, {}
  for i = 0, n - 1 do
    local base = at + i * entity_slots
    local index = tonumber(args[base + 1])
    if index > 0 then
      local found = token_at(keys[4], keys[7 + index], args[base])
      if found ~= args[base + 2] then return { 'cas', args[base], found } end
    else
      persistent_ids[#persistent_ids + 1] = args[base]
      persistent_bases[#persistent_bases + 1] = base
    end
  end
  for start = 1, #persistent_ids, CHUNK do
    local last = math.min(start + CHUNK - 1, #persistent_ids)
    local tokens = redis.call('HMGET', keys[4], unpack(persistent_ids, start, last))
    for k = start, last do
      local found = tokens[k - start + 1] or ''
      local base = persistent_bases[k]
      if found ~= args[base + 2] then return { 'cas', args[base], found } end
    end
  end
  if entity_slots == 6 then
    for i = 0, n - 1 do
      local base = at + i * 6
      local predicted = args[base + 5]
      if predicted ~= '' then
        local index = tonumber(args[base + 1])
        local found
        if index > 0 then
          found = redis.call('HGET', keys[7 + index], 'e')
        else
          found = redis.call('HGET', keys[5], args[base])
        end
        if found ~= predicted then return { 'cas', args[base], args[base + 2] } end
      end
    end
  end

  local m = tonumber(args[at + n * entity_slots])
  local events_at = at + n * entity_slots + 1
  local last = redis.call('INCRBY', keys[3], m)
  local first = last - m + 1
  for j = 0, m - 1 do
    local base = events_at + j * event_slots
    if event_slots == 1 then
      redis.call('XADD', keys[2], (first + j) .. '-0', 'event', args[base])
    else
      redis.call('XADD', keys[2], (first + j) .. '-0',
        'type', args[base], 'entityId', args[base + 1], 'version', args[base + 2],
        'data', args[base + 3], 'meta', args[base + 4])
    end
  end

  -- New states: each transient entity's hash on its own; the persistent ones' tokens, values and
  -- tombstones gathered into a few variadic calls.
  local tokens, values, gone = {}, {}, {}
  for i = 0, n - 1 do
    local base = at + i * entity_slots
    local id, index, token, json = args[base], tonumber(args[base + 1]), args[base + 3], args[base + 4]
    if token ~= '' then
      if index > 0 then
        local key = keys[7 + index]
        redis.call('HSET', key, 'v', token, 'e', json)
        redis.call('EXPIRE', key, args[5])
        if redis.call('SADD', keys[7], id) == 1 then prune_transient_index(keys[7]) end
      else
        tokens[#tokens + 1] = id
        tokens[#tokens + 1] = token
        if json == '' then
          gone[#gone + 1] = id
        else
          values[#values + 1] = id
          values[#values + 1] = json
        end
      end
    end
  end
  call_in_chunks('HSET', keys[4], tokens, 2)
  call_in_chunks('HSET', keys[5], values, 2)
  call_in_chunks('HDEL', keys[5], gone, 1)

  if args[2] ~= '' then
    redis.call('HSET', keys[6], args[2], first .. '\n' .. args[4])
    redis.call('EXPIRE', keys[6], args[3])
  end
  return { 'ok', first }
end

local function lk_append_v3(keys, args) return append(keys, args, 1, 6) end
local function lk_append_v2(keys, args) return append(keys, args, 1, 5) end
local function lk_append(keys, args) return append(keys, args, 5, 5) end

-- lk_session_start: register a session, or return the active one (starting is idempotent).
-- KEYS[1] session hash   KEYS[2] seq counter
-- ARGV[1] new session id   ARGV[2] Postgres checkpoint seq   ARGV[3] now (ISO time)
-- Returns {'existing' | 'new', session id, seq} | {'closing'} | {'stale', seq}
local function lk_session_start(keys, args)
  local checkpoint = tonumber(args[2])
  local seq = redis.call('GET', keys[2])
  if seq and tonumber(seq) < checkpoint then
    -- Redis came back older than what Postgres already holds: its state must not be continued.
    return { 'stale', seq }
  end
  local found = redis.call('HMGET', keys[1], 'id', 'status')
  if found[1] and found[2] == 'active' then return { 'existing', found[1], seq or tostring(checkpoint) } end
  if found[1] and found[2] == 'closing' then return { 'closing' } end
  redis.call('HSET', keys[1], 'id', args[1], 'status', 'active', 'startedAt', args[3])
  if not seq then
    redis.call('SET', keys[2], checkpoint)
    seq = tostring(checkpoint)
  end
  return { 'new', args[1], seq }
end

-- lk_load: make entities from Postgres live, never overwriting one that is already live (or
-- tombstoned): Redis may hold newer state than the durable copy.
-- KEYS[1] session hash   KEYS[2] versions hash   KEYS[3] entities hash
-- ARGV[1] session id, then triples: entity id, version, entity JSON
-- Returns the number of entities written, or -1 when the session is not the active one.
-- One HMGET finds those already live and one HSET per hash writes the rest (per CHUNK entities):
-- with an HSETNX and an HSET per entity, a session start's 20,000 regions took Redis 94 ms, not 69.
-- The lists are filled through counters: `#t + 1` searches for the table's end on every insert
-- (20,000 region-sized entities loaded into an idle Redis: 32.5 ms instead of 35.3, median of 30).
local function lk_load(keys, args)
  if session_error(keys[1], args[1]) == 'SESSION_NOT_FOUND' then return -1 end
  local count = (#args - 1) / 3
  local ids = {}
  for i = 1, count do ids[i] = args[3 * i - 1] end
  local versions, values, taken = {}, {}, {}
  local written = 0
  for start = 1, count, CHUNK do
    local last = math.min(start + CHUNK - 1, count)
    local live = redis.call('HMGET', keys[2], unpack(ids, start, last))
    for i = start, last do
      local id = ids[i]
      if not live[i - start + 1] and not taken[id] then
        taken[id] = true
        written = written + 1
        versions[2 * written - 1] = id
        versions[2 * written] = args[3 * i]
        values[2 * written - 1] = id
        values[2 * written] = args[3 * i + 1]
      end
    end
  end
  call_in_chunks('HSET', keys[2], versions, 2)
  call_in_chunks('HSET', keys[3], values, 2)
  return written
end

-- lk_session_close: mark the session as closing (appends and saves then get SESSION_CLOSING).
-- KEYS[1] session hash   KEYS[2] seq counter   ARGV[1] session id
-- Returns {'ok', seq} | {'error', code}
local function lk_session_close(keys, args)
  local problem = session_error(keys[1], args[1])
  if problem == 'SESSION_NOT_FOUND' then return { 'error', problem } end
  redis.call('HSET', keys[1], 'status', 'closing')
  return { 'ok', redis.call('GET', keys[2]) or '0' }
end

-- lk_session_reopen: undo lk_session_close when the final sync could not finish.
-- KEYS[1] session hash   ARGV[1] session id
local function lk_session_reopen(keys, args)
  if redis.call('HGET', keys[1], 'id') ~= args[1] then return 0 end
  redis.call('HSET', keys[1], 'status', 'active')
  return 1
end

-- lk_lease_acquire: take the campaign's worker lease if it is free and the session exists (so a
-- worker never re-creates a key of a campaign whose session just ended).
-- KEYS[1] lease   KEYS[2] session hash   ARGV[1] worker id   ARGV[2] lease ms
-- Returns 1 when this worker holds the lease now, else 0.
local function lk_lease_acquire(keys, args)
  if redis.call('EXISTS', keys[2]) == 0 then return 0 end
  local holder = redis.call('GET', keys[1])
  if holder == args[1] then
    redis.call('PEXPIRE', keys[1], args[2])
    return 1
  end
  if holder then return 0 end
  redis.call('SET', keys[1], args[1], 'PX', args[2])
  return 1
end

-- lk_lease_release: give the lease up, only if this worker holds it.
-- KEYS[1] lease   ARGV[1] worker id
local function lk_lease_release(keys, args)
  if redis.call('GET', keys[1]) == args[1] then return redis.call('DEL', keys[1]) end
  return 0
end

redis.register_function('lk_append', lk_append)
redis.register_function('lk_append_v2', lk_append_v2)
redis.register_function('lk_append_v3', lk_append_v3)
redis.register_function('lk_session_close', lk_session_close)
redis.register_function('lk_session_reopen', lk_session_reopen)
redis.register_function('lk_lease_acquire', lk_lease_acquire)
redis.register_function('lk_lease_release', lk_lease_release)
redis.register_function('lk_session_start', lk_session_start)
redis.register_function('lk_load', lk_load)
