"""A claim's coverage per day, stacked by relation, as SVG rectangles (pure)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

CHART_RELATIONS = ("updates", "contradicts", "confirms", "mentions")  # stacking order, bottom up
MAX_CHART_DAYS = 120  # older coverage is counted, not drawn: a 1970 pubDate must not flatten a chart
CHART_W, CHART_H = 400, 120


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


def chart(coverage: Iterable[tuple[date | None, str]], since: date | None = None) -> Chart:
    """Coverage per day split by relation, from (day, relation) pairs; days before `since`
    are left out."""
    counts: dict[date, Counter[str]] = defaultdict(Counter)
    for day, relation in coverage:
        if day is not None and (since is None or day >= since):
            counts[day][relation] += 1
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
