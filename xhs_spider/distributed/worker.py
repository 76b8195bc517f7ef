"""One worker of a shared crawl: its presence, what it has in hand, and when it closes.

Each worker keeps a heartbeat key in the crawl's namespace (it expires when
the worker dies) saying whether it is busy, and its id in the crawl's worker
set (one step). Every second it puts back in the queue what gone workers
(members whose heartbeat expired: killed, or stopped with requests in flight;
scrapy-redis has no acknowledgement) had in hand, and sees whether the whole
crawl is quiet (:func:`look_around`). Every step of that look is named, never
searched for: the crawl's workers are the members of its worker set, each
one's heartbeat and hand found by its id. A look costs a few round trips and
O(workers), the same in a Redis holding millions of other keys as in an
empty one (no SCAN, no KEYS).

A worker closes once the shared queue has been empty, and every live worker
idle, for ``XHS_IDLE_CLOSE`` seconds; it ends ``finished`` only if the crawl
was seeded to the end, else ``xhs_crawl_not_seeded``. Closing so, and
with its own run's finish reason ``finished`` (not ``justoneapi_unreachable``
or another failure: that crawl may be run again), it marks the crawl finished, with when, in ``xhs:<id>:finished`` (the first mark
stays; :func:`mark_finished`): a worker started later with the same
``XHS_CRAWL_ID`` is refused before any call
(:mod:`xhs_spider.distributed.preflight`), instead of joining a drained
queue, making no call and ending ``finished``: the silent success of a
scheduled job with a fixed id. A worker that cannot reach Redis for
``REDIS_LOST_AFTER`` seconds (its heartbeat, or its scheduler at once) ends
``xhs_redis_unreachable``: it can neither take work nor tell the others it
is alive.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import DeferredLock
from twisted.internet.threads import deferToThread

from xhs_spider import stats as keys
from xhs_spider.api.normalize import now_iso
from xhs_spider.config.declarations import IDLE_CLOSE, shared_crawl
from xhs_spider.distributed import scripts
from xhs_spider.distributed.connection import REDIS_ERRORS, redis_lost, sync_redis
from xhs_spider.distributed.keys import CrawlKeys
from xhs_spider.outcome.extension import close_crawl, outcome_of
from xhs_spider.outcome.reasons import CRAWL_NOT_SEEDED, FINISHED

if TYPE_CHECKING:
    from collections.abc import Callable

    import redis
    from redis.commands.core import Script
    from scrapy import Request
    from scrapy.crawler import Crawler
    from twisted.internet.defer import Deferred
    from twisted.python.failure import Failure
    from typing_extensions import Self

logger = logging.getLogger(__name__)

#: Request.meta key: the request's entry in its worker's in-hand hash.
HELD_META = "xhs_in_hand"
HEARTBEAT_INTERVAL = 1.0
#: A worker silent this long is gone: what it had in hand goes back to the queue.
#: Comfortably longer than the worst stall of one Redis call (three tries of
#: a 2 s connect and a 2 s answer, see :mod:`.connection`):
#: a live worker waiting on Redis is not taken for gone, its requests paid twice.
HEARTBEAT_TTL_MS = 30_000
#: Seconds of failing heartbeats after which the worker ends ``xhs_redis_unreachable``.
REDIS_LOST_AFTER = 3.0
#: The value of the crawl's ``seeded`` key once its start requests are all queued.
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


def look_around(server: redis.Redis, crawl: CrawlKeys, worker_id: str, return_to_queue: Script,
                state: str) -> Look:
    """Return what gone workers had in hand, and see whether the whole crawl
    is quiet (nothing queued, nobody busy)."""
    with server.pipeline(transaction=False) as pipe:
        pipe.smembers(crawl.workers)
        pipe.zcard(crawl.requests)
        pipe.get(crawl.seeded)
        members, queue_length, seeded = pipe.execute()
    others = sorted({member.decode() for member in members} - {worker_id})
    states = server.mget([crawl.worker(other) for other in others]) if others else []
    returned = 0
    for other, other_state in zip(others, states, strict=True):
        if other_state is None:  # its heartbeat expired, or it left: gone
            returned += int(return_to_queue(
                keys=[crawl.in_hand(other), crawl.requests, crawl.worker(other), crawl.workers],
                args=[other],
            ))
    busy = any(other_state not in (None, b"idle") for other_state in states)
    queued = bool(queue_length or returned)
    return Look(returned=returned, quiet=state == "idle" and not busy and not queued,
                waiting=state == "idle" and queued, seeded=seeded == DONE)


class SharedCrawlWorker:
    def __init__(self, crawler: Crawler):
        settings = crawler.settings
        crawl_id = shared_crawl(settings)
        if crawl_id is None:
            raise NotConfigured("not a shared crawl (REDIS_URL, XHS_CRAWL_ID): Scrapy's own scheduler")
        self.crawler = crawler
        self.keys = CrawlKeys(crawl_id)
        self.idle_close = IDLE_CLOSE.get(settings)
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.server = sync_redis(settings)
        self._return = self.server.register_script(scripts.RETURN_TO_QUEUE)
        self._take_seeding = self.server.register_script(scripts.TAKE_SEEDING)
        self.quiet_since: float | None = None
        self.seeded_to_the_end = False
        self.seeding = False
        self.seeding_now = False
        #: Takes the next request from the shared queue: set by the scheduler when it opens.
        self.next_request: Callable[[], Request | None] | None = None
        #: Fields of requests done and not yet removed from the in-hand hash.
        self._done: set[str] = set()
        self._removing = DeferredLock()
        self._removal_failing = False
        self._looking = DeferredLock()
        self._heartbeat_failing_since: float | None = None
        #: Redis is gone: the crawl is closing with ``xhs_redis_unreachable``.
        self.redis_gone = False
        self._closed_down = False
        self._loop = create_looping_call(self._tick)
        crawler.signals.connect(self._opened, signal=signals.spider_opened)
        crawler.signals.connect(self._idle, signal=signals.spider_idle)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    # Seeding -----------------------------------------------------------------

    async def seeds(self) -> bool:
        """Whether this worker queues the crawl's start requests (the first
        worker, or one that finds the seeder died seeding)."""
        self.seeding = await maybe_deferred_to_future(deferToThread(self._takes_seeding))
        self.seeding_now = self.seeding
        self.crawler.stats.set_value(keys.DISTRIBUTED_SEEDED, int(self.seeding))
        logger.info("%(what)s shared crawl %(crawl)s as worker %(worker)s.", {
            "what": "Seeding" if self.seeding else "Joining",
            "crawl": self.keys.crawl_id, "worker": self.worker_id,
        })
        return self.seeding

    async def seeded(self) -> None:
        """The start requests are all queued: the crawl can finish."""
        await maybe_deferred_to_future(deferToThread(self.server.set, self.keys.seeded, DONE))
        self.seeding_now = False

    def _takes_seeding(self) -> bool:
        self._beat("busy")
        prefix = self.keys.worker("")
        return bool(self._take_seeding(keys=[self.keys.seeded], args=[self.worker_id, prefix]))

    # What the worker has in hand -------------------------------------------------

    def release(self, request: Request) -> None:
        """*request* is done: it no longer goes back to the queue if this worker dies."""
        field = request.meta.pop(HELD_META, None)
        if field is not None:
            self._done.add(field)
            self._remove_done_soon()

    def _remove_done_soon(self, *, retrying: bool = False) -> None:
        """Removes the done requests from the in-hand hash on a thread, one
        removal at a time: those done meanwhile go together with the next."""
        # Not on a timer: a request done but still in hand goes back to the
        # queue if this worker is killed, and its detail is paid again (the
        # claims refuse notes written to the store; this one is still only in
        # the journal). The window stays one Redis round trip.
        if not self._done or self._removing.locked or (self._removal_failing and not retrying):
            return
        self._removing.run(self._remove_done).addCallback(lambda _: self._remove_done_soon())

    def _remove_done(self, *, leaving: bool = False) -> Deferred[None]:
        fields, self._done = sorted(self._done), set()
        removal = deferToThread(self._forget, fields, leaving)
        removal.addCallbacks(self._removed, self._not_removed, errbackArgs=(fields,))
        return removal

    def _forget(self, fields: list[str], leaving: bool) -> None:
        """On a thread: *fields* out of the hand; *leaving*, the heartbeat and connection too."""
        if fields:
            self.server.hdel(self.keys.in_hand(self.worker_id), *fields)
        if leaving:
            # What is still in hand goes back to the queue: the other workers
            # see this worker gone at once (it stays in the set until then),
            # instead of after its heartbeat expires.
            self.server.delete(self.keys.worker(self.worker_id))
            self.server.close()

    def _removed(self, _: None) -> None:
        self._removal_failing = False

    def _not_removed(self, failure: Failure, fields: list[str]) -> None:
        self._done.update(fields)
        if self._removal_failing:
            return  # once per outage: tried again on every heartbeat
        self._removal_failing = True  # tried again on the next heartbeat, not on every release
        logger.warning("Redis did not take %(count)d done requests out of this worker's hand: "
                       "%(error)s", {"count": len(fields), "error": failure.getErrorMessage()})

    # Presence ------------------------------------------------------------------------

    async def _opened(self) -> None:
        self.crawler.stats.set_value(keys.DISTRIBUTED_CRAWL_ID, self.keys.crawl_id)
        self.crawler.stats.set_value(keys.DISTRIBUTED_WORKER, self.worker_id)
        # Awaited by the engine before it takes a request: nothing is in hand
        # before the heartbeat says this worker is alive.
        await maybe_deferred_to_future(deferToThread(self._beat, "busy"))
        self._loop.start(HEARTBEAT_INTERVAL, now=False)

    def _tick(self) -> None:
        self._remove_done_soon(retrying=True)
        if not self._looking.locked and self.crawler.engine is not None:
            self._looking.run(self._look)

    def _look(self) -> Deferred[Any]:
        state = "busy" if self._busy() else "idle"
        deferred = deferToThread(self._look_around, state)
        deferred.addCallbacks(self._looked, self._heartbeat_failed)
        return deferred

    def _heartbeat_failed(self, failure: Failure) -> None:
        now = time.monotonic()
        if self._heartbeat_failing_since is None:
            self._heartbeat_failing_since = now
            logger.warning("Redis did not answer the heartbeat: %(error)s",
                           {"error": failure.getErrorMessage()})
        elif now - self._heartbeat_failing_since >= REDIS_LOST_AFTER:
            self.lost(failure.value, "keeping this worker's heartbeat")

    def lost(self, error: BaseException, doing: str) -> None:
        """Redis is gone: end the crawl ``xhs_redis_unreachable``, once."""
        if not self.redis_gone:
            self.redis_gone = True
            redis_lost(self.crawler, error, doing, "(this worker can neither take work from "
                       "the shared queue nor show the others it is alive)")

    def _busy(self) -> bool:
        """Whether this worker has work in hand (the shared queue aside)."""
        engine = self.crawler.engine
        assert engine is not None
        scraper_slot = engine.scraper.slot
        return (self.seeding_now or bool(engine.downloader.active)
                or (scraper_slot is not None and not scraper_slot.is_idle()))

    def _beat(self, state: str) -> None:
        if self._closed_down:
            return
        with self.server.pipeline(transaction=True) as pipe:
            pipe.set(self.keys.worker(self.worker_id), state, px=HEARTBEAT_TTL_MS)
            pipe.sadd(self.keys.workers, self.worker_id)
            pipe.execute()

    def _look_around(self, state: str) -> Look:
        """On a thread: beat, then see the crawl (:func:`look_around`)."""
        self._beat(state)
        return look_around(self.server, self.keys, self.worker_id, self._return, state)

    def _looked(self, look: Look) -> None:
        self._heartbeat_failing_since = None
        if look.waiting:
            self._wake_up()
        if look.returned:
            self.crawler.stats.inc_value(keys.DISTRIBUTED_RETURNED, look.returned)
            logger.info("Put %(count)d requests that gone workers had in hand back in the queue.",
                        {"count": look.returned})
        self.seeded_to_the_end = look.seeded
        if not look.quiet:
            self.quiet_since = None
        elif self.quiet_since is None:
            self.quiet_since = time.monotonic()
        engine = self.crawler.engine
        if self._drained() and engine is not None and engine.spider_is_idle():
            # Scrapy would ask spider_idle only at its next 5 s heartbeat.
            self._judge_seeding()
            close_crawl(self.crawler, FINISHED)

    def _wake_up(self) -> None:
        """An idle engine looks at its scheduler again only every 5 s: hand
        it the next request through the public way in (``engine.crawl``),
        which queues it again and wakes the engine up at once."""
        next_request, engine = self.next_request, self.crawler.engine
        request = None if next_request is None or engine is None else next_request()
        if request is not None and engine is not None:
            engine.crawl(request)

    def _drained(self) -> bool:
        """The whole crawl has been quiet for XHS_IDLE_CLOSE seconds."""
        return self.quiet_since is not None and time.monotonic() - self.quiet_since >= self.idle_close

    def _idle(self) -> None:
        if self.redis_gone:
            return  # closing xhs_redis_unreachable: nothing to wait for
        if not self._drained():
            raise DontCloseSpider
        self._judge_seeding()

    def _judge_seeding(self) -> None:
        if not self.seeded_to_the_end:
            logger.error("The shared crawl %(crawl)s was never seeded to the end: its seeding "
                         "worker stopped first.", {"crawl": self.keys.crawl_id})
            outcome_of(self.crawler).fail(CRAWL_NOT_SEEDED)

    async def _closed(self, reason: str) -> None:
        if self._loop.running:
            self._loop.stop()
        self._closed_down = True
        # A heartbeat under way would set the key again after it is deleted;
        # done requests left in hand would go back to the queue and be paid again.
        await maybe_deferred_to_future(self._looking.run(lambda: None))
        # Only a worker whose own run ended finished marks the crawl so: one
        # whose every call failed (justoneapi_unreachable…) leaves the id to
        # be run again, resuming what the store holds.
        finished = outcome_of(self.crawler).reason(reason) == FINISHED
        if finished and self._drained() and self.seeded_to_the_end and not self.redis_gone:
            await maybe_deferred_to_future(deferToThread(mark_finished, self.server, self.keys))
        await maybe_deferred_to_future(self._removing.run(self._remove_done, leaving=True))


def worker_of(crawler: Crawler) -> SharedCrawlWorker:
    worker = crawler.get_extension(SharedCrawlWorker)
    if worker is None:
        raise RuntimeError("Distributed mode needs the SharedCrawlWorker extension.")
    return worker


def shared_worker(crawler: Crawler) -> SharedCrawlWorker | None:
    """The crawl's worker in distributed mode, else ``None``."""
    return crawler.get_extension(SharedCrawlWorker)


def mark_finished(server: redis.Redis, crawl: CrawlKeys) -> bool:
    """On a thread: mark the crawl finished if Redis agrees it is (queue empty, seeded)."""
    try:
        marked = server.register_script(scripts.MARK_FINISHED)(
            keys=[crawl.finished, crawl.requests, crawl.seeded], args=[now_iso()])
    except REDIS_ERRORS as exc:
        logger.warning("Could not mark the shared crawl %(crawl)s finished: %(error)s",
                       {"crawl": crawl.crawl_id, "error": exc})
        return False
    if marked:
        logger.info("The shared crawl %(crawl)s is finished: its id starts no new work.",
                    {"crawl": crawl.crawl_id})
    return bool(marked)
