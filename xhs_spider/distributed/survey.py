"""What a worker sees of its shared crawl on each heartbeat (on a thread: blocking Redis calls).

Every step is named, never searched for: the crawl's workers are the members
of its worker set, each one's heartbeat and hand found by its id. A look costs
a few round trips and O(workers), the same in a Redis holding millions of
other keys as in an empty one (no SCAN, no KEYS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis
    from redis.commands.core import Script

    from xhs_spider.distributed.keys import CrawlKeys

DONE = b"done"


@dataclass(frozen=True)
class Look:
    """What a worker saw of the shared crawl on one heartbeat."""

    #: Requests of gone workers put back in the queue.
    returned: int
    #: Nothing queued, no live worker busy.
    quiet: bool
    #: Requests queued while this worker is idle.
    waiting: bool
    seeded: bool


def look_around(server: redis.Redis, keys: CrawlKeys, worker_id: str, return_to_queue: Script,
                state: str) -> Look:
    """Return what gone workers had in hand, and see whether the whole crawl
    is quiet (nothing queued, nobody busy)."""
    with server.pipeline(transaction=False) as pipe:
        pipe.smembers(keys.workers)
        pipe.zcard(keys.requests)
        pipe.get(keys.seeded)
        members, queue_length, seeded = pipe.execute()
    others = sorted({member.decode() for member in members} - {worker_id})
    states = server.mget([keys.worker(other) for other in others]) if others else []
    returned = 0
    for other, other_state in zip(others, states, strict=True):
        if other_state is None:  # its heartbeat expired, or it left: gone
            returned += int(return_to_queue(
                keys=[keys.in_hand(other), keys.requests, keys.worker(other), keys.workers], args=[other],
            ))
    busy = any(other_state not in (None, b"idle") for other_state in states)
    queued = bool(queue_length or returned)
    return Look(returned=returned, quiet=state == "idle" and not busy and not queued,
                waiting=state == "idle" and queued, seeded=seeded == DONE)

