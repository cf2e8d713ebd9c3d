-- Shared by the writing scripts of AgentSession: the per-tag lists of a user's conversations.
-- A conversation's tags are a JSON array in its metadata hash (field 'tags'); each tag has a
-- sorted set of the user's conversation ids carrying it, scored like the user's list, at
-- '<prefix>:tag:{<user>}:<tag>' (keys.tag_index_key). The caller declares, as the last
-- KEYS, the sets of the tags it believes the conversation carries; take_tag_keys takes
-- them off, so the script sees only its own keys. A script that finds a tag whose set it
-- was not given changes nothing and answers {'tags', <the stored tags>}, and the caller
-- sends it again with those sets.
-- KEYS: none of its own; its functions touch only tag sets their script declared.

-- '<prefix>:conv:{<user>}:<id>' gives '<prefix>:tag:{<user>}:' (a prefix has no braces).
local function tag_prefix_of(meta, conv_id)
  local brace = string.find(meta, '{', 1, true)
  return string.sub(meta, 1, brace - 7) .. ':tag:' .. string.sub(meta, brace, #meta - #conv_id)
end

local function decode_tags(raw)
  if not raw then return {} end
  local ok, tags = pcall(cjson.decode, raw)
  if not ok or type(tags) ~= 'table' then return {} end
  return tags
end

-- Take the tag sets (the keys under `prefix`) off the end of KEYS.
local function take_tag_keys(prefix)
  local keys = {}
  while #KEYS > 0 and string.sub(KEYS[#KEYS], 1, #prefix) == prefix do
    table.insert(keys, 1, KEYS[#KEYS])
    KEYS[#KEYS] = nil
  end
  return keys
end

-- The sets of `tags` when every one was among the `given` keys (and none of those holds
-- another type); otherwise nil and the reply to give instead, before any write.
local function declared_tag_sets(given, tags, prefix, raw)
  local declared = {}
  for _, key in ipairs(given) do
    local kind = redis.call('TYPE', key).ok
    if kind ~= 'none' and kind ~= 'zset' then
      return nil, redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. kind .. ', not a zset')
    end
    declared[key] = true
  end
  local keys = {}
  for _, tag in ipairs(tags) do
    local key = prefix .. tag
    if not declared[key] then return nil, {'tags', raw or '[]'} end
    keys[#keys + 1] = key
  end
  return keys
end

-- Score the conversation in each of its tag sets as in the user's list, and keep each set
-- alive exactly as long as the longest-lived conversation it names (as apply_ttl does for
-- the user's list). Runs after apply_ttl, so the metadata's expiry is the new one.
local function follow_tags(keys, conv_id, score, meta, ttl_changed, meta_prefix)
  if #keys == 0 then return end
  local at = redis.call('PEXPIRETIME', meta)
  for _, key in ipairs(keys) do
    local existed = redis.call('EXISTS', key)
    redis.call('ZADD', key, score, conv_id)
    if at < 0 then
      redis.call('PERSIST', key)
    else
      local current = redis.call('PEXPIRETIME', key)
      if existed == 0 or (current > 0 and current < at) then
        redis.call('PEXPIREAT', key, at)
      elseif current == -1 and ttl_changed then
        expire_user_index(key, meta_prefix)
      end
    end
  end
end

-- Take a conversation out of tag sets; each then expires with the longest-lived
-- conversation it still names, and an emptied one is gone.
local function leave_tags(keys, conv_id, meta_prefix)
  for _, key in ipairs(keys) do
    redis.call('ZREM', key, conv_id)
    expire_user_index(key, meta_prefix)
  end
end
