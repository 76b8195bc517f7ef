"""Deterministic Xiaohongshu-like data: feed pages and note details.

Everything is derived from the universe seed plus stable names (channel,
page, slot, note id) through SHA-256, so two sandboxes started with the same
seed serve byte-identical data. A note's properties depend only on the seed
and its id, which makes any well-formed id resolvable and keeps a note the
same wherever it shows up (several channels, several pages, detail calls).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

CHINA_TZ = timezone(timedelta(hours=8))
# A fixed "now" so the universe never depends on the wall clock.
UNIVERSE_NOW = 1772084316
NOTE_AGE_WINDOW = 180 * 86400
OLDEST_PLAUSIBLE_TS = 1388534400
#: Notes a creator publishes while the sandbox runs (``POST /__sandbox__/grow``)
#: are dated after UNIVERSE_NOW, within this many seconds.
GROWTH_WINDOW = 30 * 86400
NOTE_ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")

DEFAULT_CHANNEL = "homefeed_recommend"
MIXED_CHANNELS = ("homefeed_recommend", "homefeed_video_v3", "homefeed_live")
TOPIC_CHANNEL_KEYS = (
    "fashion", "books", "nails", "painting", "cartoon", "photography", "food",
    "celebrity", "profile_photo", "gaming", "cosmetics", "stationery", "love",
    "music", "movie_and_tv", "handmade", "education", "digital_technology",
    "household_product", "hair", "pets", "travel", "lose_weight", "dance",
    "skincare", "home_decoration", "fashion_shoes", "wallpaper", "career",
    "funny", "maternity", "cars", "weddings", "bags", "trend_art",
    "designer_toys", "science_popularization", "variety_show",
)
CHANNELS = MIXED_CHANNELS + tuple("homefeed_%s_v3" % key for key in TOPIC_CHANNEL_KEYS)

CARDS_PER_PAGE = (8, 12)
SHARED_POOL_SIZE = 150
# Share of note slots drawn from the cross-channel pool; it is what makes
# the same note appear in several channels.
SHARED_NOTE_SHARE = 0.25
RECOMMEND_SHARED_NOTE_SHARE = 0.45
REPEAT_FROM_EARLIER_PAGE_SHARE = 0.04
STRING_LIKES_SHARE = 0.2
AUTHOR_POOL_SIZE = 600


@dataclass(frozen=True)
class Topic:
    key: str
    name: str
    subjects: tuple[str, ...]
    hashtags: tuple[str, ...]


def _topic(key: str, name: str, subjects: str, hashtags: str) -> Topic:
    return Topic(key, name, tuple(subjects.split()), tuple(hashtags.split()))


TOPICS = (
    _topic("fashion", "时尚", "春季穿搭 通勤穿搭 小个子穿搭 法式穿搭 早春外套", "穿搭 每日穿搭 小个子穿搭 通勤穿搭 ootd"),
    _topic("books", "读书", "一本好书 必读小说 读书笔记 年度书单 治愈系小说", "读书 书单推荐 读书笔记 好书分享"),
    _topic("nails", "美甲", "猫眼美甲 法式美甲 春日美甲 短甲款式 显白美甲", "美甲 美甲分享 显白美甲 春季美甲"),
    _topic("painting", "绘画", "水彩插画 板绘练习 油画棒 速写日常 厚涂教程", "绘画 插画 板绘 画画日常"),
    _topic("cartoon", "动漫", "新番推荐 动漫壁纸 国漫 番剧安利 名场面", "动漫 新番 二次元 动漫推荐"),
    _topic("photography", "摄影", "手机摄影 人像构图 胶片感 夜景拍摄 樱花机位", "摄影 手机摄影 拍照技巧 人像摄影"),
    _topic("food", "美食", "家常菜 减脂餐 早餐 火锅 宝藏小店", "美食 家常菜 探店 一人食"),
    _topic("celebrity", "明星", "红毯造型 明星同款 演唱会 机场路透 新剧", "明星 追星 演唱会 明星同款"),
    _topic("profile_photo", "头像", "情侣头像 氛围感头像 可爱头像 闺蜜头像 ins风头像", "头像 情侣头像 高清头像 头像分享"),
    _topic("gaming", "游戏", "王者荣耀 原神 新手攻略 单机推荐 上分技巧", "游戏 手游 游戏推荐 游戏攻略"),
    _topic("cosmetics", "彩妆", "口红试色 粉底液 眼影盘 新手化妆 伪素颜", "彩妆 口红 化妆教程 美妆分享"),
    _topic("stationery", "文具", "手帐 中性笔 和纸胶带 学生文具 笔记本", "文具 手帐 好物分享 学生党"),
    _topic("love", "情感", "恋爱日常 异地恋 相处之道 表白 分手", "情感 恋爱 情侣日常 恋爱技巧"),
    _topic("music", "音乐", "歌单 吉他弹唱 宝藏歌曲 钢琴 live现场", "音乐 歌单推荐 宝藏歌曲 翻唱"),
    _topic("movie_and_tv", "影视", "高分电影 追剧 悬疑剧 电影推荐 纪录片", "电影 影视推荐 追剧 好剧推荐"),
    _topic("handmade", "手工", "钩针 黏土 手工编织 DIY 串珠", "手工 DIY 钩针编织 手作"),
    _topic("education", "教育", "考研 英语学习 考公 学习方法 留学申请", "学习 考研 英语 学习方法"),
    _topic("digital_technology", "数码", "手机测评 平板 耳机 笔记本电脑 相机", "数码 数码测评 好物推荐 科技"),
    _topic("household_product", "家居好物", "收纳 清洁神器 厨房好物 租房好物 小家电", "家居好物 收纳 好物分享 居家"),
    _topic("hair", "发型", "短发 刘海 染发 卷发 编发", "发型 短发 染发 发型分享"),
    _topic("pets", "萌宠", "猫咪 狗狗 新手养猫 柯基 布偶猫", "萌宠 猫咪 狗狗 铲屎官日常"),
    _topic("travel", "旅游", "成都樱花 大理 上海citywalk 周末游 小众海岛", "旅行 旅游攻略 周末去哪儿 小众景点"),
    _topic("lose_weight", "减肥", "减脂餐 帕梅拉 瘦腿 体重管理 跳绳", "减肥 减脂 健身 瘦身"),
    _topic("dance", "舞蹈", "爵士舞 韩舞翻跳 芭蕾 街舞 古典舞", "舞蹈 翻跳 爵士舞 跳舞"),
    _topic("skincare", "护肤", "防晒 精华 敏感肌 面霜 早C晚A", "护肤 护肤心得 敏感肌 防晒"),
    _topic("home_decoration", "家装", "装修 小户型 客厅 奶油风 软装", "装修 家装 小户型装修 软装搭配"),
    _topic("fashion_shoes", "鞋靴", "小白鞋 运动鞋 乐福鞋 玛丽珍鞋 老爹鞋", "鞋子 穿搭 运动鞋 鞋子推荐"),
    _topic("wallpaper", "壁纸", "手机壁纸 锁屏壁纸 风景壁纸 动漫壁纸 治愈系壁纸", "壁纸 手机壁纸 高清壁纸 壁纸分享"),
    _topic("career", "职场", "面试 简历 跳槽 实习 上海落户", "职场 面试 求职 上海落户"),
    _topic("funny", "搞笑", "沙雕日常 搞笑视频 迷惑行为 段子 爆笑瞬间", "搞笑 沙雕 日常 快乐源泉"),
    _topic("maternity", "母婴", "孕期 新生儿 辅食 育儿 待产包", "母婴 育儿 孕期 宝宝辅食"),
    _topic("cars", "汽车", "新能源车 提车 自驾 试驾 用车", "汽车 提车 新能源汽车 自驾游"),
    _topic("weddings", "婚礼", "婚纱照 婚礼布置 备婚 婚纱 求婚", "婚礼 备婚 婚纱照 新娘"),
    _topic("bags", "包包", "通勤包 托特包 小众包包 腋下包 帆布包", "包包 包包推荐 通勤包 小众包包"),
    _topic("trend_art", "潮流艺术", "展览 潮玩艺术 街头涂鸦 看展 艺术装置", "看展 艺术 潮流 展览推荐"),
    _topic("designer_toys", "潮玩", "盲盒 泡泡玛特 手办 拼装模型 棉花娃娃", "潮玩 盲盒 手办 泡泡玛特"),
    _topic("science_popularization", "科普", "冷知识 天文 生物 健康科普 物理", "科普 冷知识 涨知识 科学"),
    _topic("variety_show", "综艺", "综艺推荐 综艺名场面 选秀 真人秀 脱口秀", "综艺 综艺推荐 名场面 追综艺"),
)
TOPIC_INDEX_BY_KEY = {topic.key: index for index, topic in enumerate(TOPICS)}
# The last 8 hex digits of a note id encode (topic, is_video) modulo this.
NOTE_KIND_COUNT = 2 * len(TOPICS)

EMOJIS = ("✨", "🔥", "😭", "💕", "🌸", "🥹", "👍", "📌", "🎀", "🍀", "😍", "🙌", "‼️", "💯")
PRAISE = ("超实用", "亲测好用", "小众", "平价", "高级感", "宝藏")
FEELINGS = ("好看", "上头", "治愈", "绝", "香", "出片")
CITIES = ("成都", "上海", "北京", "杭州", "重庆", "广州", "长沙", "西安")
TITLE_TEMPLATES = (
    "{subject}真的绝了{emoji}",
    "{subject}|{praise}分享{emoji}",
    "救命!{subject}也太{feeling}了吧{emoji}",
    "{subject}保姆级攻略{emoji}",
    "后悔没早点知道的{subject}{emoji}",
    "{subject}合集|建议收藏{emoji}",
    "第一次{subject},{feeling}到哭{emoji}",
    "{subject}避雷&推荐{emoji}",
    "普通人的{subject}指南",
    "{city}!{subject}竟然没人知道!!!",
)
CONTENT_OPENINGS = (
    "{emoji}{subject}真的太{feeling}了!!",
    "姐妹们!今天来分享{subject}{emoji}",
    "最近被问爆的{subject}来啦{emoji}",
    "记录一下我的{subject}日常{emoji}",
    "关于{subject},说点大实话{emoji}",
)
CONTENT_POINTS = (
    "亲测有效,真的不踩雷",
    "预算不高也能搞定",
    "新手也能轻松上手",
    "细节都整理好了,直接抄作业",
    "适合懒人,省时又省心",
    "性价比超高,闭眼入",
    "拍照超出片📸",
    "周末去刚刚好",
    "踩过的坑都帮你们踩完了",
)
CONTENT_CLOSINGS = ("希望对大家有帮助!", "有问题评论区见~", "喜欢记得点赞收藏哦💕", "你们还有什么推荐吗?", "")
NUMBER_EMOJIS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣")
NICKNAME_PREFIXES = ("贪玩", "爱吃", "快乐", "地道的", "小", "努力的", "元气", "迷糊", "温柔的", "一只")
NICKNAME_NOUNS = ("小晕吖", "豆汁", "橘子", "团子", "兔兔", "阿狸", "桃桃", "鱼丸", "小熊", "咸鱼", "momo", "Yuki")
LOCATIONS = ("", "", "上海", "北京", "广东", "浙江", "四川", "江苏", "湖北")
BRANDS = ("完美日记", "花西子", "小米", "蕉下", "三顿半", "泡泡玛特", "安踏", "元气森林")
FEATURE_TAGS = ("干货", "教程", "种草", "测评", "攻略", "日常")
IMAGE_SIZES = ((1440, 1920), (1242, 1656), (1080, 1440), (1080, 1080), (1280, 1706), (1920, 1440))
VIDEO_SIZES = ((1080, 1920), (1920, 1080), (1080, 1440))
BASE36 = string.digits + string.ascii_lowercase
BASE64_CHARS = string.ascii_letters + string.digits + "+/"


def seeded_rng(*parts: object) -> random.Random:
    """A random generator that depends only on ``parts`` (not on PYTHONHASHSEED)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def stable_fraction(*parts: object) -> float:
    """A number in [0, 1) that depends only on ``parts``."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_valid_note_id(note_id: str) -> bool:
    return bool(NOTE_ID_PATTERN.match(note_id))


def channel_topic_index(oid: str) -> int | None:
    if oid in MIXED_CHANNELS:
        return None
    return TOPIC_INDEX_BY_KEY[oid[len("homefeed_"):-len("_v3")]]


def encode_note_id(
    created_ts: int, topic_index: int, is_video: bool, rng: random.Random, author_index: int | None = None
) -> str:
    """A note id: its creation time, then its author (1 + the author's index,
    or 0: an author drawn from the id), then its kind (topic, video or not)."""
    kind = topic_index + (len(TOPICS) if is_video else 0)
    tail = rng.randrange(2**32 // NOTE_KIND_COUNT) * NOTE_KIND_COUNT + kind
    middle = 0 if author_index is None else author_index + 1
    return "%08x%08x%08x" % (created_ts, middle, tail)


def decode_note_author(note_id: str) -> int | None:
    """The author index a note id carries (see :func:`encode_note_id`), if any."""
    middle = int(note_id[8:16], 16)
    return middle - 1 if 0 < middle <= AUTHOR_POOL_SIZE else None


def decode_note_kind(note_id: str) -> tuple[int, bool]:
    kind = int(note_id[16:], 16) % NOTE_KIND_COUNT
    return kind % len(TOPICS), kind >= len(TOPICS)


def random_token(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def hex_id(rng: random.Random, created_ts: int) -> str:
    return "%08x%08x%08x" % (created_ts, 0, rng.randrange(2**32))


def file_id(rng: random.Random) -> str:
    return "1040g" + random_token(rng, BASE36, 35)


def display_counter(count: int, rng: random.Random) -> str:
    """Xiaohongshu's on-screen form of a counter ("1.2万", "1万+", "10+", "3456")."""
    if count >= 10000:
        if rng.random() < 0.3:
            return "%d万+" % (count // 10000)
        return ("%.1f" % (count / 10000)).rstrip("0").rstrip(".") + "万"
    if 10 <= count < 100 and rng.random() < 0.5:
        return "10+"
    return str(count)


def china_minute(epoch_seconds: int) -> str:
    return datetime.fromtimestamp(epoch_seconds, CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def compact_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Author:
    user_id: str
    nickname: str
    avatar_file_id: str
    fans: int
    gender: str
    location: str
    red_id: str
    is_priced_creator: bool
    picture_price: int
    video_price: int

    def avatar_url(self, width: int) -> str:
        return "https://sns-avatar-qc.xhscdn.com/avatar/%s?imageView2/2/w/%d/format/jpg" % (
            self.avatar_file_id,
            width,
        )


@dataclass(frozen=True)
class Image:
    file_id: str
    width: int
    height: int
    thumb_hash: str
    rgb: str


@dataclass(frozen=True)
class Counters:
    likes: int
    favourites: int
    comments: int
    shares: int
    reads: int
    impressions: int
    follows: int


@dataclass(frozen=True)
class Note:
    note_id: str
    topic: Topic
    is_video: bool
    created_ts: int
    user_updated_ts: int
    updated_ts: int
    title: str
    content: str
    author: Author
    images: tuple[Image, ...]
    video: dict | None
    counters: Counters
    feed_likes: int | str
    xsec_token: str
    feature_tags: list[str] | None
    at_users: list[dict] | None
    brand: tuple[str, str] | None
    shows_author_header: bool


def build_author(seed: int, index: int) -> Author:
    rng = seeded_rng(seed, "author", index)
    registered = rng.randrange(1450000000, 1740000000)
    nickname = rng.choice(NICKNAME_PREFIXES) + rng.choice(NICKNAME_NOUNS)
    if rng.random() < 0.4:
        nickname += str(rng.randrange(1, 999))
    fans = int(10 ** rng.uniform(0.5, 6.2))
    return Author(
        user_id=hex_id(rng, registered),
        nickname=nickname,
        avatar_file_id="1040g2jo" + random_token(rng, BASE36, 32),
        fans=fans,
        gender="女" if rng.random() < 0.7 else "男",
        location=rng.choice(LOCATIONS),
        red_id=str(rng.randrange(100000000, 9999999999)),
        is_priced_creator=fans > 5000 and rng.random() < 0.5,
        picture_price=rng.randrange(5, 300) * 100,
        video_price=rng.randrange(8, 500) * 100,
    )


def build_image(rng: random.Random, size: tuple[int, int]) -> Image:
    return Image(
        file_id=file_id(rng),
        width=size[0],
        height=size[1],
        thumb_hash=random_token(rng, BASE64_CHARS, 28),
        rgb="0x%06x" % rng.randrange(2**24),
    )


def build_title(subject: str, rng: random.Random) -> str:
    return rng.choice(TITLE_TEMPLATES).format(
        subject=subject,
        emoji=rng.choice(EMOJIS),
        praise=rng.choice(PRAISE),
        feeling=rng.choice(FEELINGS),
        city=rng.choice(CITIES),
    )


def build_hashtags(topic: Topic, rng: random.Random) -> str:
    if rng.random() < 0.15:
        return ""
    candidates = list(dict.fromkeys(topic.hashtags + topic.subjects))
    chosen = rng.sample(candidates, rng.randint(2, min(6, len(candidates))))
    return "".join("#%s[话题]#" % tag for tag in chosen)


def build_content(topic: Topic, subject: str, rng: random.Random) -> str:
    lines = [
        rng.choice(CONTENT_OPENINGS).format(
            subject=subject, emoji=rng.choice(EMOJIS), feeling=rng.choice(FEELINGS)
        )
    ]
    if rng.random() < 0.5:
        lines.append("-")
    points = rng.sample(CONTENT_POINTS, rng.randint(2, 5))
    lines.extend(NUMBER_EMOJIS[i] + point for i, point in enumerate(points))
    lines.append(rng.choice(CONTENT_CLOSINGS))
    hashtags = build_hashtags(topic, rng)
    if hashtags:
        lines.append(hashtags)
    return "\n".join(lines)


def build_counters(rng: random.Random) -> Counters:
    likes = int(10 ** rng.uniform(0, 5.3))
    # The brand platform often has no reach data for a note: it reports 0.
    has_reach_data = rng.random() < 0.7
    reads = likes * rng.randint(5, 40) if has_reach_data else 0
    return Counters(
        likes=likes,
        favourites=int(likes * rng.uniform(0.1, 1.2)),
        comments=int(likes * rng.uniform(0.01, 0.3)),
        shares=int(likes * rng.uniform(0.0, 0.2)),
        reads=reads,
        impressions=reads * rng.randint(3, 12),
        follows=int(likes * rng.uniform(0.0, 0.05)),
    )


def build_video(rng: random.Random, cover: Image) -> dict:
    return {
        "videoId": str(rng.randrange(10**17, 10**18)),
        "duration": rng.randint(8, 300),
        "width": cover.width,
        "height": cover.height,
        "url": "http://sns-video-bd.xhscdn.com/stream/110/259/01e%s_259.mp4" % random_token(rng, BASE36, 40),
        "firstFrameFileId": file_id(rng),
    }


def build_at_users(seed: int, rng: random.Random) -> list[dict]:
    mentioned = (build_author(seed, rng.randrange(AUTHOR_POOL_SIZE)) for _ in range(rng.randint(1, 2)))
    return [{"userId": author.user_id, "nickName": author.nickname} for author in mentioned]


def note_created_ts(note_id: str, rng: random.Random) -> int:
    created = int(note_id[:8], 16)
    if OLDEST_PLAUSIBLE_TS <= created <= UNIVERSE_NOW + GROWTH_WINDOW:
        return created
    return UNIVERSE_NOW - rng.randrange(NOTE_AGE_WINDOW)


def note_author(seed: int, note_id: str, rng: random.Random) -> Author:
    """The author a note id carries, else one drawn from *rng* (drawn either
    way, so that what is drawn after it stays the same)."""
    drawn = rng.randrange(AUTHOR_POOL_SIZE)
    carried = decode_note_author(note_id)
    return build_author(seed, drawn if carried is None else carried)


def build_note(seed: int, note_id: str) -> Note:
    rng = seeded_rng(seed, "note", note_id)
    topic_index, is_video = decode_note_kind(note_id)
    topic = TOPICS[topic_index]
    created = note_created_ts(note_id, rng)
    user_updated = created + rng.randrange(0, 5 * 86400)
    author = note_author(seed, note_id, rng)
    if is_video:
        images: tuple[Image, ...] = (build_image(rng, rng.choice(VIDEO_SIZES)),)
        video = build_video(rng, images[0])
    else:
        size = rng.choice(IMAGE_SIZES)
        images = tuple(build_image(rng, size) for _ in range(rng.choice((1, 1, 2, 3, 4, 6, 9))))
        video = None
    subject = rng.choice(topic.subjects)
    counters = build_counters(rng)
    feed_likes: int | str = counters.likes
    if rng.random() < STRING_LIKES_SHARE:
        feed_likes = display_counter(counters.likes, rng)
    return Note(
        note_id=note_id,
        topic=topic,
        is_video=is_video,
        created_ts=created,
        user_updated_ts=user_updated,
        updated_ts=user_updated + rng.randrange(0, 10 * 86400),
        title=build_title(subject, rng),
        content=build_content(topic, subject, rng),
        author=author,
        images=images,
        video=video,
        counters=counters,
        feed_likes=feed_likes,
        xsec_token="MB" + random_token(rng, string.ascii_letters + string.digits + "_-", 42),
        feature_tags=rng.sample(FEATURE_TAGS, rng.randint(1, 3)) if rng.random() < 0.35 else None,
        at_users=build_at_users(seed, rng) if rng.random() < 0.15 else None,
        brand=(hex_id(rng, created - 86400 * 400), rng.choice(BRANDS)) if rng.random() < 0.1 else None,
        shows_author_header=rng.random() < 0.2,
    )


def detail_image(image: Image) -> dict:
    base = "http://ci.xiaohongshu.com/" + image.file_id
    return {
        "fileId": image.file_id,
        "url": base + "?imageView2/2/w/1080/format/jpg",
        "original": base,
        "width": image.width,
        "height": image.height,
        "latitude": None,
        "longitude": None,
        "traceId": image.file_id,
        "sticker": None,
    }


def detail_user_info(author: Author) -> dict:
    priced = author.is_priced_creator
    engagement = author.fans // 20
    return {
        "nickName": author.nickname,
        "avatar": author.avatar_url(120),
        "userId": author.user_id,
        "advertiserId": None,
        "fansNum": author.fans,
        "cooperType": 1 if priced else 2,
        "priceState": 1 if priced else None,
        "pictureState": 1 if priced else None,
        "picturePrice": author.picture_price if priced else None,
        "videoState": 1 if priced else None,
        "videoPrice": author.video_price if priced else None,
        "userType": 1,
        "operateState": None,
        "currentLevel": 2 if priced else None,
        "location": author.location,
        "contentTags": [],
        "featureTags": [],
        "personalTags": [],
        "gender": author.gender,
        "isCollect": False,
        "clickMidNum": engagement // 3 if priced else 0,
        "interMidNum": engagement // 7 if priced else 0,
        "pictureInCart": None,
        "videoInCart": None,
        "kolType": None,
        "mengagementNum": engagement,
        "mEngagementNum": engagement,
    }


def note_detail(note: Note) -> dict:
    """The ``data`` object of a successful note-detail answer."""
    author = note.author
    counters = note.counters
    return {
        "noteId": note.note_id,
        "noteLink": "https://www.xiaohongshu.com/explore/%s?xsec_token=%s=&xsec_source=pc_pgy"
        % (note.note_id, note.xsec_token),
        "userId": author.user_id,
        "headPhoto": author.avatar_url(120) if note.shows_author_header else None,
        "name": author.nickname if note.shows_author_header else None,
        "redId": author.red_id if note.shows_author_header else None,
        "type": 2 if note.is_video else 1,
        "atUserList": note.at_users,
        "title": note.title,
        "content": note.content,
        "imagesList": [detail_image(image) for image in note.images],
        "videoInfo": note.video,
        "time": {
            "createTime": note.created_ts * 1000,
            "updateTime": note.updated_ts * 1000,
            "userUpdateTime": note.user_updated_ts * 1000,
        },
        "createTime": china_minute(note.created_ts),
        "impNum": counters.impressions,
        "likeNum": counters.likes,
        "favNum": counters.favourites,
        "cmtNum": counters.comments,
        "readNum": counters.reads,
        "shareNum": counters.shares,
        "followCnt": counters.follows,
        "reportBrandUserId": note.brand[0] if note.brand else None,
        "reportBrandName": note.brand[1] if note.brand else None,
        "featureTags": note.feature_tags,
        "userInfo": detail_user_info(author),
        "compClickData": None,
    }


def feed_image(image: Image) -> dict:
    file_id_with_prefix = "notes_pre_post/" + image.file_id
    base = "https://sns-i8.rednotecdn.com/" + file_id_with_prefix + "?imageView2/2/w/"
    return {
        "height": image.height,
        "width": image.width,
        "url": base + "540/format/webp",
        "original": "",
        "fileid": file_id_with_prefix,
        "url_size_large": base + "1080/format/webp",
        "trace_id": file_id_with_prefix,
        "url_multi_level": {
            "low": base + "360/format/webp",
            "medium": base + "540/format/webp",
            "high": base + "1080/format/webp",
        },
        "need_load_original_image": False,
        "thumb_hash": image.thumb_hash,
        "rgb": image.rgb,
    }


def feed_user(author: Author) -> dict:
    return {
        "nickname": author.nickname,
        "images": author.avatar_url(80),
        "followed": False,
        "fstatus": "none",
        "userid": author.user_id,
    }


@dataclass(frozen=True)
class CardContent:
    """The parts of a feed card that differ between notes, ads and live rooms."""

    card_id: str
    card_type: str
    model_type: str
    timestamp: int
    title: str
    likes: int | str
    user: dict
    image: dict
    category_id: str
    category_name: str
    has_music: bool = False


@dataclass(frozen=True)
class CardPlace:
    """Where a card sits: it drives the tracking fields."""

    index: int
    page: int
    track_id: str


def feed_recommend(content: CardContent, place: CardPlace, lazy_load_score: float, rng: random.Random) -> dict:
    return {
        "desc": "",
        "icon": "",
        "type": "",
        "dark_icon": "",
        "target_id": "",
        "target_name": "",
        "track_id": "dssmbase_recall_dssm_newneg_ali_imp_1hour@" + place.track_id,
        "topic_id": "",
        "topic_name": "",
        "mf_topic_id": "",
        "mf_topic_name": "",
        "topic_type": "",
        "topic_sub_type": "",
        "is_super_topic": False,
        "is_followed_topic": False,
        "category_id": content.category_id,
        "category_name": content.category_name,
        "predict_click_ratio": round(rng.uniform(0.02, 0.4), 8),
        "predict_video_complete_ratio": round(rng.uniform(0.05, 0.6), 8),
        "is_activate_search": False,
        "videofeed_lazy_load_score": lazy_load_score,
    }


#: The same on every card the vendor sends.
FEED_REC_EXTRA_INFO = compact_json(
    {
        "followConductVideoTime": "-1",
        "followConductReason": "",
        "needInnerSharePrompt": "false",
        "needShareProgress": "false",
    }
)


def feed_widgets_context(user: dict) -> str:
    return compact_json({"flags": {}, "author_id": user["userid"], "author_name": user["nickname"]})


def feed_card(content: CardContent, place: CardPlace, rng: random.Random) -> dict:
    lazy_load_score = round(rng.random(), 7)
    is_ads = content.model_type == "ads"
    return {
        "id": content.card_id,
        "type": content.card_type,
        "timestamp": content.timestamp,
        "name": content.title,
        "title": content.title,
        "desc": "",
        "likes": content.likes,
        "user": content.user,
        "last_update_time": 0,
        "display_title": content.title,
        "images_list": [content.image],
        "inlikes": False,
        "model_type": content.model_type,
        "is_ads": is_ads,
        "is_tracking": is_ads,
        "debug_info_str": compact_json({"videofeedLazyLoadScore": str(lazy_load_score)}),
        "is_tracking_upgrade": False,
        "has_music": content.has_music,
        "is_top_show_eco_officer_note": False,
        "pk_status_info": compact_json({"ubtsecret": random_token(rng, BASE64_CHARS, 88)}),
        "advanced_widgets_groups": {"groups": [{"mode": 1, "fetch_types": ["guos_test"]}]},
        "widgets_context": feed_widgets_context(content.user),
        "corner_tag": [],
        "rec_extra_info": FEED_REC_EXTRA_INFO,
        "rec_params": compact_json({"isNiceNote": 0, "hfTrackId": place.track_id}),
        "recommend": feed_recommend(content, place, lazy_load_score, rng),
        "dislike_optional": {"follow_user": False},
        "cursor_score": "%d.%04d" % (UNIVERSE_NOW + 400 - place.page * 40 - place.index, rng.randrange(10000)),
        "app_json_string": compact_json({"note_need_unique": True}),
        "downgrade_data": 0,
        "track_id_mix_rank": place.track_id,
        "generate_item_index": place.index,
        "rec_result_from_inner_cache": False,
    }


def category_id(category_name: str) -> str:
    return hashlib.sha256(category_name.encode("utf-8")).hexdigest()[:24]


def note_card_content(note: Note) -> CardContent:
    return CardContent(
        card_id=note.note_id,
        card_type="video" if note.is_video else "normal",
        model_type="note",
        timestamp=note.created_ts,
        title=note.title,
        likes=note.feed_likes,
        user=feed_user(note.author),
        image=feed_image(note.images[0]),
        category_id=category_id(note.topic.name),
        category_name=note.topic.name,
        has_music=note.is_video,
    )


def ad_card_content(seed: int, slot_name: str) -> CardContent:
    rng = seeded_rng(seed, "ad", slot_name)
    brand = rng.choice(BRANDS)
    created = UNIVERSE_NOW - rng.randrange(30 * 86400)
    author = build_author(seed, rng.randrange(AUTHOR_POOL_SIZE))
    return CardContent(
        card_id=hex_id(rng, created),
        card_type="normal",
        model_type="ads",
        timestamp=created,
        title="【%s】新品限时福利,点击领取%s" % (brand, rng.choice(EMOJIS)),
        likes=rng.randrange(0, 3000),
        user=dict(feed_user(author), nickname=brand + "官方账号"),
        image=feed_image(build_image(rng, rng.choice(IMAGE_SIZES))),
        category_id=category_id("广告"),
        category_name="广告",
    )


def live_card_content(seed: int, slot_name: str) -> CardContent:
    rng = seeded_rng(seed, "live", slot_name)
    topic = rng.choice(TOPICS)
    author = build_author(seed, rng.randrange(AUTHOR_POOL_SIZE))
    return CardContent(
        card_id=str(rng.randrange(10**18, 10**19)),
        card_type="live",
        model_type="live",
        timestamp=UNIVERSE_NOW - rng.randrange(3 * 3600),
        title="直播中|%s聊%s%s" % (author.nickname, rng.choice(topic.subjects), rng.choice(EMOJIS)),
        likes=rng.randrange(0, 50000),
        user=feed_user(author),
        image=feed_image(build_image(rng, (1080, 1440))),
        category_id=category_id(topic.name),
        category_name=topic.name,
    )


@dataclass(frozen=True)
class Slot:
    """One card position on a feed page: ``kind`` is note, ads, live or blank."""

    kind: str
    note_id: str = ""


class FeedUniverse:
    """All channels, pages and notes of one seed."""

    def __init__(self, seed: int, pages: int) -> None:
        self.seed = seed
        self.pages = pages
        self._slots: dict[tuple[str, int], tuple[Slot, ...]] = {}
        self.note = lru_cache(maxsize=16384)(self._build_note)

    def _build_note(self, note_id: str) -> Note:
        return build_note(self.seed, note_id)

    def is_unavailable(self, note_id: str, rate: float) -> bool:
        return stable_fraction(self.seed, "unavailable", note_id) < rate

    def note_detail(self, note_id: str) -> dict:
        return note_detail(self.note(note_id))

    def page_note_ids(self, oid: str, page: int) -> list[str]:
        return [slot.note_id for slot in self.page_slots(oid, page) if slot.kind == "note"]

    def feed_page(self, oid: str, page: int) -> list[dict]:
        track_id = random_token(seeded_rng(self.seed, "track", oid, page), BASE36, 21)
        cards = []
        for index, slot in enumerate(self.page_slots(oid, page)):
            place = CardPlace(index=index, page=page, track_id=track_id)
            rng = seeded_rng(self.seed, "card", oid, page, index)
            cards.append(self._card(slot, "%s:%d:%d" % (oid, page, index), place, rng))
        return cards

    def _card(self, slot: Slot, slot_name: str, place: CardPlace, rng: random.Random) -> dict:
        if slot.kind == "ads":
            return feed_card(ad_card_content(self.seed, slot_name), place, rng)
        if slot.kind == "live":
            return feed_card(live_card_content(self.seed, slot_name), place, rng)
        if slot.kind == "note":
            return feed_card(note_card_content(self.note(slot.note_id)), place, rng)
        return self._blank_card(slot_name, place, rng)

    def _blank_card(self, slot_name: str, place: CardPlace, rng: random.Random) -> dict:
        # A note card whose id was stripped upstream; clients must skip it.
        card = feed_card(note_card_content(self.note(self._own_note_id(slot_name))), place, rng)
        if stable_fraction(self.seed, "blank", slot_name) < 0.5:
            card["id"] = ""
        else:
            del card["id"]
        return card

    def page_slots(self, oid: str, page: int) -> tuple[Slot, ...]:
        if page < 1 or page > self.pages:
            return ()
        key = (oid, page)
        if key not in self._slots:
            self._slots[key] = self._lay_out_page(oid, page)
        return self._slots[key]

    def _lay_out_page(self, oid: str, page: int) -> tuple[Slot, ...]:
        rng = seeded_rng(self.seed, "layout", oid, page)
        earlier = [note_id for previous in range(1, page) for note_id in self.page_note_ids(oid, previous)]
        used: set[str] = set()
        slots = []
        for index in range(rng.randint(*CARDS_PER_PAGE)):
            kind = self._slot_kind(oid, rng)
            if kind == "note":
                note_id = self._pick_note_id(oid, page, index, rng, earlier, used)
                used.add(note_id)
                slots.append(Slot("note", note_id))
            else:
                slots.append(Slot(kind))
        return tuple(slots)

    @staticmethod
    def _slot_kind(oid: str, rng: random.Random) -> str:
        roll = rng.random()
        if oid == "homefeed_live":
            return "live" if roll < 0.8 else "note"
        if roll < 0.06:
            return "ads"
        if roll < 0.10:
            return "live"
        if roll < 0.12:
            return "blank"
        return "note"

    def _pick_note_id(
        self, oid: str, page: int, index: int, rng: random.Random, earlier: list[str], used: set[str]
    ) -> str:
        shared_share = RECOMMEND_SHARED_NOTE_SHARE if oid == DEFAULT_CHANNEL else SHARED_NOTE_SHARE
        roll = rng.random()
        candidate = None
        if earlier and roll < REPEAT_FROM_EARLIER_PAGE_SHARE:
            candidate = rng.choice(earlier)
        elif roll < REPEAT_FROM_EARLIER_PAGE_SHARE + shared_share:
            candidate = self._shared_note_id(rng.randrange(SHARED_POOL_SIZE))
        if candidate is None or candidate in used:
            candidate = self._own_note_id("%s:%d:%d" % (oid, page, index), channel_topic_index(oid), oid)
        return candidate

    def _shared_note_id(self, pool_index: int) -> str:
        rng = seeded_rng(self.seed, "shared", pool_index)
        created = UNIVERSE_NOW - rng.randrange(NOTE_AGE_WINDOW)
        return encode_note_id(created, rng.randrange(len(TOPICS)), rng.random() < 0.3, rng)

    def _own_note_id(self, slot_name: str, topic_index: int | None = None, oid: str = "") -> str:
        rng = seeded_rng(self.seed, "own", slot_name)
        created = UNIVERSE_NOW - rng.randrange(NOTE_AGE_WINDOW)
        if topic_index is None:
            topic_index = rng.randrange(len(TOPICS))
        video_share = 0.9 if oid == "homefeed_video_v3" else 0.25
        return encode_note_id(created, topic_index, rng.random() < video_share, rng)
