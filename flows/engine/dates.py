"""Dates in a sentence, as ISO 8601, resolved against the article's own date (pure).

As HeidelTime does (../shared/JUDGEMENT.md): "on Tuesday", "Feb. 4-5", "4-5 February" are read
against the publication date and the verb's tense; a date the report is dated by ("said on
Sunday", "Update, March 11:") or the value a change moved away from ("originally set for Feb 1")
is told apart. Intervals are written "2026-02-04/2026-02-05".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from claimwatch.flows.engine import lexicon


@dataclass(frozen=True, slots=True)
class Dated:
    value: str  # ISO date or interval, or "--MM-DD" when no year is known
    start: int
    end: int
    old: bool = False  # the value a change moved away from
    year_given: bool = True  # the text wrote the year ("May 8, 2025"), rather than it inferred


_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
# Capitalized only, so the verbs "may" and "march" are not months.
_MON = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_TO = r"\s*(?:-|–|—|to|and|through|until|till)\s*"
_YEAR = r"(?:,?\s+(\d{4}))?"
# A weekday written before a full date belongs to it ("Thursday 8 May"), not a date of its own.
_WEEKDAY_OF = r"(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+(?:the\s+)?)?"
_MONTH_FIRST = re.compile(
    rf"\b{_WEEKDAY_OF}({_MON})\s+{_DAY}(?:{_TO}(?:({_MON})\s+)?{_DAY}(?![\d%]))?{_YEAR}(?![\d%])")
_DAY_FIRST = re.compile(rf"\b{_WEEKDAY_OF}{_DAY}(?:{_TO}{_DAY})?\s+({_MON}){_YEAR}\b")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:/(\d{4})-(\d{2})-(\d{2}))?\b")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WD = r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_CALENDAR = re.compile(rf"{_MON}|{_WD}")


def calendar_word(word: str) -> bool:
    """A month or a weekday as dates write it ("March", "Sept", "Thursday"), capitalized."""
    return bool(_CALENDAR.fullmatch(word))


_RELATIVE = re.compile(
    rf"\b(?:(next|this|last|coming|on|this coming|past|this past)\s+)?{_WD}"
    rf"(?:{_TO}{_WD})?\b|\b(tomorrow|today|yesterday|tonight)\b",
    re.IGNORECASE,
)




def _month(name: str) -> int:
    return _MONTHS[name.lower()[:3]]


def _infer_year(month: int, day: int, ref: date | None) -> int | None:
    """Pick the year that puts month/day closest to the reference date (articles talk near now)."""
    if ref is None:
        return None
    best: int | None = None
    for year in (ref.year - 1, ref.year, ref.year + 1):
        try:
            gap = abs((date(year, month, day) - ref).days)
        except ValueError:
            continue
        if best is None or gap < abs((date(best, month, day) - ref).days):
            best = year
    return best


def _iso(year: int | None, month: int, day: int) -> str | None:
    """ISO date, or ISO's year-less "--MM-DD" when no year is known."""
    try:
        date(year or 2000, month, day)
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


def _interval(start: str | None, end: str | None) -> str | None:
    if start is None:
        return None
    if end is None or end == start:
        return start
    return f"{start}/{end}"


def _absolute_dates(sentence: str, ref: date | None) -> Iterator[tuple[int, int, str]]:
    """Yield (start, end, iso) for written-out dates."""
    for m in _MONTH_FIRST.finditer(sentence):
        m1, d1, m2, d2, yr = m.group(1), int(m.group(2)), m.group(3), m.group(4), m.group(5)
        mon1 = _month(m1)
        mon2 = _month(m2) if m2 else mon1
        year = int(yr) if yr else _infer_year(mon1, d1, ref)
        year2 = year + 1 if year and mon2 < mon1 else year
        end = _iso(year2, mon2, int(d2)) if d2 else None
        value = _interval(_iso(year, mon1, d1), end)
        if value:
            yield m.start(), m.end(), value
    for m in _DAY_FIRST.finditer(sentence):
        d1, d2, mon, yr = int(m.group(1)), m.group(2), _month(m.group(3)), m.group(4)
        year = int(yr) if yr else _infer_year(mon, d1, ref)
        value = _interval(_iso(year, mon, d1), _iso(year, mon, int(d2)) if d2 else None)
        if value:
            yield m.start(), m.end(), value
    for m in _ISO.finditer(sentence):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        end = _iso(int(m.group(4)), int(m.group(5)), int(m.group(6))) if m.group(4) else None
        value = _interval(_iso(y, mo, d), end)
        if value:
            yield m.start(), m.end(), value


