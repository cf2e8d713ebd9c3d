-- A conversation's items between two positions of its order list, with what tells whether
-- they changed later: one atomic read for the SDK's compaction snapshot.
-- KEYS: meta, order list.
-- ARGV: message key prefix, first and last position (LRANGE's, negative from the end).
-- Returns {created_at ('' for none), order list length, seqs, item json per seq (nil
-- when its hash is missing)}.
local meta, order, mprefix = KEYS[1], KEYS[2], ARGV[1]
local generation = redis.call('HGET', meta, 'created_at') or ''
local seqs = redis.call('LRANGE', order, ARGV[2], ARGV[3])
local items = {}
for i, s in ipairs(seqs) do items[i] = redis.call('HGET', mprefix .. s, 'metadata') end
return {generation, redis.call('LLEN', order), seqs, items}
