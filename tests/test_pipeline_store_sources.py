"""The items and records of the discovery sources through a real crawl: the
pipelines validate, dedup and store them, Freshness records pages and share
links and reads them back off the reactor thread in the next run."""

from __future__ import annotations

from typing import Any, ClassVar

from scrapy import Spider
from scrapy.utils.defer import deferred_f_from_coro_f

from tests.conftest import InProcessCrawl
from tests.source_items import creator, found_note_id, raw_answer, source_appearance
from xhs_spider.extensions.freshness import Freshness
from xhs_spider.store import open_store

USER = "5c0000000000000000000001"
LINK, RESOLVED = "http://xhslink.com/a/AbC", "https://www.xiaohongshu.com/explore/" + "6" * 24


class SourcesProbe(Spider):
    """Reads what Freshness knows, records a page and a share link, yields
    one item of each new class (an appearance twice, an invalid one once)."""

    name = "sources_probe"
    seen: ClassVar[list[dict[str, Any]]] = []

    async def start(self):
        freshness = self.crawler.get_extension(Freshness)
        assert freshness is not None
        self.seen.append({
            "pages": await freshness.source_pages(),
            "creators": await freshness.creator_fetch_times([USER]),
            "links": await freshness.share_links([LINK, "http://xhslink.com/a/other"]),
            "unfetched": await freshness.unfetched_source_note_ids(["keyword:咖啡"]),
        })
        freshness.record_source_page("keyword", "咖啡", 1, None, "c1", 2, 2, True, None)
        freshness.record_share_link(LINK, RESOLVED)
        for item in (source_appearance(1), source_appearance(1), source_appearance(2, rank=0),
                     creator(), raw_answer()):
            yield item


@deferred_f_from_coro_f
async def test_new_items_and_records_reach_the_store_and_come_back(
    in_process_crawl: InProcessCrawl, tmp_path,
) -> None:
    SourcesProbe.seen.clear()
    settings = {"JOBDIR": str(tmp_path / "job")}
    first = await in_process_crawl(SourcesProbe, settings=settings)

    assert first.finish_reason == "finished"
    assert [sorted(item) for item in first.items] == [
        sorted(source_appearance(1)), sorted(creator()), sorted(raw_answer())]
    assert first.stats["xhs/dedup/dropped/AppearanceItem"] == 1
    assert first.stats["xhs/validation/AppearanceItem/rank"] == 1
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        assert [a["note_id"] for a in store.records("feed_appearances")] == [found_note_id(1)]
        assert [c["user_id"] for c in store.records("creators")] == [USER]
        assert [r["body"] for r in store.records("raw_answers")] == [raw_answer()["body"]]
        note = store.get_note(found_note_id(1))
        assert note is not None and note["sources"] == ["keyword:咖啡"]

    second = await in_process_crawl(SourcesProbe, settings=settings)

    assert second.finish_reason == "finished"
    before, after = SourcesProbe.seen
    assert before == {"pages": [], "creators": {}, "links": {}, "unfetched": []}
    assert [(p["source_kind"], p["source_value"], p["page"], p["next_cursor"], p["next"], p["stop"])
            for p in after["pages"]] == [("keyword", "咖啡", 1, "c1", True, None)]
    assert after["creators"] == {USER: creator()["fetched_at"]}
    assert after["links"] == {LINK: RESOLVED}
    assert after["unfetched"] == [found_note_id(1)]
