"""One worker thread for blocking calls (database drivers, file writes).

One thread, so calls run one at a time and in the order they were made: the
SQLite connection is never shared between threads, and batches reach the
store in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

if TYPE_CHECKING:
    from collections.abc import Callable

_T = TypeVar("_T")


def _reactor() -> Any:
    # The installed reactor, imported late: Scrapy installs it first. Twisted
    # types it as a module, and its interfaces need a mypy plugin to check.
    from twisted.internet import reactor  # noqa: PLC0415

    return reactor


class WorkerThread:
    def __init__(self, name: str):
        reactor = _reactor()
        self._pool = ThreadPool(minthreads=1, maxthreads=1, name=name)
        self._pool.start()
        # Its thread is not a daemon: an interrupted crawl must still end it.
        self._trigger = reactor.addSystemEventTrigger("during", "shutdown", self._pool.stop)

    async def call(self, function: Callable[..., _T], *args: Any) -> _T:
        deferred = deferToThreadPool(_reactor(), self._pool, function, *args)
        return await maybe_deferred_to_future(deferred)

    def stop(self) -> None:
        _reactor().removeSystemEventTrigger(self._trigger)
        self._pool.stop()
