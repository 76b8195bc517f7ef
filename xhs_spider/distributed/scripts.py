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

#: KEYS: hosts hash. ARGV: this host, its store's kind. Registers the host
#: unless a SQLite store would be shared across machines; returns the other
#: hosts when refused, else nothing. One step: two machines starting at once
#: with SQLite cannot both pass.
REGISTER_HOST = """
local others, refused = {}, false
local hosts = redis.call('HGETALL', KEYS[1])
for index = 1, #hosts, 2 do
  if hosts[index] ~= ARGV[1] then
    table.insert(others, hosts[index])
    if ARGV[2] == 'sqlite' or hosts[index + 1] == 'sqlite' then refused = true end
  end
end
if refused then return others end
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
