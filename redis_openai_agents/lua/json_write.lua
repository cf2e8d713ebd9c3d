-- Every write to a JSONSession document: create it when missing, apply one change,
-- stamp it and slide its expiry, atomically. A change Redis refuses leaves no document
-- behind that this call created.
-- Runs inside write_once.lua, which first takes its last KEY and last two ARGV off.
-- KEYS: document.  ARGV: op, ttl ms ('' keeps the stored ttl), operands...
--   set <path> <json>   del <path>   append <json>...   pop   clear_items   drop
local key, op, ttl_arg = KEYS[1], ARGV[1], ARGV[2]
if op == 'drop' then return redis.call('UNLINK', key) end
local t = redis.call('TIME')
local stamp = string.format('%d.%06d', tonumber(t[1]), tonumber(t[2]))
local created = redis.call('EXISTS', key) == 0
if created then
  if op == 'del' or op == 'pop' or op == 'clear_items' then return false end
  redis.call('JSON.SET', key, '$',
    '{"data":{},"items":[],"created_at":' .. stamp .. ',"updated_at":' .. stamp .. ',"ttl_ms":0}')
end

local function apply()
  if op == 'set' then
    redis.call('JSON.SET', key, ARGV[3], ARGV[4])
    return 1
  elseif op == 'del' then
    return redis.call('JSON.DEL', key, ARGV[3])
  elseif op == 'append' then
    local length = 0
    for i = 3, #ARGV, 1000 do
      length = redis.call('JSON.ARRAPPEND', key, '$.items',
                          unpack(ARGV, i, math.min(i + 999, #ARGV)))[1]
    end
    return length
  elseif op == 'pop' then
    return redis.call('JSON.ARRPOP', key, '$.items')[1]
  elseif op == 'clear_items' then
    return redis.call('JSON.CLEAR', key, '$.items')
  end
  error('unknown JSONSession operation ' .. op)
end

local before = 0
if op == 'append' then before = redis.call('JSON.ARRLEN', key, '$.items')[1] end
local ok, result = pcall(apply)
if not ok then
  if created then
    redis.call('DEL', key)
  elseif op == 'append' and before > 0 then
    redis.call('JSON.ARRTRIM', key, '$.items', 0, before - 1)
  elseif op == 'append' then
    redis.call('JSON.SET', key, '$.items', '[]')
  end
  return redis.error_reply(type(result) == 'table' and result.err or tostring(result))
end
stamp_document(key, stamp, ttl_arg)
return result
