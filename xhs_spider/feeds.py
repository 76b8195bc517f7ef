"""CSV feeds of a spider that yields two item types: one file for each.

A CSV file has one set of columns, and the ``feed`` spider yields notes and
feed appearances. ``scrapy crawl feed -O notes.csv`` (or ``-o``, or a CSV
entry of ``FEEDS`` without ``item_classes``) therefore becomes two feeds,
the Scrapy way: ``notes.csv`` holds the notes (``item_classes``: NoteItem)
and ``notes.appearances.csv``, beside it, the feed appearances, each with
its own header (even when a run yields none of its items), both with the entry's other options (``overwrite`` among
them: ``-O`` overwrites both, ``-o`` appends to both). The crawl names both
files in its log and in its run summary (:func:`feed_files`). Whether a
crawl yields both types is the spiders' to say
(:func:`xhs_spider.spiders.arguments.mixes_item_types`).
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from w3lib.url import file_uri_to_path

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

NOTES = "xhs_spider.items.NoteItem"
APPEARANCES = "xhs_spider.items.FeedAppearanceItem"
#: What each item class is called in the log and the run summary.
ITEM_NAMES = {NOTES: "notes", APPEARANCES: "feed appearances"}
#: Inserted before the extension of the notes' file name.
APPEARANCES_INFIX = ".appearances"


def mixed_csv_feeds(feeds: dict[str, dict[str, Any]]) -> list[str]:
    """The URIs of the CSV feeds of *feeds* that would receive every item type."""
    return [str(uri) for uri, options in feeds.items()
            if options.get("format") == "csv" and not options.get("item_classes")]


def paired_feeds(feeds: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """*feeds* with each CSV feed of every item type made two: its notes in
    it, its feed appearances in the file beside it (:func:`appearances_uri`).
    A feed that cannot be split (standard output, or the file beside it
    already a feed) stays as it is."""
    paired: dict[str, dict[str, Any]] = {}
    for uri, options in feeds.items():
        beside = appearances_uri(str(uri))
        if str(uri) not in mixed_csv_feeds({uri: options}) or beside is None or beside in feeds:
            paired[uri] = options
            continue
        paired[uri] = _one_class(options, NOTES)
        paired[beside] = _one_class(options, APPEARANCES)
    return paired


def _one_class(options: dict[str, Any], item_class: str) -> dict[str, Any]:
    """*options* for a feed of *item_class* alone, which gets its header even empty."""
    export_kwargs = {**(options.get("item_export_kwargs") or {}), "item_class": item_class}
    return {**options, "item_classes": [item_class], "item_export_kwargs": export_kwargs}


def appearances_uri(uri: str) -> str | None:
    """Where the feed appearances of the notes' feed *uri* go: ``notes.csv``
    → ``notes.appearances.csv``; None for standard output."""
    if uri in ("-", "stdout:") or uri.startswith("stdout:"):
        return None
    root, extension = posixpath.splitext(uri)
    if not posixpath.basename(root):
        return None
    return root + APPEARANCES_INFIX + extension


def local_feed_paths(feeds: dict[str, dict[str, Any]]) -> list[str]:
    """The file each local feed of *feeds* writes (a ``file://`` URI or a plain
    path), to be checked before a crawl; not standard output, remote storage
    (``s3://``, ``ftp://``…) or a name with ``%(…)s`` placeholders, which is
    known only when the spider runs."""
    paths = []
    for uri in map(str, feeds):
        scheme = urlparse(uri).scheme
        if uri == "-" or "%(" in uri or scheme not in ("", "file"):
            continue
        paths.append(file_uri_to_path(uri) if scheme == "file" else uri)
    return paths


def feed_files(settings: BaseSettings) -> dict[str, str]:
    """Each feed's URI and what it receives (``notes``, ``feed appearances``, ``items``)."""
    files = {}
    for uri, options in settings.getdict("FEEDS").items():
        classes = [_class_path(name) for name in options.get("item_classes") or ()]
        files[str(uri)] = ", ".join(ITEM_NAMES.get(name, name.rsplit(".", 1)[-1])
                                    for name in classes) or "items"
    return files


def _class_path(item_class: Any) -> str:
    """An ``item_classes`` entry, a class or its import path, as its import path."""
    if isinstance(item_class, str):
        return item_class
    return f"{item_class.__module__}.{item_class.__qualname__}"
