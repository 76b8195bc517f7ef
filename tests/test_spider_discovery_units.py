"""The discovery spiders' parts that need no crawl: their arguments, the
requests they build, the v4 → v2 move of the search, the profile and share
link readers, the queue schema and the verdict."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from sandbox.data import Author
from sandbox.discovery_shapes import NOTE_CARD, UNREADABLE, WRAPPED, profile_data, share_data
from xhs_spider import stats as keys
from xhs_spider.api.client import SEARCH, JustOneApi, origin
from xhs_spider.api.creators import creator_fields
from xhs_spider.api.share import resolved_url, target_of
from xhs_spider.api.sources import SearchFilters
from xhs_spider.distributed import serializer
from xhs_spider.middlewares.endpoints import EndpointMiddleware
from xhs_spider.outcome.reasons import FINISHED, UNREADABLE_ANSWERS, exit_status
from xhs_spider.outcome.verdict import judged
from xhs_spider.queues import DetailRequestQueue
from xhs_spider.spiders.note import NoteSpider
from xhs_spider.spiders.search import SearchSpider
from xhs_spider.spiders.topic import TopicSpider
from xhs_spider.spiders.user import UserSpider

API_URL = "https://api.test"
USER_ID = "5a1b2c3d4e5f60718293a4b5"
TOPIC_ID = "60f1e2d3c4b5a69788796a5b"
V4, V2 = "/api/xiaohongshu/search-note/v4", "/api/xiaohongshu/search-note/v2"


@pytest.mark.parametrize(("spider", "arguments", "message"), [
    (SearchSpider, {"keyword": ""}, "-a keyword='': empty"),
    (SearchSpider, {"keyword": "咖啡,  "}, "empty"),
    (SearchSpider, {}, "Give -a keyword="),
    (SearchSpider, {"keyword": "咖啡", "sort": "populer"}, "Did you mean 'popular'?"),
    (SearchSpider, {"keyword": "咖啡", "time": "month"}, "-a time='month': unknown time"),
    (SearchSpider, {"keyword": "咖啡", "pages": "0"}, "-a pages='0'"),
    (UserSpider, {"user": "https://www.instagram.com/user/profile/" + USER_ID},
     "expected a user id"),
    (UserSpider, {"user": "https://example.com/abc"}, "-a user='https://example.com/abc'"),
    (UserSpider, {}, "Give exactly one of -a user="),
    (TopicSpider, {"topic": "coffee"}, "expected a topic id"),
    (TopicSpider, {"topic": TOPIC_ID, "sort": "new"}, "-a sort='new': unknown sort"),
    (NoteSpider, {"ids": "https://t.cn/abc"}, "holds no note id, note URL or http(s)://xhslink.com/"),
    (SearchSpider, {"keyword": "咖啡", "size": "3"}, "Unknown argument -a size='3'"),
])
def test_bad_input_is_one_line_naming_the_argument(spider: Any, arguments: dict[str, str],
                                                  message: str) -> None:
    problem = spider.check_arguments(**arguments)
    assert problem is not None and message in problem and "\n" not in problem


def test_good_arguments_are_read_in_the_api_s_terms() -> None:
    search = SearchSpider(keyword=" 咖啡 ,露营,咖啡", sort="popularity_descending", time="week")
    assert search.argument_error is None
    assert search.sources == ["咖啡", "露营"] and search.filters.sort == "popular"
    user = UserSpider(user=f"https://www.xiaohongshu.com/user/profile/{USER_ID}?x=1,"
                           "http://xhslink.com/a/AbC1")
    assert user.argument_error is None
    assert user.sources == [USER_ID] and user.share_links == ["http://xhslink.com/a/AbC1"]
    note = NoteSpider(ids=f"{'a' * 24},https://xhslink.com/xyz")
    assert note.argument_error is None and note.ids == ["a" * 24]
    assert note.share_links == ["https://xhslink.com/xyz"]


def test_users_file_lines_are_checked_before_the_crawl(tmp_path: Any) -> None:
    path = tmp_path / "creators.txt"
    path.write_text(f"# mine\n{USER_ID}  # a comment\n\nhttps://xhslink.com/a/Q\n", "utf-8")
    spider = UserSpider(users_file=str(path))
    assert spider.argument_error is None
    assert spider.sources == [USER_ID] and spider.share_links == ["https://xhslink.com/a/Q"]
    path.write_text(f"{USER_ID}\nhttps://example.com/user/profile/{USER_ID}\n", "utf-8")
    problem = UserSpider.check_arguments(users_file=str(path))
    assert problem is not None and "line 2" in problem


def api(**settings: str) -> JustOneApi:
    return JustOneApi.from_crawler(get_crawler(settings_dict={
        "ADDONS": {"xhs_spider.addon.XhsSpiderAddon": 0}, "JUSTONEAPI_BASE_URL": API_URL,
        **settings}))


def query(request: Request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query)


def test_requests_carry_their_endpoint_and_encode_cursors() -> None:
    client = api()
    search = client.search_request("咖啡", 2, SearchFilters.parse("latest", "video", "day"))
    assert urlsplit(search.url).path == V4 and search.meta["justoneapi_endpoint"] == SEARCH
    assert query(search) == {"keyword": ["咖啡"], "page": ["2"], "sortType": ["time_descending"],
                             "noteType": ["VIDEO_NOTE"], "timeFilter": ["ONE_DAY"]}
    notes = client.user_notes_request(USER_ID, "a+b/c=")
    assert "lastCursor=a%2Bb%2Fc%3D" in notes.url and query(notes)["lastCursor"] == ["a+b/c="]
    assert "lastCursor" not in client.user_notes_request(USER_ID, None).url
    topic = client.topic_notes_request(TOPIC_ID, "time", None)
    assert query(topic) == {"topicId": [TOPIC_ID], "sort": ["time"]}
    assert query(client.share_request("https://xhslink.com/a/x"))["shareUrl"] == [
        "https://xhslink.com/a/x"]
    first_v2 = api(JUSTONEAPI_SEARCH_PATH=f"{V2},{V4}")
    v2 = first_v2.search_request("咖啡", 1, SearchFilters.parse("comments", "normal", "all"))
    assert query(v2) == {"keyword": ["咖啡"], "page": ["1"], "sort": ["comment_descending"],
                         "noteType": ["_2"]}


def test_a_search_request_moved_to_v2_gets_v2_s_query() -> None:
    crawler = get_crawler(settings_dict={"ADDONS": {"xhs_spider.addon.XhsSpiderAddon": 0},
                                         "JUSTONEAPI_BASE_URL": API_URL})
    middleware = EndpointMiddleware.from_crawler(crawler)
    queued = middleware.api.search_request("露营", 3, SearchFilters.parse("collects", "all", "week"))
    middleware.health[SEARCH].move_on()  # v4 retired
    middleware.process_request(queued)
    assert urlsplit(queued.url).path == V2
    assert query(queued) == {"keyword": ["露营"], "page": ["3"], "sort": ["collect_descending"],
                             "noteType": ["_0"], "noteTime": ["ONE_WEEK"]}


def test_profiles_are_read_in_every_shape_the_sandbox_serves() -> None:
    author = Author(user_id=USER_ID, nickname="小红", avatar_file_id="a", fans=12345, gender="女",
                    location="上海", red_id="123", is_priced_creator=False, picture_price=0,
                    video_price=0)
    for shape in ("flat", WRAPPED, NOTE_CARD):
        fields = creator_fields(profile_data(author, 7, shape), fetched_at="t", request_id="r")
        assert fields is not None, shape
        assert fields["user_id"] == USER_ID and fields["nickname"] == "小红"
        assert fields["red_id"] == "123" and fields["followers"] is not None
        assert fields["followers"] >= 10000 and fields["likes_and_collects"] is not None
    assert creator_fields(profile_data(author, 7, UNREADABLE), fetched_at="t", request_id=None) is None


def test_share_answers_are_read_in_every_shape() -> None:
    url = f"https://www.xiaohongshu.com/user/profile/{USER_ID}"
    for shape in ("flat", WRAPPED, NOTE_CARD):
        assert resolved_url(share_data(url, "https://xhslink.com/a/x", shape)) == url
    assert resolved_url(share_data(url, "x", UNREADABLE)) is None
    assert target_of(url) == ("user", USER_ID)
    assert target_of(f"https://www.xiaohongshu.com/explore/{'b' * 24}?xsec_token=q") == ("note", "b" * 24)
    assert target_of("https://example.com/explore/" + "b" * 24) is None


def test_discovery_requests_cross_the_shared_queue_and_stay_off_the_disk_queue(tmp_path: Any) -> None:
    crawler = get_crawler(UserSpider, {"ADDONS": {"xhs_spider.addon.XhsSpiderAddon": 0},
                                       "JUSTONEAPI_BASE_URL": API_URL})
    spider = UserSpider.from_crawler(crawler, user=USER_ID)
    spider.api = JustOneApi.from_crawler(crawler)
    spider.prepare()
    crawler.spider = spider
    page = spider.source_page(USER_ID, 2, "c+/=")
    back = serializer.decode(serializer.encode(page, spider), spider, origin(API_URL))
    assert back.callback == spider.parse_page and back.url == page.url
    assert back.cb_kwargs == {"source": USER_ID, "page": 2, "cursor": "c+/="}
    share = spider.share_request("https://xhslink.com/a/x", callback=spider.parse_share)
    assert json.loads(serializer.encode(share, spider))["callback"] == "parse_share"
    queue = DetailRequestQueue.from_crawler(crawler, str(tmp_path / "q"))
    with pytest.raises(ValueError, match="derived from the store"):
        queue.push(page)
    queue.close()


def test_an_endpoint_that_answered_nothing_readable_fails_the_run() -> None:
    stats = {keys.REQUESTS: 3, keys.CODE.format(code=0): 3, keys.BILLED: 3,
             keys.DISCOVERY_UNREADABLE.format(endpoint=SEARCH): 3}
    assert judged(FINISHED, stats, 0.1, 20) == UNREADABLE_ANSWERS
    assert exit_status(UNREADABLE_ANSWERS) == 1
    stats[keys.DISCOVERY_READ.format(endpoint=SEARCH)] = 1
    assert judged(FINISHED, stats, 0.1, 20) == FINISHED
