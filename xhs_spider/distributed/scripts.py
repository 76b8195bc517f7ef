"""Lua scripts: each step that several workers race for is one atomic step in Redis."""

from __future__ import annotations

#: KEYS: queue, in-hand hash. Pops the best request and notes it in hand, at
#: once: a kill between the two would lose the request.
POP_INTO_HAND = """
local found = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #found == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
local field = found[2] .. ':' .. redis.sha1hex(found[1])
redis.call('HSET', KEYS[2], field, found[1])
return {field, found[1]}
"""

#: KEYS: in-hand hash of a worker, queue, its heartbeat, the crawl's worker
#: set. ARGV: the worker's id. If its heartbeat has expired (it is gone), puts
#: what it had in hand back in the queue, with the score it had there, and
#: takes it out of the set; only one worker wins the race, and a worker whose
#: heartbeat came back meanwhile keeps its hand.
RETURN_TO_QUEUE = """
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local held = redis.call('HGETALL', KEYS[1])
for index = 1, #held, 2 do
  local score = string.match(held[index], '^([^:]+):')
  redis.call('ZADD', KEYS[2], tonumber(score), held[index + 1])
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[4], ARGV[1])
return #held / 2
"""

#: KEYS: seed marker, ARGV: this worker's id, the heartbeat key prefix.
#: Whether this worker seeds: nobody did yet, or the seeder died seeding.
TAKE_SEEDING = """
local marker = redis.call('GET', KEYS[1])
if marker then
  local seeder = string.match(marker, '^seeding:(.+)$')
  if not seeder or redis.call('EXISTS', ARGV[2] .. seeder) == 1 then return 0 end
end
redis.call('SET', KEYS[1], 'seeding:' .. ARGV[1])
return 1
"""

#: KEYS: hosts hash, the crawl's store. ARGV: this host, its store's kind,
#: its store's identity. Registers the host and (if first) the store, unless
#: a SQLite store would be shared across machines (returns ``hosts`` and the
#: other hosts) or the crawl writes to another store (returns ``store`` and
#: the crawl's); else nothing. One step: two machines starting at once with
#: SQLite cannot both pass, nor two workers with two stores.
REGISTER_HOST = """
local others, refused = {'hosts'}, false
local hosts = redis.call('HGETALL', KEYS[1])
for index = 1, #hosts, 2 do
  if hosts[index] ~= ARGV[1] then
    table.insert(others, hosts[index])
    if ARGV[2] == 'sqlite' or hosts[index + 1] == 'sqlite' then refused = true end
  end
end
if refused then return others end
local store = redis.call('GET', KEYS[2])
if store and store ~= ARGV[3] then return {'store', store} end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {}
"""

#: KEYS: the crawl's command. ARGV: this worker's. The command recorded
#: first, or false if this worker's is now the crawl's.
RECORD_COMMAND = """
local recorded = redis.call('GET', KEYS[1])
if recorded then return recorded end
redis.call('SET', KEYS[1], ARGV[1])
return false
"""

#: KEYS: the crawl's finished mark, queue, seeding mark. ARGV: when (UTC).
#: Marks the crawl finished if its queue is empty and it was seeded to the
#: end (the first mark stays); returns 1 if it is finished.
MARK_FINISHED = """
if redis.call('ZCARD', KEYS[2]) > 0 or redis.call('GET', KEYS[3]) ~= 'done' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return 1
"""
