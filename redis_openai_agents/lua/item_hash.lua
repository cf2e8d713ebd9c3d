-- Shared by the scripts that store items: the fields of one item's hash, in one HSET.
-- MessageHistory's schema (entry_id, session_tag, role, content, timestamp, metadata: the
-- SDK item's JSON, tool_call_id when there is one), then the user's tag and any extra
-- metadata. Writing them in one HSET matters: every HSET on an indexed hash makes the
-- Query Engine index the whole document again. The sequence number is the key's last
-- part and the entry id's, so no field repeats it.
-- KEYS: none of its own; its caller writes the hash it names with what this returns.
local function item_fields(entry_id, conv_id, user_id, role, content, timestamp, metadata,
                           tool_call_id, extra)
  local fields = {'entry_id', entry_id, 'session_tag', conv_id, 'user_tag', user_id,
                  'role', role, 'content', content, 'timestamp', timestamp,
                  'metadata', metadata}
  if tool_call_id ~= '' then
    fields[#fields + 1] = 'tool_call_id'
    fields[#fields + 1] = tool_call_id
  end
  if extra ~= nil and extra ~= '' then
    fields[#fields + 1] = 'extra'
    fields[#fields + 1] = extra
  end
  return fields
end
