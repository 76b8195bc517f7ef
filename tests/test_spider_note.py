"""The ``note`` spider: its arguments, ids files, and stale refreshes, crawled in-process."""

from __future__ import annotations

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from sandbox import SandboxProcess
from tests.conftest import InProcessCrawl, feed_note_ids
from xhs_spider.api.normalize import now_iso
from xhs_spider.spiders.note import NoteSpider
from xhs_spider.store import WriteBatch, open_store


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "exactly one of"),
        ({"ids": "x", "stale": "true"}, "exactly one of"),
        ({"ids": "not-an-id"}, "holds no note id"),
        ({"ids_file": "/nonexistent/ids.txt"}, "no such file"),
        ({"ids": "67f32a94000000001d02eb4a", "limit": "5"}, "-a limit goes with -a stale=true"),
        ({"stale": "true", "limit": "0"}, "-a limit='0'"),
    ],
)
def test_note_spider_arguments_are_checked(arguments, expected):
    assert expected in NoteSpider.check_arguments(**arguments)


def test_note_spider_takes_ids_and_urls():
    spider = NoteSpider(ids="67f32a94000000001d02eb4a, https://www.xiaohongshu.com/explore/699fdc5c000000000e00f4cd?xsec_token=a")
    assert spider.argument_error is None
    assert spider.ids == ["67f32a94000000001d02eb4a", "699fdc5c000000000e00f4cd"]


@deferred_f_from_coro_f
async def test_note_spider_reads_an_ids_file(in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path) -> None:
    ids = feed_note_ids(api, "homefeed_food_v3", 1)[:4]
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(
        "\n".join(
            [
                "# notes to refresh",
                ids[0],
                f"https://www.xiaohongshu.com/explore/{ids[1]}?xsec_token=AB12cd&xsec_source=pc_feed",
                "",
                f"https://www.xiaohongshu.com/discovery/item/{ids[2]}?app_platform=ios",
                "not a note id",
                f"{ids[3]}  # an inline comment",
                ids[0],
                "http://xhslink.com/a/Zx81bQ",
            ]
        ),
        encoding="utf-8",
    )
    result = await in_process_crawl(NoteSpider, ids_file=str(ids_file))

    assert result.finish_reason == "finished"
    # The share link (issue 19) is resolved with one paid call; a link to a
    # note adds that note, a link to a profile is skipped with an error.
    share = api.discovery("share", "http://xhslink.com/a/Zx81bQ")
    wanted = ids + [share["id"]] if share["target"] == "note" else ids
    assert api.stats()["billed_by_endpoint"]["share"] == 1
    assert api.stats()["detail_billed_by_note"] == {note_id: 1 for note_id in wanted}
    bad = [line for line in result.log.splitlines() if "holds no note id" in line]
    assert len(bad) == 1
    assert "line 6" in bad[0]
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        assert store.count("note_metrics") == len(wanted) - result.stats.get("justoneapi/notes/unavailable", 0)

    again = await in_process_crawl(NoteSpider, ids=f"{ids[0]},{ids[1]}")
    assert again.stats["xhs/notes/refreshed"] == 2
    with open_store(f"sqlite:///{tmp_path / 'xhs.sqlite3'}") as store:
        assert store.count("note_metrics") == 6


@deferred_f_from_coro_f
async def test_stale_refreshes_exactly_the_notes_older_than_the_ttl(
    in_process_crawl: InProcessCrawl, api: SandboxProcess, tmp_path
) -> None:
    uri = f"sqlite:///{tmp_path / 'xhs.sqlite3'}"
    ids = feed_note_ids(api, "homefeed_pets_v3", 1)[:6]
    old, recent = ids[:3], ids[3:]
    with open_store(uri) as store:
        batch = WriteBatch(run_id="seed")
        for note_id, at in [(n, "2020-01-01T00:00:00Z") for n in old] + [(n, now_iso()) for n in recent]:
            batch.notes.append(_minimal_note(note_id, at))
        store.write(batch)

    result = await in_process_crawl(NoteSpider, stale="true")

    assert result.finish_reason == "finished"
    assert set(api.stats()["detail_billed_by_note"]) == set(old)


def _minimal_note(note_id, crawled_at):
    return {
        "note_id": note_id, "url": f"https://www.xiaohongshu.com/explore/{note_id}", "type": "image",
        "title": "旧笔记", "text": "", "hashtags": [], "images": [], "video": None,
        "author": {"user_id": "u1", "nickname": "某人"},
        "counts": {"likes": 1, "collects": 0, "comments": 0, "shares": 0},
        "published_at": None, "updated_at": None, "crawled_at": crawled_at, "request_id": None,
    }
