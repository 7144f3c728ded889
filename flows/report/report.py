"""The claim timeline report: stored claims, developments and matches -> one self-contained HTML page.

Pure from `build` down (rows in, a Report out); `load` reads the database and `render` fills
flows/templates/report.html with Jinja2, autoescape on, so every title, outlet, evidence sentence
and URL reaches the page as text (RELIABILITY.md rule 12). The page carries its CSS inline, draws
its charts as SVG and runs no script at all; its Content-Security-Policy forbids scripts anyway.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
import markupsafe
from sqlalchemy.engine import Engine

from claimwatch.flows import settings
from claimwatch.flows.extract.duplicates import near_duplicate
from claimwatch.storage import queries
from claimwatch.storage.db import session
from claimwatch.storage.models import ClaimRecord, Development

TEMPLATES = Path(__file__).with_name("templates")
INDEX = "index.html"
CHART_RELATIONS = ("updates", "contradicts", "confirms", "mentions")  # stacking order, bottom up
MAX_CHART_DAYS = 120  # older coverage is counted, not drawn: a 1970 pubDate must not flatten a chart
SOURCES_SHOWN = 8  # source groups shown open per development; the rest fold under "more"
CHART_W, CHART_H = 400, 120


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One match with its article's metadata (queries.REPORT_MATCH_COLUMNS, in that order)."""

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
    seen_at: datetime | None
    reported_at: datetime | None  # when the article that established it was published
    changes: tuple[Change, ...]
    groups: tuple[SourceGroup, ...]

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
class Bar:
    x: float
    y: float
    w: float
    h: float
    relation: str
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """Matches per day, stacked by relation, as SVG rectangles in a CHART_W x CHART_H box."""

    bars: tuple[Bar, ...]
    first_day: date | None
    last_day: date | None
    peak: int
    total: int
    hidden: int  # matches older than the drawn window
    relations: tuple[str, ...]  # the relations that occur, for the legend


@dataclass(frozen=True, slots=True)
class ClaimView:
    id: str
    anchor: str
    statement: str
    status: str  # "unchanged" | "updated" | "contradicted"
    facts: tuple[FactRow, ...]
    timeline: tuple[Entry, ...]
    last_development_at: datetime | None
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


# ---------------------------------------------------------------- links


def claim_anchor(claim_id: str) -> str:
    """The id of a claim's section in the report, e.g. "claim-abu-dhabi-talks"."""
    return "claim-" + re.sub(r"[^A-Za-z0-9_-]", lambda m: f".{ord(m.group()):x}", claim_id)


def claim_url(claim_id: str, report_url: str | None = None) -> str | None:
    """Link to a claim's section in the report at `report_url` or $CLAIMWATCH_REPORT_URL."""
    base = report_url or settings.report_url()
    if not base:
        return None
    return f"{base.split('#', 1)[0]}#{claim_anchor(claim_id)}"


def safe_href(url: str | None) -> str | None:
    """The URL if it may be a link (http or https with a host), else None: no javascript:."""
    if not url or any(c in url for c in "\r\n\t\x00"):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in {"http", "https"} and parts.netloc else None


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
    return Entry(id=dev.id or 0, relation=dev.relation, summary=dev.summary,
                 seen_at=dev.first_seen_at, reported_at=rows[0].published_at if rows else None,
                 changes=changes, groups=fold(rows))


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


def chart(rows: Iterable[SourceRow], since: date | None = None) -> Chart:
    """Coverage per day split by relation; days before `since` are left out."""
    counts: dict[date, Counter[str]] = defaultdict(Counter)
    for row in rows:
        day = row.day
        if day is not None and (since is None or day >= since):
            counts[day][row.relation] += 1
    if not counts:
        return Chart((), None, None, 0, 0, 0, ())
    last = max(counts)
    first = max(min(counts), last - timedelta(days=MAX_CHART_DAYS - 1))
    hidden = sum(sum(c.values()) for d, c in counts.items() if d < first)
    days = (last - first).days + 1
    peak = max(sum(c.values()) for d, c in counts.items() if d >= first)
    return Chart(_bars(counts, first, days, peak), first, last, peak,
                 sum(sum(c.values()) for c in counts.values()), hidden,
                 tuple(r for r in CHART_RELATIONS if any(r in c for c in counts.values())))


def _bars(counts: Mapping[date, Counter[str]], first: date, days: int, peak: int
          ) -> tuple[Bar, ...]:
    slot = CHART_W / days
    width = max(slot * 0.8, 1.0)
    bars: list[Bar] = []
    for day, by_relation in counts.items():
        if day < first:
            continue
        x, top = (day - first).days * slot + (slot - width) / 2, float(CHART_H)
        label = f"{day.isoformat()}: " + ", ".join(
            f"{by_relation[r]} {r}" for r in CHART_RELATIONS if by_relation[r])
        for relation in CHART_RELATIONS:
            height = by_relation[relation] / peak * CHART_H
            if height:
                top -= height
                bars.append(Bar(round(x, 2), round(top, 2), round(width, 2), round(height, 2),
                                relation, label))
    return tuple(bars)


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
        last_development_at=timeline[-1].seen_at if timeline else None,
        source_count=len({r.article_id for r in rows}),
        chart=chart(rows, since.date() if since else None))


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
        records = queries.claim_records(s, [claim_id] if claim_id else None)
        developments = queries.developments_since(s, claim_id, since)
        rows = [SourceRow(*row) for row in queries.report_matches(s, claim_id)]
    return build(records, developments, rows, since, now or datetime.now(UTC))


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def _day(moment: datetime | date | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "—"


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


# ---------------------------------------------------------------- the run artifact (markdown)

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def md_text(text: str | None) -> str:
    """Untrusted text as inert markdown: no links, emphasis, table breaks or raw HTML."""
    flat = " ".join(str(text or "").split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", flat)


def md_link(url: str | None, label: str) -> str:
    """A markdown link to an http(s) URL, or the label alone when the URL may not be a link."""
    target = safe_href(url)
    if target is None:
        return md_text(label)
    return f"[{md_text(label)}]({quote(target, safe=':/?#[]@!$&*+,;=%~-._')})"


def markdown_rows(developments: Sequence[Mapping[str, Any]], report_url: str | None = None
                  ) -> list[str]:
    """The run's developments as a markdown table: claim (linked to the report), relation,
    what changed, and each source by outlet. Rows are the dicts flows/monitor.py collects."""
    if not developments:
        return []
    lines = ["| claim | relation | what changed | sources |", "|---|---|---|---|"]
    for dev in developments:
        claim = str(dev["claim"])
        urls = list(dev.get("urls", []))
        outlets = list(dev.get("outlets", [])) + [None] * len(urls)
        links = ", ".join(md_link(u, o or urlsplit(u).hostname or f"source {i + 1}")
                          for i, (u, o) in enumerate(zip(urls, outlets, strict=False)))
        lines.append(f"| {md_link(claim_url(claim, report_url), claim)} | {md_text(dev['relation'])}"
                     f" | {md_text(dev['summary'])} | {links or '—'} |")
    return lines
