"""RecentSet: remembers its most recent members only."""

from __future__ import annotations

import pickle

from xhs_spider.run.recent import RecentSet


def test_the_oldest_member_goes_first_once_full() -> None:
    recent: RecentSet[str] = RecentSet(["a", "b"], capacity=3)
    recent.add("c")
    recent.add("a")  # already a member: no reordering, nothing added
    assert len(recent) == 3
    recent.add("d")
    assert "a" not in recent and {"b", "c", "d"} == {m for m in "abcd" if m in recent}


def test_it_survives_a_jobdir_pause() -> None:
    recent: RecentSet[str] = RecentSet(["x"], capacity=2)
    again = pickle.loads(pickle.dumps(recent))
    again.update(["y", "z"])
    assert "x" not in again and "z" in again
