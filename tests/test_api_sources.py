"""What users name as a source of notes: each value accepted as the API takes
it, each bad one refused with one line naming the argument and the value."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from xhs_spider.api.sources import (
    KEYWORD_MAX_LENGTH,
    SearchFilters,
    SourceValueError,
    did_you_mean,
    parse_choice,
    parse_keyword,
    parse_note_url,
    parse_share_link,
    parse_topic_id,
    parse_topic_sort,
    parse_user_id,
)

USER = "5ff0e6410000000001008400"
NOTE = "6540d0e1000000002103a9f2"


def refusal(parse, value):
    with pytest.raises(SourceValueError) as error:
        parse(value)
    message = str(error.value)
    assert isinstance(error.value, ValueError)
    assert "\n" not in message
    assert repr(value) in message
    return message


# Keywords -------------------------------------------------------------------


@pytest.mark.parametrize(("given", "keyword"), [
    ("咖啡", "咖啡"),
    ("  露营 装备 \t", "露营 装备"),
    ("a+b/c=d", "a+b/c=d"),
    ("x" * KEYWORD_MAX_LENGTH, "x" * KEYWORD_MAX_LENGTH),
    (" " + "字" * KEYWORD_MAX_LENGTH + " ", "字" * KEYWORD_MAX_LENGTH),
])
def test_keywords_accepted_stripped(given, keyword):
    assert parse_keyword(given) == keyword


def test_a_keyword_too_long_says_the_limit():
    message = refusal(parse_keyword, "字" * 101)
    assert "101 characters; at most 100" in message


def test_the_message_names_the_argument_given():
    with pytest.raises(SourceValueError, match=r"^q='': empty"):
        parse_keyword("", name="q")


# Ids: users, topics, notes ----------------------------------------------------


#: Each parser, the id it must find, and values holding it.
ACCEPTED: dict[tuple[Callable[[object], str], str], list[str]] = {
    (parse_user_id, USER): [
        USER,
        f"  {USER}\n",
        f"https://www.xiaohongshu.com/user/profile/{USER}",
        f"https://www.xiaohongshu.com/user/profile/{USER}/",
        f"https://www.xiaohongshu.com/user/profile/{USER}?xsec_token=AB+c/d=&xsec_source=pc_note",
        f"http://xiaohongshu.com/user/profile/{USER}",
        f"HTTPS://WWW.XIAOHONGSHU.COM/user/profile/{USER}#notes",
        f"www.xiaohongshu.com/user/profile/{USER}",
    ],
    (parse_topic_id, USER): [
        USER,
        f"https://www.xiaohongshu.com/page/topics/{USER}",
        f"https://www.xiaohongshu.com/page/topics/{USER}?fullscreen=true",
    ],
    (parse_note_url, NOTE): [
        NOTE,
        f"https://www.xiaohongshu.com/explore/{NOTE}",
        f"https://www.xiaohongshu.com/explore/{NOTE}?xsec_token=AB%2Bc&xsec_source=pc_feed",
        f"https://www.xiaohongshu.com/discovery/item/{NOTE}",
        f"https://www.xiaohongshu.com/discovery/item/{NOTE}/?app_platform=ios",
        f"http://xiaohongshu.com/explore/{NOTE}",
    ],
}


@pytest.mark.parametrize(("parse", "expected", "given"), [
    (parse, expected, value) for (parse, expected), values in ACCEPTED.items() for value in values
])
def test_ids_bare_or_in_their_urls_are_found(parse, expected, given):
    assert parse(given) == expected


# Share links ----------------------------------------------------------------


@pytest.mark.parametrize(("given", "link"), [
    ("http://xhslink.com/a/AbCdEf", "http://xhslink.com/a/AbCdEf"),
    ("https://xhslink.com/m/3xYz+/=", "https://xhslink.com/m/3xYz+/="),
    ("  https://xhslink.com/AbC  ", "https://xhslink.com/AbC"),
    ("xhslink.com/a/AbC", "https://xhslink.com/a/AbC"),
    # The text the app copies to share a note.
    ("【咖啡 | 小王的笔记】 😆 AbCd 😆 http://xhslink.com/a/AbCdEf，复制本条信息，打开【小红书】App查看精彩内容！",
     "http://xhslink.com/a/AbCdEf"),
    ("see http://xhslink.com/a/AbCdEf.", "http://xhslink.com/a/AbCdEf"),
])
def test_share_links_accepted(given, link):
    assert parse_share_link(given) == link


# Refusals -------------------------------------------------------------------


#: Each parser, its argument's name, and values it must refuse.
REFUSED: dict[tuple[Callable[[object], str], str], list[object]] = {
    (parse_keyword, "keyword"): ["", "   ", "\t\n", "x" * (KEYWORD_MAX_LENGTH + 1), None, 12],
    (parse_user_id, "user"): [
        "",
        "5ff0e641000000000100840",  # 23 digits
        "5ff0e6410000000001008400a",  # 25
        USER.upper(),
        "someone",
        f"https://www.example.com/user/profile/{USER}",
        f"https://www.xiaohongshu.com.evil.com/user/profile/{USER}",
        f"https://www.xiaohongshu.com/explore/{USER}",  # a note URL
        f"https://www.xiaohongshu.com/user/profile/{USER}/notes",
        f"ftp://www.xiaohongshu.com/user/profile/{USER}",
        f"https://www.xiaohongshu.com:99999/user/profile/{USER}",
        "https://xhslink.com/a/AbCd",
        None,
    ],
    (parse_topic_id, "topic"): [
        "", "#旅行[话题]#", "旅行", f"https://www.xiaohongshu.com/user/profile/{USER}",
        f"https://example.com/page/topics/{USER}",
    ],
    (parse_note_url, "note"): [
        "",
        f"https://www.xiaohongshu.com/user/profile/{NOTE}",
        f"https://www.example.com/explore/{NOTE}",
        f"https://www.xiaohongshu.com/explore/{NOTE}x",
        f"https://www.xiaohongshu.com/explore/{NOTE.upper()}",
        "https://xhslink.com/a/AbCd",
    ],
    (parse_share_link, "share_url"): [
        "",
        "http://xhslink.com/",
        "http://xhslink.com",
        "https://www.xiaohongshu.com/explore/" + NOTE,
        "https://xhslink.com.evil.com/a/x",
        "https://evil.com/?u=https://xhslink.com/a/x",
        "ftp://xhslink.com/a/x",
        "http://xhslink.com/a/x http://xhslink.com/a/y",  # two links: which?
        "AbCdEf",
    ],
}


@pytest.mark.parametrize(("parse", "argument", "given"), [
    (parse, argument, value) for (parse, argument), values in REFUSED.items() for value in values
])
def test_bad_values_are_refused_in_one_line_naming_them(parse, argument, given):
    message = refusal(parse, given)
    assert message.startswith(f"{argument}=")


# Choices ----------------------------------------------------------------------


def test_search_filters_map_to_v4_and_v2_parameters():
    filters = SearchFilters.parse(sort="popular", note_type="video", time="week")
    assert filters.v4_params() == {
        "sortType": "popularity_descending", "noteType": "VIDEO_NOTE", "timeFilter": "ONE_WEEK",
    }
    assert filters.v2_params() == {
        "sort": "popularity_descending", "noteType": "_1", "noteTime": "ONE_WEEK",
    }


def test_search_filters_default_to_the_apis_defaults():
    filters = SearchFilters.parse()
    assert filters.v4_params() == {"sortType": "general", "noteType": "ALL", "timeFilter": "ALL"}
    # v2 has no value for "any time": its noteTime is left out.
    assert filters.v2_params() == {"sort": "general", "noteType": "_0"}


@pytest.mark.parametrize(("sort", "value"), [
    ("general", "general"), ("popular", "popularity_descending"), ("latest", "time_descending"),
    ("comments", "comment_descending"), ("collects", "collect_descending"),
])
def test_every_sort_has_its_api_value(sort, value):
    filters = SearchFilters.parse(sort=sort)
    assert filters.v4_params()["sortType"] == filters.v2_params()["sort"] == value


@pytest.mark.parametrize(("time", "v4", "v2"), [
    ("all", "ALL", None), ("day", "ONE_DAY", "ONE_DAY"), ("week", "ONE_WEEK", "ONE_WEEK"),
    ("half_year", "HALF_YEAR", "HALF_YEAR"), ("Half-Year", "HALF_YEAR", "HALF_YEAR"),
])
def test_every_time_window_has_its_api_values(time, v4, v2):
    filters = SearchFilters.parse(time=time)
    assert filters.v4_params()["timeFilter"] == v4
    assert filters.v2_params().get("noteTime") == v2


@pytest.mark.parametrize(("note_type", "v4", "v2"), [
    ("all", "ALL", "_0"), ("video", "VIDEO_NOTE", "_1"), ("NORMAL", "NORMAL_NOTE", "_2"),
])
def test_every_note_type_has_its_api_values(note_type, v4, v2):
    filters = SearchFilters.parse(note_type=note_type)
    assert (filters.v4_params()["noteType"], filters.v2_params()["noteType"]) == (v4, v2)


@pytest.mark.parametrize(("argument", "typo", "hint"), [
    ("sort", "populer", "popular"),
    ("sort", "lastest", "latest"),
    ("note_type", "vidoe", "video"),
    ("time", "weak", "week"),
    ("time", "halfyear", "half_year"),
])
def test_a_typo_gets_a_suggestion_and_the_choices(argument, typo, hint):
    with pytest.raises(SourceValueError) as error:
        SearchFilters.parse(**{argument: typo})
    message = str(error.value)
    assert message.startswith(f"{argument}={typo!r}: unknown {argument}.")
    assert f"Did you mean {hint!r}?" in message
    assert "Choose from" in message


def test_the_apis_own_words_are_taken_too():
    # Someone who read the vendor's page writes its words.
    filters = SearchFilters.parse(sort="popularity_descending", note_type="VIDEO_NOTE",
                                  time="one_week")
    assert filters == SearchFilters(sort="popular", note_type="video", time="week")


def test_a_value_like_nothing_gets_no_suggestion():
    with pytest.raises(SourceValueError) as error:
        parse_choice("zzzzzz", ["all", "video", "normal"], "note_type")
    assert "Did you mean" not in str(error.value)
    assert "Choose from all, video, normal." in str(error.value)


def test_topic_sort_is_hot_or_time():
    assert parse_topic_sort("hot") == "hot"
    assert parse_topic_sort(" TIME ") == "time"
    with pytest.raises(SourceValueError, match=r"^sort='latest': unknown sort\..*hot, time\.$"):
        parse_topic_sort("latest")


def test_did_you_mean_is_one_function_for_every_typo():
    from xhs_spider.spiders import arguments

    assert arguments.did_you_mean is did_you_mean
    assert did_you_mean("feeed", ["feed", "note"]) == " Did you mean 'feed'?"
    assert did_you_mean("qqqq", ["feed", "note"]) == ""
