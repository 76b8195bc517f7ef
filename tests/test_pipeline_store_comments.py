"""Comments through a real crawl: the pipelines validate, dedup (on the
comment id) and store them, Freshness records a note's paging done and, in
the next run, reads off the reactor thread which notes need comments, which
comments are stored, and leases only what still needs paging."""

from __future__ import annotations

from typing import Any, ClassVar

from scrapy import Spider
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.comment_items import COMMENTED_NOTE, comment, reply
from tests.conftest import InProcessCrawl
from tests.source_items import found_note_id
from xhs_spider.extensions.freshness import Freshness
from xhs_spider.store import open_store

OTHER = found_note_id(0x77)


class CommentsProbe(Spider):
    """Asks Freshness about two notes, then pages one: a comment, its reply
    twice (inline and on a reply page), an invalid comment, and the paging done."""

    name = "comments_probe"
    seen: ClassVar[list[dict[str, Any]]] = []

    async def start(self):
        freshness = self.crawler.get_extension(Freshness)
        assert freshness is not None
        self.seen.append({
            "targets": [t["note_id"] for t in await freshness.comment_targets([COMMENTED_NOTE, OTHER])],
            "stored": await freshness.stored_comment_ids(COMMENTED_NOTE, ["c0001", "r0001-01", "c0002"]),
            "granted": await freshness.claim_comments([COMMENTED_NOTE, OTHER]),
        })
        for item in (comment(1), reply(1), reply(1), comment(2, level=7)):
            yield item
        freshness.record_comments_done(COMMENTED_NOTE, 12, 2, True)
        freshness.record_comments_done(OTHER, None, 0, False)


@deferred_f_from_coro_f
async def test_comments_reach_the_store_and_a_re_run_pages_only_what_is_needed(
    in_process_crawl: InProcessCrawl, tmp_path,
) -> None:
    CommentsProbe.seen.clear()
    first = await in_process_crawl(CommentsProbe)

    assert first.finish_reason == "finished"
    assert [item["comment_id"] for item in first.items] == ["c0001", "r0001-01"]
    assert first.stats["xhs/dedup/dropped/CommentItem"] == 1
    assert first.stats["xhs/validation/CommentItem/level"] == 1
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        assert [c["comment_id"] for c in store.records("comments")] == ["c0001", "r0001-01"]
        assert store.count("comment_metrics") == 2
        assert store.count("comment_claims") == 0  # released at the end of the run
        note = store.get_note(COMMENTED_NOTE)
        assert note is not None and (note["comments_counter"], note["comments_stored"]) == (12, 2)
        assert store.get_note(OTHER) is None  # its paging was cut short

    second = await in_process_crawl(CommentsProbe)

    assert second.finish_reason == "finished"
    before, after = CommentsProbe.seen
    assert before == {"targets": [COMMENTED_NOTE, OTHER], "stored": set(), "granted": {COMMENTED_NOTE, OTHER}}
    # Paged within XHS_COMMENTS_TTL: neither a target nor leased again; OTHER still is.
    assert after == {"targets": [OTHER], "stored": {"c0001", "r0001-01"}, "granted": {OTHER}}

    # XHS_COMMENTS_TTL=0: comments are never fresh, but for those paged since the run began.
    third = await in_process_crawl(CommentsProbe, settings={"XHS_COMMENTS_TTL": 0})

    assert third.finish_reason == "finished"
    assert CommentsProbe.seen[2]["targets"] == [COMMENTED_NOTE, OTHER]
