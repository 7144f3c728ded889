"""The claim timeline report: stored claims, developments and matches -> one self-contained HTML page.

Pure from `build` down (rows in, a Report out); `load` reads the database and `render` fills
flows/templates/report.html with Jinja2, autoescape on, so every title, outlet, evidence sentence
and URL reaches the page as text (RELIABILITY.md rule 12). The page carries its CSS inline, draws
its charts as SVG and runs no script at all; its Content-Security-Policy forbids scripts anyway.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
import markupsafe

from claimwatch.flows.extract.duplicates import near_duplicate
from claimwatch.flows.report.chart import CHART_H, CHART_RELATIONS, CHART_W, Chart, chart
from claimwatch.flows.report.links import claim_anchor, safe_href
from claimwatch.flows.report.times import day as _day
from claimwatch.flows.report.times import reported_at
from claimwatch.flows.report.times import shown as _when
from claimwatch.storage import claims as records
from claimwatch.storage.db import Engine, session
from claimwatch.storage.models import ClaimRecord, Development

TEMPLATES = Path(__file__).with_name("templates")
INDEX = "index.html"
SOURCES_SHOWN = 8  # source groups shown open per development; the rest fold under "more"


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One match with its article's metadata (storage/claims.REPORT_MATCH_COLUMNS, in that order)."""

    match_id: int
    claim_id: str
    relation: str
    evidence: str
    development_id: int | None
    matched_at: datetime | None
    article_id: int
    version: int
    version_title: str
    fingerprint: int
    fetched_at: datetime | None
    url: str
    article_title: str
    outlet: str | None
    published_at: datetime | None

    @property
    def title(self) -> str:
        return self.version_title or self.article_title or self.url

    @property
    def outlet_name(self) -> str:
        return self.outlet or urlsplit(self.url).hostname or "unknown outlet"

    @property
    def href(self) -> str | None:
        return safe_href(self.url)

    @property
    def day(self) -> date | None:
        """The day the coverage appeared: its publication date, never after we matched it."""
        seen = self.matched_at or self.fetched_at
        when = self.published_at if self.published_at and (not seen or self.published_at <= seen) \
            else seen
        return when.date() if when else None


@dataclass(frozen=True, slots=True)
class SourceGroup:
    """An article and its near-duplicates (syndicated copies, later versions) folded under it."""

    primary: SourceRow
    copies: tuple[SourceRow, ...]


@dataclass(frozen=True, slots=True)
class Change:
    slot: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class Entry:
    """One development on a claim's timeline."""

    id: int
    relation: str
    summary: str
    seen_at: datetime | None  # when claimwatch first saw it (the run's time)
    reported_at: datetime | None  # when the news happened; None when no source gives a date
    changes: tuple[Change, ...]
    groups: tuple[SourceGroup, ...]

    @property
    def news_at(self) -> datetime | None:
        """The date to show: when it was reported, else when it was first seen."""
        return self.reported_at or self.seen_at

    @property
    def shown(self) -> tuple[SourceGroup, ...]:
        return self.groups[:SOURCES_SHOWN]

    @property
    def folded(self) -> tuple[SourceGroup, ...]:
        return self.groups[SOURCES_SHOWN:]


@dataclass(frozen=True, slots=True)
class FactRow:
    slot: str
    seed: str | None
    now: str | None

    @property
    def changed(self) -> bool:
        return self.seed != self.now


@dataclass(frozen=True, slots=True)
class ClaimView:
    id: str
    anchor: str
    statement: str
    status: str  # "unchanged" | "updated" | "contradicted"
    facts: tuple[FactRow, ...]
    timeline: tuple[Entry, ...]
    last_development_at: datetime | None  # when its news happened (else when first seen)
    last_development_reported: bool  # False: no source gives a date, the run's time is shown
    source_count: int
    chart: Chart


@dataclass(frozen=True, slots=True)
class Report:
    generated_at: datetime
    since: datetime | None
    claims: tuple[ClaimView, ...]

    def count(self, status: str) -> int:
        return sum(1 for c in self.claims if c.status == status)

    @property
    def development_count(self) -> int:
        return sum(len(c.timeline) for c in self.claims)


# ---------------------------------------------------------------- building (pure)


def fold(rows: Sequence[SourceRow]) -> tuple[SourceGroup, ...]:
    """Group rows oldest first: a later version or a near-duplicate text joins its first article."""
    groups: list[tuple[SourceRow, list[SourceRow]]] = []
    for row in rows:
        home = next((g for g in groups if g[0].article_id == row.article_id
                     or near_duplicate(g[0].fingerprint, row.fingerprint)), None)
        if home is None:
            groups.append((row, []))
        else:
            home[1].append(row)
    return tuple(SourceGroup(primary, tuple(copies)) for primary, copies in groups)


