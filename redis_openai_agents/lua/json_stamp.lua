-- Shared by the JSONSession writes: stamp the document and slide its expiry.
-- KEYS: none of its own; called with the document key its script declared.
local function stamp_document(key, stamp, ttl_arg)
  redis.call('JSON.SET', key, '$.updated_at', stamp)
  local ttl_ms
  if ttl_arg ~= '' then
    ttl_ms = tonumber(ttl_arg)
    redis.call('JSON.SET', key, '$.ttl_ms', ttl_arg)
  else
    ttl_ms = tonumber(redis.call('JSON.GET', key, '$.ttl_ms'):sub(2, -2)) or 0
  end
  if ttl_ms > 0 then
    redis.call('PEXPIRE', key, ttl_ms)
  end
end
