-- Shared by the scripts that keep turns and branches: the conversation's branches hash
-- (declared by each script) and the order list of every branch, which all expire with
-- the conversation's metadata.
-- KEYS: none of its own; called with the keys its script declared.
-- Fields of the branches hash:
--   branches     the live branch ids other than main, sorted, joined by U+001F
--   b:<id>       a live branch other than main: JSON {created_at, parent, turn}
--   x:<id>       an id ever given to a branch here (ids are never reused)
--   n:<id>       how many user turns the branch holds
--   t:<id>:<k>   the sequence number of the user message that starts turn k
--   u:<id>:<k>   the usage stored for turn k (JSON)
--   r:<seq>      how many order lists beyond one hold item seq

local SEP = '\31'

local function split_ids(joined)
  local ids = {}
  for id in string.gmatch(joined, '[^' .. SEP .. ']+') do ids[#ids + 1] = id end
  return ids
end

-- The live-branch field with `id` added (or removed when `remove`), kept sorted.
local function with_branch(joined, id, remove)
  local ids = {}
  for _, b in ipairs(split_ids(joined)) do
    if b ~= id then ids[#ids + 1] = b end
  end
  if not remove then ids[#ids + 1] = id end
  table.sort(ids)
  return table.concat(ids, SEP)
end

-- Whether a stored item is a user message, the start of a turn (the SDK's test).
local function is_user_item(raw)
  local ok, item = pcall(cjson.decode, raw)
  return ok and type(item) == 'table' and item.role == 'user'
end

-- The main branch's turns are recorded from the first call that needs them (usage, turns,
-- branches), from its items, once; every later write keeps them in O(1). A conversation
-- that never uses them keeps only its original keys.
local function ensure_main_turns(struct, order, mprefix)
  if redis.call('HEXISTS', struct, 'n:main') == 1 then return end
  local n = 0
  for _, s in ipairs(redis.call('LRANGE', order, 0, -1)) do
    local raw = redis.call('HGET', mprefix .. s, 'metadata')
    if raw and is_user_item(raw) then
      n = n + 1
      redis.call('HSET', struct, 't:main:' .. n, s)
    end
  end
  redis.call('HSET', struct, 'n:main', n)
end

-- Give the branches hash and `orders` the metadata's expiry; with `full`, every item
-- they list too (the ttl changed or its window was left: see apply_ttl).
local function follow_expiry(meta, struct, orders, mprefix, full)
  local at = redis.call('PEXPIRETIME', meta)
  local function stamp(key)
    if at > 0 then
      redis.call('PEXPIREAT', key, at)
    elseif at == -1 then
      redis.call('PERSIST', key)
    end
  end
  stamp(struct)
  for _, order in ipairs(orders) do
    stamp(order)
    if full then
      for _, s in ipairs(redis.call('LRANGE', order, 0, -1)) do stamp(mprefix .. s) end
    end
  end
end

-- On a cluster slot being migrated, touching a moved key stops the script: touch what
-- follow_expiry will, before the first write.
local function touch_orders(struct, orders, mprefix, full)
  redis.call('EXISTS', struct)
  for _, order in ipairs(orders) do
    redis.call('EXISTS', order)
    if full then
      for _, s in ipairs(redis.call('LRANGE', order, 0, -1)) do redis.call('EXISTS', mprefix .. s) end
    end
  end
end

-- Drop one list's hold on an item; the item goes when no list holds it any more.
-- Returns 1 when the item was deleted.
local function release_item(struct, mprefix, seq)
  local field = 'r:' .. seq
  local extra = tonumber(redis.call('HGET', struct, field) or '0')
  if extra > 1 then
    redis.call('HINCRBY', struct, field, -1)
  elseif extra == 1 then
    redis.call('HDEL', struct, field)
  else
    return redis.call('UNLINK', mprefix .. seq)
  end
  return 0
end
