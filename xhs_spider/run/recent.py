"""A set that remembers only its most recent members, so a long run stays flat.

What a run must remember per note (sent, leased, seen in a feed, passed the
dedup) only has to cover a window: a note sent long ago has its answer in
the store by now, where freshness and leases catch it again. Remembering
every note of a 100,000-note crawl would grow memory to the end of the run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)

#: Far more than the calls in flight plus a store batch, and than the notes
#: of the feed pages read recently.
DEFAULT_CAPACITY = 20_000


class RecentSet(Generic[T]):
    def __init__(self, members: Iterable[T] = (), capacity: int = DEFAULT_CAPACITY):
        self.capacity = capacity
        self._members: set[T] = set()
        self._order: deque[T] = deque()
        self.update(members)

    def __contains__(self, member: object) -> bool:
        return member in self._members

    def __len__(self) -> int:
        return len(self._members)

    def add(self, member: T) -> None:
        if member in self._members:
            return
        self._members.add(member)
        self._order.append(member)
        if len(self._order) > self.capacity:
            self._members.discard(self._order.popleft())

    def update(self, members: Iterable[T]) -> None:
        for member in members:
            self.add(member)
