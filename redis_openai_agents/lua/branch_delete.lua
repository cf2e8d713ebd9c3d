-- Delete a branch other than main: its order list, turns and usage, and the items no
-- other branch holds. Its id stays used, so a stale session cannot write into a new
-- branch of the same name.
-- Runs inside write_once.lua, which first takes its last KEY and last two ARGV off.
-- KEYS: branches hash, the branch's order list.
-- ARGV: branch id, message key prefix.
-- Returns {items deleted, live branches}, or {-2} when there is no such branch.
local struct, order = KEYS[1], KEYS[2]
local branch, mprefix = ARGV[1], ARGV[2]
local s = redis.call('HMGET', struct, 'b:' .. branch, 'n:' .. branch, 'branches')
if not s[1] then return {-2} end
local seqs = redis.call('LRANGE', order, 0, -1)
-- Touch every key before the first write (a cluster slot may be moving).
for _, seq in ipairs(seqs) do redis.call('EXISTS', mprefix .. seq) end
local removed = 0
for _, seq in ipairs(seqs) do removed = removed + release_item(struct, mprefix, seq) end
local gone = {'b:' .. branch, 'n:' .. branch}
for k = 1, tonumber(s[2] or '0') do
  gone[#gone + 1] = 't:' .. branch .. ':' .. k
  gone[#gone + 1] = 'u:' .. branch .. ':' .. k
end
redis.call('HDEL', struct, unpack(gone))
redis.call('UNLINK', order)
local live = with_branch(s[3] or '', branch, true)
redis.call('HSET', struct, 'branches', live)
return {removed, live}
