"""The feed channels (``oid`` values) the Notes Feed endpoint accepts."""

from __future__ import annotations

import difflib

CHANNELS: dict[str, str] = {
    "homefeed_recommend": "recommend",
    "homefeed_video_v3": "video",
    "homefeed_live": "live",
    "homefeed_fashion_v3": "fashion",
    "homefeed_books_v3": "books",
    "homefeed_nails_v3": "nails",
    "homefeed_painting_v3": "painting",
    "homefeed_cartoon_v3": "cartoon",
    "homefeed_photography_v3": "photography",
    "homefeed_food_v3": "food",
    "homefeed_celebrity_v3": "celebrity",
    "homefeed_profile_photo_v3": "profile photo",
    "homefeed_gaming_v3": "gaming",
    "homefeed_cosmetics_v3": "cosmetics",
    "homefeed_stationery_v3": "stationery",
    "homefeed_love_v3": "love",
    "homefeed_music_v3": "music",
    "homefeed_movie_and_tv_v3": "movie and tv",
    "homefeed_handmade_v3": "handmade",
    "homefeed_education_v3": "education",
    "homefeed_digital_technology_v3": "digital technology",
    "homefeed_household_product_v3": "household product",
    "homefeed_hair_v3": "hair",
    "homefeed_pets_v3": "pets",
    "homefeed_travel_v3": "travel",
    "homefeed_lose_weight_v3": "lose weight",
    "homefeed_dance_v3": "dance",
    "homefeed_skincare_v3": "skincare",
    "homefeed_home_decoration_v3": "home decoration",
    "homefeed_fashion_shoes_v3": "fashion shoes",
    "homefeed_wallpaper_v3": "wallpaper",
    "homefeed_career_v3": "career",
    "homefeed_funny_v3": "funny",
    "homefeed_maternity_v3": "maternity",
    "homefeed_cars_v3": "cars",
    "homefeed_weddings_v3": "weddings",
    "homefeed_bags_v3": "bags",
    "homefeed_trend_art_v3": "trend art",
    "homefeed_designer_toys_v3": "designer toys",
    "homefeed_science_popularization_v3": "science popularization",
    "homefeed_variety_show_v3": "variety show",
}

ALL = "all"


class UnknownChannel(ValueError):
    """An ``oid`` that is not one of :data:`CHANNELS`."""


def closest_channel(value: str) -> str | None:
    """The valid ``oid`` most like *value*, matching English names too."""
    by_name = {name.replace(" ", "_"): oid for oid, name in CHANNELS.items()}
    candidates = [*CHANNELS, *by_name]
    match = difflib.get_close_matches(value.lower(), candidates, n=1, cutoff=0.5)
    if not match:
        return None
    return by_name.get(match[0], match[0])


def parse_channels(value: str, option: str = "-a oid") -> list[str]:
    """``oid`` argument → channel ids, in order, without repeats.

    Accepts one channel, a comma-separated list, or ``all``. A problem is
    told with *option*, the name the value was given under (``--channel``).
    """
    name = option.removeprefix("-a ")
    wanted = [part.strip().lower() for part in str(value).split(",") if part.strip()]
    if not wanted:
        raise UnknownChannel(
            f"{option} is empty: give a channel, a comma-separated list or {ALL!r} "
            "(scrapy channels lists them)."
        )
    if ALL in wanted:
        if len(wanted) > 1:
            raise UnknownChannel(f"{option}={value!r}: {ALL!r} already means every channel.")
        return list(CHANNELS)
    for oid in wanted:
        if oid not in CHANNELS:
            raise UnknownChannel(_unknown_message(oid, name))
    return list(dict.fromkeys(wanted))


def _unknown_message(oid: str, name: str) -> str:
    hint = closest_channel(oid)
    did_you_mean = f" Did you mean {hint!r}?" if hint else ""
    return (
        f"Unknown channel {name}={oid!r}.{did_you_mean} "
        f"Valid values: {ALL}, {', '.join(CHANNELS)}."
    )
