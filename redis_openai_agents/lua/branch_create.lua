-- Start a branch at a user turn of another branch: the new branch's order list holds the
-- items before that turn (the same item hashes, not copies), and its turns are theirs.
-- Costs O(items before the turn); the source branch is not touched.
-- Runs inside write_once.lua, which first takes its last KEY and last two ARGV off.
-- KEYS: meta, branches hash, source order list, new order list.
-- ARGV: source branch id, new branch id, turn number, the sequence number that turn must
--       start with ('' for any), message key prefix.
-- Returns {turn, live branches}, or {-2} (no source branch), {-4} (no such turn, or it
-- starts elsewhere now), {-5} (the new id was used before); those write nothing.
local meta, struct, src, dst = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local source, new, turn, expected = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
if source == 'main' and redis.call('EXISTS', meta) == 1 then
  ensure_main_turns(struct, src, ARGV[5])
end
local s = redis.call('HMGET', struct, 'n:' .. source, 'b:' .. source, 'x:' .. new, 'branches')
if source ~= 'main' and not s[2] then return {-2} end
local turns = tonumber(s[1] or '0')
if redis.call('EXISTS', meta) == 0 or turn < 1 or turn > turns then return {-4} end
local seq = redis.call('HGET', struct, 't:' .. source .. ':' .. turn)
if not seq or (expected ~= '' and expected ~= seq) then return {-4} end
if new == 'main' or s[3] then return {-5} end
local pos = redis.call('LPOS', src, seq)
if not pos then return {-4} end
redis.call('EXISTS', dst)

local copied = {}
if pos > 0 then copied = redis.call('LRANGE', src, 0, pos - 1) end
for i = 1, #copied, 1000 do
  redis.call('RPUSH', dst, unpack(copied, i, math.min(i + 999, #copied)))
end
for _, c in ipairs(copied) do redis.call('HINCRBY', struct, 'r:' .. c, 1) end
local t = redis.call('TIME')
local stamp = string.format('%d.%06d', tonumber(t[1]), tonumber(t[2]))
local fields = {'n:' .. new, turn - 1, 'x:' .. new, 1,
                'b:' .. new, cjson.encode({created_at = stamp, parent = source, turn = turn}),
                'branches', with_branch(s[4] or '', new, false)}
for k = 1, turn - 1 do
  fields[#fields + 1] = 't:' .. new .. ':' .. k
  fields[#fields + 1] = redis.call('HGET', struct, 't:' .. source .. ':' .. k)
end
redis.call('HSET', struct, unpack(fields))
follow_expiry(meta, struct, {dst}, '', false)
return {turn, fields[8]}
