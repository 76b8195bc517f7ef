"""Every Redis key of a shared crawl, under ``xhs:<XHS_CRAWL_ID>:``: two crawls never mix."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "xhs"


@dataclass(frozen=True)
class CrawlKeys:
    crawl_id: str

    @property
    def namespace(self) -> str:
        return f"{PREFIX}:{self.crawl_id}"

    @property
    def requests(self) -> str:
        """The shared queue (scrapy-redis's priority queue, a sorted set)."""
        return f"{self.namespace}:requests"

    @property
    def dupefilter(self) -> str:
        """Fingerprints of every request first queued in this crawl."""
        return f"{self.namespace}:dupefilter"

    @property
    def seeded(self) -> str:
        """``seeding:<worker>`` while a worker queues the start requests, then ``done``."""
        return f"{self.namespace}:seeded"

    @property
    def store(self) -> str:
        """The store the crawl's first worker wrote to (never credentials): every worker's."""
        return f"{self.namespace}:store"

    @property
    def finished(self) -> str:
        """When the crawl finished (its queue drained, seeded to the end): it is not joined again."""
        return f"{self.namespace}:finished"

    @property
    def command(self) -> str:
        """The spider and a hash of each argument of the crawl's first worker."""
        return f"{self.namespace}:command"

    @property
    def hosts(self) -> str:
        """Hash: host name of each machine with workers → the store it writes to."""
        return f"{self.namespace}:hosts"

    @property
    def workers(self) -> str:
        """Set: the id of every worker that may be alive or have requests in hand.

        Found by name from here, never by a pattern over the keyspace: finding
        the crawl's workers costs the same in a Redis holding millions of
        other keys as in an empty one.
        """
        return f"{self.namespace}:workers"

    def worker(self, worker_id: str) -> str:
        """A live worker's heartbeat (it expires when the worker dies): ``busy`` or ``idle``."""
        return f"{self.namespace}:worker:{worker_id}"

    def in_hand(self, worker_id: str) -> str:
        """Hash: the requests a worker took from the queue and has not finished."""
        return f"{self.namespace}:in-hand:{worker_id}"
