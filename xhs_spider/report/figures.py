"""The report's numbers, computed from the dataset of one window.

One section per source a note was found under in the window: a channel
(its feed appearances), a keyword, a creator or a topic (their appearances).
Top notes: among the notes a source listed in the window, the most liked by
their latest stored counts. Rising: among
the same notes, those whose likes grew between their first and last
``note_metrics`` snapshot taken in the window (two snapshots at least), the
largest growth first; a note whose likes fell or stayed is not rising.
Ties go to the smaller note id, so the SQL of docs/analysis.md gives the
same lists.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from xhs_spider.dataset.query import CHANNEL, SOURCE_KINDS, Query, source_name
from xhs_spider.dataset.readers import Dataset
from xhs_spider.report.discussion import Discussion, discussion

#: Notes per source in each ranking.
TOP = 5
#: What a section calls each kind of source.
KIND_TITLES = {CHANNEL: "Channel", "keyword": "Keyword", "user": "Creator", "topic": "Topic"}


@dataclass(frozen=True)
class RankedNote:
    note_id: str
    title: str
    likes: int | None
    growth: int | None = None


@dataclass
class SourceFigures:
    kind: str
    value: str
    top: list[RankedNote]
    rising: list[RankedNote]
    #: Likes over time (fetched_at, likes) of the source's top notes that
    #: have snapshots in the window (a note without any has no line to draw).
    series: dict[str, list[tuple[str, int]]]
    #: A creator's nickname, as its notes name it; "" for other sources.
    nickname: str = ""

    @property
    def name(self) -> str:
        """A channel's oid, or ``kind:value`` (``keyword:咖啡``): the per-day column."""
        return source_name(self.kind, self.value) if self.kind != CHANNEL else self.value

    @property
    def key(self) -> str:
        """The part of the page's element ids naming the source: a channel's oid,
        ``keyword-咖啡`` (white space as ``_``)."""
        return self.value if self.kind == CHANNEL else "_".join(
            ("%s-%s" % (self.kind, self.value)).split())

    @property
    def title(self) -> str:
        if self.kind == CHANNEL:
            return self.value
        value = "%s (%s)" % (self.nickname, self.value) if self.nickname else self.value
        return "%s: %s" % (KIND_TITLES.get(self.kind, self.kind), value)


@dataclass(frozen=True)
class RunFigures:
    run_id: str
    started_at: str
    finish_reason: str
    billed: int
    notes_stored: int
    give_ups: int
    spider: str = ""
    finished_at: str = ""
    #: The channels the run crawled (a feed run's; empty for the others).
    channels: tuple[str, ...] = ()

    @property
    def notes_per_billed_call(self) -> float | None:
        return round(self.notes_stored / self.billed, 2) if self.billed else None


@dataclass
class Figures:
    since: str
    #: By kind (channels first, then keywords, creators, topics), then value.
    sources: list[SourceFigures] = field(default_factory=list)
    #: Appearances per source (its :attr:`SourceFigures.name`) per day (YYYY-MM-DD).
    per_day: dict[str, dict[str, int]] = field(default_factory=dict)
    runs: list[RunFigures] = field(default_factory=list)
    #: The most-discussed notes and comments per day (empty: no comment stored).
    discussion: Discussion = field(default_factory=Discussion)
    #: The notes the sources listed in the window, each once.
    notes: int = 0

    @property
    def finish_reasons(self) -> Counter[str]:
        return Counter(run.finish_reason for run in self.runs)

    @property
    def channels_crawled(self) -> set[str]:
        """The channels the runs of the window crawled, notes found or not."""
        return {channel for run in self.runs for channel in run.channels}

    def of_kind(self, kind: str) -> list[SourceFigures]:
        return [source for source in self.sources if source.kind == kind]


