-- Shared by the writing scripts: keep all keys of one conversation on one expiry, and the
-- user's list alive exactly as long as the longest-lived conversation it names.

local function expire_user_index(uidx, meta_prefix)
  local latest = 0
  for _, id in ipairs(redis.call('ZRANGE', uidx, 0, -1)) do
    local at = redis.call('PEXPIRETIME', meta_prefix .. id)
    if at == -2 then
      redis.call('ZREM', uidx, id)
    elseif at == -1 then
      latest = -1
      break
    elseif at > latest then
      latest = at
    end
  end
  if latest == -1 then
    redis.call('PERSIST', uidx)
  elseif latest > 0 then
    redis.call('PEXPIREAT', uidx, latest)
  end
end

-- Every key expires at the same instant, at most ttl after the last write and at least
-- 99% of ttl after it: all keys are re-stamped only when that window is left, so a write
-- usually touches only the keys it adds. Items new_from..tail-1 are the ones just written.
-- Inside the window nothing but the new items and a re-created order list needs a stamp:
-- the metadata keeps its expiry, and the user's list already outlives it (every script
-- that shortens the list's life recomputes it over all of its conversations).
local function apply_ttl(meta, uidx, order, mprefix, new_from, tail, now_ms, ttl_ms,
                         expires_at, ttl_changed, uidx_existed, meta_prefix)
  if ttl_ms <= 0 then
    if ttl_changed then
      for _, s in ipairs(redis.call('LRANGE', order, 0, -1)) do
        redis.call('PERSIST', mprefix .. s)
      end
      redis.call('PERSIST', meta)
      redis.call('PERSIST', order)
      redis.call('HDEL', meta, 'expires_at_ms')
      redis.call('PERSIST', uidx)
    end
    return
  end
  local target = now_ms + ttl_ms
  local slack = math.floor(ttl_ms / 100)
  if not ttl_changed and expires_at >= target - slack then
    for s = new_from, tail - 1 do redis.call('PEXPIREAT', mprefix .. s, expires_at) end
    redis.call('PEXPIREAT', order, expires_at)
    if uidx_existed == 0 then redis.call('PEXPIREAT', uidx, expires_at) end
    return
  end
  expires_at = target
  for _, s in ipairs(redis.call('LRANGE', order, 0, -1)) do
    redis.call('PEXPIREAT', mprefix .. s, expires_at)
  end
  redis.call('HSET', meta, 'expires_at_ms', expires_at)
  redis.call('PEXPIREAT', meta, expires_at)
  redis.call('PEXPIREAT', order, expires_at)
  local current = redis.call('PEXPIRETIME', uidx)
  if uidx_existed == 0 or (current > 0 and current < expires_at) then
    redis.call('PEXPIREAT', uidx, expires_at)
  elseif current == -1 and ttl_changed then
    expire_user_index(uidx, meta_prefix)
  end
end
