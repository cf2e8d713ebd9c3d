-- A JSONSession write that also keeps its owner and agents: create the document when
-- missing, apply one change, stamp it and slide its expiry, atomically.
-- KEYS: document.
-- ARGV: op, ttl ms ('' keeps the stored ttl), user id ('' for none), session id, operands:
--   create                      (only makes sure the document exists)
--   message <item json> <agent or ''> <tokens or ''>
--   agent <name>
-- Returns the document's current agent, or false.
local key, op, ttl_arg, user_id, session_id = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if op ~= 'create' and op ~= 'message' and op ~= 'agent' then
  return redis.error_reply('ERR unknown JSONSession operation ' .. op)
end
local t = redis.call('TIME')
local stamp = string.format('%d.%06d', tonumber(t[1]), tonumber(t[2]))
if redis.call('EXISTS', key) == 0 then
  redis.call('JSON.SET', key, '$',
    '{"data":{},"items":[],"created_at":' .. stamp .. ',"updated_at":' .. stamp .. ',"ttl_ms":0}')
end
if #redis.call('JSON.TYPE', key, '$.meta') == 0 then
  local owner = cjson.null
  if user_id ~= '' then owner = user_id end
  redis.call('JSON.SET', key, '$.meta', cjson.encode({
    user_id = owner, session_id = session_id, current_agent = cjson.null, total_tokens = 0}))
  redis.call('JSON.SET', key, '$.meta.agents_used', '[]')
end

local function track(agent)
  local name = cjson.encode(agent)
  redis.call('JSON.SET', key, '$.meta.current_agent', name)
  if redis.call('JSON.ARRINDEX', key, '$.meta.agents_used', name)[1] == -1 then
    redis.call('JSON.ARRAPPEND', key, '$.meta.agents_used', name)
  end
end

if op == 'message' then
  redis.call('JSON.ARRAPPEND', key, '$.items', ARGV[5])
  if ARGV[6] ~= '' then track(ARGV[6]) end
  if ARGV[7] ~= '' then redis.call('JSON.NUMINCRBY', key, '$.meta.total_tokens', ARGV[7]) end
elseif op == 'agent' then
  track(ARGV[5])
end

stamp_document(key, stamp, ttl_arg)
local agent = cjson.decode(redis.call('JSON.GET', key, '$.meta.current_agent'))[1]
if agent == cjson.null then return false end
return agent