def _weekday_date(name: str, qualifier: str, ref: date, past: bool) -> date:
    """Resolve a weekday name against the publication date; tense decides which side."""
    target = _WEEKDAYS.index(name.lower())
    ahead = (target - ref.weekday()) % 7
    behind = (ref.weekday() - target) % 7
    if qualifier in ("last", "past", "this past"):
        return ref - timedelta(days=behind or 7)
    if qualifier == "next":
        return ref + timedelta(days=ahead or 7)
    if past:
        return ref - timedelta(days=behind)
    return ref + timedelta(days=ahead)


def _relative_dates(sentence: str, ref: date | None) -> Iterator[tuple[int, int, str]]:
    if ref is None:
        return
    cues = lexicon.get()
    past = bool(cues.past.search(sentence.lower())) and not cues.future.search(sentence.lower())
    for m in _RELATIVE.finditer(sentence):
        word = (m.group(4) or "").lower()
        if word:
            shift = {"tomorrow": 1, "today": 0, "tonight": 0, "yesterday": -1}[word]
            yield m.start(), m.end(), (ref + timedelta(days=shift)).isoformat()
            continue
        qualifier = (m.group(1) or "").lower()
        if not qualifier and sentence[m.end() : m.end() + 2] in ("'s", "’s"):
            qualifier = "past"  # "Friday's ruling" reports something that has happened
        start = _weekday_date(m.group(2), qualifier, ref, past)
        end = _weekday_date(m.group(3), "", start, False) if m.group(3) else None
        yield m.start(), m.end(), _interval(start.isoformat(), end.isoformat() if end else None) or ""


def dates(sentence: str, published_at: datetime | date | None = None) -> tuple[Dated, ...]:
    """Dates and date ranges in a sentence, ISO 8601; relative ones need the publication date."""
    ref = published_at.date() if isinstance(published_at, datetime) else published_at
    cues = lexicon.get()
    found: list[Dated] = []
    taken: list[tuple[int, int]] = []
    for source in (_absolute_dates(sentence, ref), _relative_dates(sentence, ref)):
        for start, end, value in source:
            if any(s < end and start < e for s, e in taken):
                continue
            taken.append((start, end))
            before = sentence[max(0, start - 40) : start].lower()
            if _reported_on(before):
                continue  # "said on Sunday", "Update, March 11:" date the report, not the event
            clause = re.split(r"[,;]|\bnow\b|\bbut\b", sentence[max(0, start - 45) : start].lower())[-1]
            old = bool(cues.old_time.search(clause))
            found.append(Dated(value, start, end, old,
                               bool(re.search(r"\b\d{4}\b", sentence[start:end]))))
    return tuple(sorted(found, key=lambda f: f.start))


def _reported_on(before: str) -> bool:
    """The words before a date make it the report's date: a reporting verb close before it
    ("said on Sunday", "told reporters late on Monday") or an update line ("Update, March 11:")."""
    found = list(lexicon.get().reported_time.finditer(before))
    if not found:
        return False
    gap = before[found[-1].end():]
    return len(gap.split()) <= 4 and not any(ch in gap for ch in ".;")


def date_bounds(value: str) -> tuple[str, str]:
    """First and last day of an ISO date or interval."""
    first, _, last = value.partition("/")
    return first, last or first


def same_date(a: str, b: str) -> bool:
    """Equal dates, or one a day inside the other's interval; year-less dates compare by MM-DD."""

    def norm(x: str) -> str:
        return x[-5:]

    a1, a2 = date_bounds(a)
    b1, b2 = date_bounds(b)
    if a1.startswith("--") or b1.startswith("--"):
        a1, a2, b1, b2 = norm(a1), norm(a2), norm(b1), norm(b2)
    return (a1, a2) == (b1, b2) or (b1 <= a1 and a2 <= b2) or (a1 <= b1 and b2 <= a2)


