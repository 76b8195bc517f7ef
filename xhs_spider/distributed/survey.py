"""What a worker sees of its shared crawl on each heartbeat (on a thread: blocking Redis calls)."""

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
    returned = 0
    for key in server.scan_iter(match=keys.in_hand_pattern):
        other = key.decode().rsplit(":", 1)[-1]
        if other != worker_id and not server.exists(keys.worker(other)):
            returned += int(return_to_queue(keys=[key, keys.requests]))
    busy = [key for key in server.scan_iter(match=keys.worker_pattern) if server.get(key) != b"idle"]
    queued = bool(server.zcard(keys.requests))
    return Look(returned=returned, quiet=state == "idle" and not busy and not queued,
                waiting=state == "idle" and queued, seeded=server.get(keys.seeded) == DONE)