def compute(dataset: Dataset, since: str,
            sources: frozenset[tuple[str, str]] | None = None) -> Figures:
    """The figures of the window from *since*, of *sources* ((kind, value) pairs; None: all)."""
    listed: dict[tuple[str, str], set[str]] = defaultdict(set)
    per_day: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    nicknames: dict[str, str] = {}
    for appearance in dataset.records(Query("appearances", since=since, sources=sources)):
        source = (str(appearance["source_kind"]), str(appearance["source_value"]))
        listed[source].add(appearance["note_id"])
        per_day[source][appearance["crawled_at"][:10]] += 1
        if source[0] == "user" and source[1] not in nicknames:
            nicknames[source[1]] = ((appearance.get("author") or {}).get("nickname") or "")
    wanted = set().union(*listed.values())
    notes = {note["note_id"]: note for note in _notes(dataset, wanted)}
    snapshots = _snapshots(dataset, since, wanted)
    figures = Figures(since=since, runs=_runs(dataset, since, sources),
                      discussion=discussion(dataset, since, sources), notes=len(wanted))
    for kind, value in sorted(listed, key=_source_order):
        top = _top(listed[kind, value], notes)
        figures.sources.append(SourceFigures(
            kind, value, top, _rising(listed[kind, value], notes, snapshots),
            {note.note_id: snapshots[note.note_id] for note in top if note.note_id in snapshots},
            nickname=nicknames.get(value, "") if kind == "user" else "",
        ))
    figures.per_day = {
        section.name: dict(sorted(per_day[section.kind, section.value].items()))
        for section in figures.sources}
    return figures


def _source_order(source: tuple[str, str]) -> tuple[int, str]:
    kind, value = source
    return (SOURCE_KINDS.index(kind) if kind in SOURCE_KINDS else len(SOURCE_KINDS), value)


def _notes(dataset: Dataset, wanted: set[str]) -> list[dict]:
    keep = ("note_id", "title", "counts")
    return [
        {name: note.get(name) for name in keep}
        for note in dataset.records(Query("notes")) if note["note_id"] in wanted
    ]


def _snapshots(dataset: Dataset, since: str, wanted: set[str]) -> dict[str, list[tuple[str, int]]]:
    series: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for snapshot in dataset.records(Query("metrics", since=since)):
        if snapshot["note_id"] in wanted and snapshot.get("likes") is not None:
            series[snapshot["note_id"]].append((snapshot["fetched_at"], snapshot["likes"]))
    return {note_id: sorted(points) for note_id, points in series.items()}


def _likes(note: dict) -> int | None:
    likes = (note.get("counts") or {}).get("likes")
    return likes if isinstance(likes, int) else None


def _top(note_ids: set[str], notes: dict[str, dict]) -> list[RankedNote]:
    liked = [
        RankedNote(note_id, notes[note_id].get("title") or "", _likes(notes[note_id]))
        for note_id in note_ids if note_id in notes and _likes(notes[note_id]) is not None
    ]
    return sorted(liked, key=lambda note: (-(note.likes or 0), note.note_id))[:TOP]


def _rising(note_ids: set[str], notes: dict[str, dict],
            snapshots: dict[str, list[tuple[str, int]]]) -> list[RankedNote]:
    grown = []
    for note_id in note_ids:
        points = snapshots.get(note_id, [])
        if len(points) >= 2 and points[-1][1] > points[0][1]:
            note = notes.get(note_id, {})
            grown.append(RankedNote(note_id, note.get("title") or "", points[-1][1],
                                    growth=points[-1][1] - points[0][1]))
    return sorted(grown, key=lambda note: (-(note.growth or 0), note.note_id))[:TOP]


def _runs(dataset: Dataset, since: str, sources: frozenset[tuple[str, str]] | None) -> list[RunFigures]:
    figures = []
    for run in dataset.records(Query("runs", since=since, sources=sources)):
        summary = run.get("summary") or {}
        api, notes = summary.get("api") or {}, summary.get("notes") or {}
        figures.append(RunFigures(
            run_id=run["run_id"], started_at=str(run.get("started_at") or ""),
            finish_reason=str(run.get("finish_reason") or "(none: killed?)"),
            billed=int(api.get("billed") or 0), notes_stored=int(notes.get("stored") or 0),
            give_ups=int(api.get("give_ups") or 0), spider=str(run.get("spider") or ""),
            finished_at=str(run.get("finished_at") or ""),
            channels=tuple(sorted(summary.get("channels") or {})),
        ))
    return figures
