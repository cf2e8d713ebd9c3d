-- Record a run's usage against the newest user turn of a branch, replacing what that
-- turn had (a run is one turn; storing the same run again changes nothing).
-- Runs inside write_once.lua, which first takes its last KEY and last two ARGV off.
-- KEYS: branches hash.  ARGV: branch id, usage JSON.
-- Returns the turn, 0 when the branch has no turn yet, or -2 when it does not exist.
local struct, branch = KEYS[1], ARGV[1]
local s = redis.call('HMGET', struct, 'n:' .. branch, 'b:' .. branch)
if branch ~= 'main' and not s[2] then return -2 end
local turn = tonumber(s[1] or '0')
if turn == 0 then return 0 end
redis.call('HSET', struct, 'u:' .. branch .. ':' .. turn, ARGV[2])
return turn
