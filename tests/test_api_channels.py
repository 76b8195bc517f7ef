import pytest

from xhs_spider.api.channels import CHANNELS, UnknownChannel, closest_channel, parse_channels


def test_there_are_41_documented_channels():
    assert len(CHANNELS) == 41


def test_parse_one_list_and_all():
    assert parse_channels("homefeed_food_v3") == ["homefeed_food_v3"]
    assert parse_channels("homefeed_food_v3, homefeed_travel_v3,homefeed_food_v3") == [
        "homefeed_food_v3",
        "homefeed_travel_v3",
    ]
    assert parse_channels("all") == list(CHANNELS)


def test_unknown_channel_names_the_closest_match_and_the_valid_values():
    with pytest.raises(UnknownChannel) as error:
        parse_channels("homefeed_fod_v3")
    message = str(error.value)
    assert "Did you mean 'homefeed_food_v3'?" in message
    assert "homefeed_variety_show_v3" in message
    assert "\n" not in message


def test_closest_channel_matches_english_names():
    assert closest_channel("travel") == "homefeed_travel_v3"
    assert closest_channel("zzzzzzzzzzzzzzzzzzzzzzz") is None
