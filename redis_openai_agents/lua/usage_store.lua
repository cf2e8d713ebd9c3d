-- Record a run's usage against the newest user turn of a branch, replacing what that
-- turn had (a run is one turn; storing the same run again changes nothing).
-- Runs inside write_once.lua, which first takes its last KEY and last two ARGV off.
-- KEYS: meta, branches hash, main order list.
-- ARGV: branch id, usage JSON, message key prefix.
-- Returns the turn, 0 when the branch has no turn yet, or -2 when it does not exist.
local meta, struct, order = KEYS[1], KEYS[2], KEYS[3]
local branch, mprefix = ARGV[1], ARGV[3]
if branch ~= 'main' and redis.call('HEXISTS', struct, 'b:' .. branch) == 0 then return -2 end
if redis.call('EXISTS', meta) == 0 then return 0 end
if branch == 'main' then ensure_main_turns(struct, order, mprefix) end
local turn = tonumber(redis.call('HGET', struct, 'n:' .. branch) or '0')
if turn > 0 then redis.call('HSET', struct, 'u:' .. branch .. ':' .. turn, ARGV[2]) end
follow_expiry(meta, struct, {}, mprefix, false)
return turn
