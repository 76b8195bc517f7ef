"""scrapy-redis's scheduler, with what each worker took from the shared queue kept in hand.

scrapy-redis removes a request from Redis as a worker pops it: a worker
killed then loses it. Here the pop and a copy into the worker's in-hand hash
are one atomic step; the copy goes once the request is done
(:mod:`xhs_spider.distributed.acks`), or back to the queue when the worker is
gone (:class:`~xhs_spider.distributed.worker.SharedCrawlWorker`).

Our requests are ``dont_filter`` (the store decides what is paid twice, see
:mod:`xhs_spider.api.client`), which scrapy-redis's dupefilter would let
through: here a request is filtered the first time it is queued, so two
workers reading feeds that show one note queue its detail once, and a worker
seeding again after a dead seeder queues nothing twice. A request that comes
back (a retry, a request kept for resume) carries the mark of its pop and is
queued again as it is.

A request crosses Redis as JSON data (:mod:`.serializer`), never pickle: an
entry that is not one of this crawl's requests (a pickle planted by whoever
can reach Redis, garbage, a callback the spider lacks) is taken out of the
queue and dropped, one warning for each kind, each counted
(``xhs/distributed/dropped_entries/<kind>``). One call drops at most
:data:`MAX_DROPPED_PER_CALL` of them and answers "nothing" (the engine asks
again on its next tick): a flood of planted entries cannot hold the reactor
thread, and the heartbeat with it.

Redis gone ends the crawl ``xhs_redis_unreachable`` (once, one line) and the
scheduler answers "nothing" instead of raising on every engine tick.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy_redis.scheduler import Scheduler as RedisScheduler

from xhs_spider.api.client import origin
from xhs_spider.config.declarations import BASE_URL
from xhs_spider.distributed import scripts, serializer
from xhs_spider.distributed.connection import REDIS_ERRORS
from xhs_spider.distributed.setup import redis_url_warning
from xhs_spider.distributed.worker import HELD_META, worker_of
from xhs_spider.stats import DISTRIBUTED_DROPPED, DISTRIBUTED_DROPPED_KIND, DISTRIBUTED_DUPLICATES

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

#: Bad entries one ``next_request`` call drops before it gives the reactor back.
MAX_DROPPED_PER_CALL = 100


class SharedScheduler(RedisScheduler):
    #: The kinds of bad entries dropped so far: each is warned about once.
    dropped_kinds: set[str]
    #: The crawl's ``JUSTONEAPI_BASE_URL`` origin: a request for any other is dropped.
    api_origin: tuple[str, str, int | None]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        scheduler = cls.from_settings(crawler.settings)
        scheduler.stats = crawler.stats
        scheduler.crawler = crawler
        scheduler.dropped_kinds = set()
        scheduler.api_origin = origin(BASE_URL.get(crawler.settings))
        warning = redis_url_warning(crawler.settings)
        if warning:
            logger.warning(warning)
        return scheduler

    def open(self, spider: Spider) -> None:
        super().open(spider)
        self.worker = worker_of(self.crawler)
        self.worker.next_request = self.next_request
        self._pop = self.server.register_script(scripts.POP_INTO_HAND)

    def enqueue_request(self, request: Request) -> bool:
        if self.worker.redis_gone:
            return False  # a request in hand stays in Redis: another worker puts it back
        try:
            return self._enqueue(request)
        except REDIS_ERRORS as exc:
            self.worker.lost(exc, "queueing a request")
            return False

    def _enqueue(self, request: Request) -> bool:
        held = request.meta.pop(HELD_META, None)
        if held is None and self.df.request_seen(request):
            self.stats.inc_value(DISTRIBUTED_DUPLICATES)
            return False
        data = serializer.encode(request, self.spider)
        with self.server.pipeline() as pipe:
            pipe.execute_command("ZADD", self.queue.key, -request.priority, data)
            if held is not None:
                pipe.hdel(self.worker.keys.in_hand(self.worker.worker_id), held)
            pipe.execute()
        return True

    def next_request(self) -> Request | None:
        if self.worker.redis_gone:
            return None
        in_hand = self.worker.keys.in_hand(self.worker.worker_id)
        try:
            for _ in range(MAX_DROPPED_PER_CALL):
                popped = self._pop(keys=[self.queue.key, in_hand])
                if not popped:
                    break
                field, data = popped
                request = self._request_of(field, data, in_hand)
                if request is not None:
                    return request
        except REDIS_ERRORS as exc:
            self.worker.lost(exc, "taking a request from the shared queue")
        return None

    def _request_of(self, field: Any, data: bytes, in_hand: str) -> Request | None:
        """The request of an entry taken from the queue, or ``None`` once a bad one is dropped."""
        field = field.decode() if isinstance(field, bytes) else field
        try:
            request = serializer.decode(data, self.spider, self.api_origin)
        except serializer.BadEntry as exc:
            self.server.hdel(in_hand, field)  # never back to the queue
            self._dropped(exc)
            return None
        request.meta[HELD_META] = field
        return request

    def _dropped(self, entry: serializer.BadEntry) -> None:
        self.stats.inc_value(DISTRIBUTED_DROPPED)
        self.stats.inc_value(DISTRIBUTED_DROPPED_KIND.format(kind=entry.kind))
        if entry.kind in self.dropped_kinds:
            return
        self.dropped_kinds.add(entry.kind)
        logger.warning(
            "Dropped an entry of the shared queue %(queue)s that is %(entry)s. Whoever can write "
            "to this Redis can put entries there: give it a password (docs/distributed.md). "
            "Further entries of this kind are dropped and counted in %(stat)s only.",
            {"queue": self.queue.key, "entry": entry,
             "stat": DISTRIBUTED_DROPPED_KIND.format(kind=entry.kind)},
        )

    def has_pending_requests(self) -> bool:
        if self.worker.redis_gone:
            return False
        try:
            return len(self) > 0
        except REDIS_ERRORS as exc:
            self.worker.lost(exc, "counting the shared queue")
            return False