def entry(dev: Development, rows: Sequence[SourceRow]) -> Entry:
    changes = tuple(Change(slot, *_pair(value)) for slot, value in sorted(dev.changes.items()))
    # The reported date: the development's own, else its earliest source's publication date;
    # None (not the run's time) when there is neither, so the page can say which it shows.
    reported = reported_at(dev.reported_at, [r.published_at for r in rows], None)
    if reported is not None and dev.first_seen_at is not None and reported > dev.first_seen_at:
        reported = None  # published "after" we saw it: a publisher's clock, not a date
    return Entry(id=dev.id or 0, relation=dev.relation, summary=dev.summary,
                 seen_at=dev.first_seen_at, reported_at=reported, changes=changes,
                 groups=fold(rows))


def _pair(value: Any) -> tuple[str | None, str | None]:
    old, new = [*value, None, None][:2] if isinstance(value, list | tuple) else (None, value)
    return (None if old is None else str(old)), (None if new is None else str(new))


def fact_rows(seed: Mapping[str, str], state: Mapping[str, str]) -> tuple[FactRow, ...]:
    slots = list(dict.fromkeys([*seed, *state]))
    return tuple(FactRow(slot, seed.get(slot), state.get(slot)) for slot in slots)


def status_of(seed: Mapping[str, str], state: Mapping[str, str], timeline: Sequence[Entry]) -> str:
    """Contradicted while the latest development disputes the claim; updated once anything moved."""
    if timeline and timeline[-1].relation == "contradicts":
        return "contradicted"
    if dict(seed) != dict(state) or any(e.relation == "updates" for e in timeline):
        return "updated"
    return "unchanged"


def claim_view(record: ClaimRecord, developments: Sequence[Development],
               rows: Sequence[SourceRow], since: datetime | None) -> ClaimView:
    by_development: dict[int, list[SourceRow]] = defaultdict(list)
    for row in rows:
        if row.development_id is not None:
            by_development[row.development_id].append(row)
    ordered = sorted(developments, key=lambda d: (d.first_seen_at or datetime.min.replace(
        tzinfo=UTC), d.id or 0))
    timeline = tuple(entry(d, by_development.get(d.id or 0, [])) for d in ordered)
    seed, state = dict(record.facts), dict(record.state)
    return ClaimView(
        id=record.id, anchor=claim_anchor(record.id), statement=record.statement,
        status=status_of(seed, state, timeline), facts=fact_rows(seed, state), timeline=timeline,
        last_development_at=timeline[-1].news_at if timeline else None,
        last_development_reported=bool(timeline and timeline[-1].reported_at),
        source_count=len({r.article_id for r in rows}),
        chart=chart(((r.day, r.relation) for r in rows), since.date() if since else None))


def build(records: Sequence[ClaimRecord], developments: Sequence[Development],
          rows: Sequence[SourceRow], since: datetime | None, now: datetime) -> Report:
    """The whole report from what is stored; developments are those the report covers."""
    devs: dict[str, list[Development]] = defaultdict(list)
    for dev in developments:
        devs[dev.claim_id].append(dev)
    matches: dict[str, list[SourceRow]] = defaultdict(list)
    for row in rows:
        matches[row.claim_id].append(row)
    views = tuple(claim_view(r, devs[r.id], matches[r.id], since) for r in records)
    return Report(generated_at=now, since=since, claims=views)


# ---------------------------------------------------------------- effects: read, render, write


def load(engine: Engine, claim_id: str | None = None, since: datetime | None = None,
         now: datetime | None = None) -> Report:
    """Read what the report shows: three queries, whatever the number of matches."""
    with session(engine) as s:
        found = records.claim_records(s, [claim_id] if claim_id else None)
        developments = records.developments_since(s, claim_id, since)
        rows = [SourceRow(*row) for row in records.report_matches(s, claim_id)]
    return build(found, developments, rows, since, now or datetime.now(UTC))


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters.update(when=_when, day=_day)
    env.globals.update(CHART_W=CHART_W, CHART_H=CHART_H, RELATIONS=CHART_RELATIONS)
    return env


def render(report: Report) -> str:
    """The report as one HTML document: inline CSS, inline SVG, no scripts, nothing fetched."""
    stylesheet = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    css = markupsafe.Markup(stylesheet)  # noqa: S704 (our own file, never fetched or user text)
    return _environment().get_template("report.html").render(report=report, css=css)


def write(engine: Engine, out_dir: Path, claim_id: str | None = None,
          since: datetime | None = None) -> Path:
    """Render the report into out_dir/index.html (replaced atomically) and return its path."""
    html = render(load(engine, claim_id, since))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / INDEX
    partial = out_dir / f".{INDEX}.{os.getpid()}.tmp"
    partial.write_text(html, encoding="utf-8")
    partial.replace(target)
    return target
