-- Fields of the newest `limit` items, oldest first: SORT fetches them from each item's
-- hash in C, by the sequence numbers in the order list.
-- KEYS: order list.  ARGV: SORT GET pattern (ending in `*`), limit, then the field names.
local order, pattern, limit = KEYS[1], ARGV[1], tonumber(ARGV[2])
local length = redis.call('LLEN', order)
local args = {order, 'BY', 'nosort', 'LIMIT', math.max(0, length - limit), limit}
for i = 3, #ARGV do
  args[#args + 1] = 'GET'
  args[#args + 1] = pattern .. '->' .. ARGV[i]
end
return redis.call('SORT_RO', unpack(args))
