"""Times as people read them: "2026-12-04 20:37 UTC" in text, ISO 8601 kept for JSON (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

NONE = "—"


def shown(moment: datetime | None, missing: str = NONE) -> str:
    """A moment for people, to the minute, in UTC: "2026-12-04 20:37 UTC"."""
    if moment is None:
        return missing
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(moment: datetime | date | None, missing: str = NONE) -> str:
    """A day for people: "2026-12-04" (a datetime's day in UTC)."""
    if moment is None:
        return missing
    if isinstance(moment, datetime):
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%d")


def iso(moment: datetime | None) -> str | None:
    """A moment for machines (JSON): ISO 8601 with its offset."""
    return moment.isoformat() if moment else None


def from_iso(text: str | None) -> datetime | None:
    """An ISO 8601 string from JSON back to an aware datetime (UTC when it names no zone)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def reported_at(recorded: datetime | None, published: list[datetime | None],
                seen: datetime | None) -> datetime | None:
    """When a development's news happened: its recorded reported date when there is one, else
    its earliest source's publication date (a date after we saw it is a publisher's mistake),
    else when we first saw it, the only date there is."""
    if recorded is not None:
        return recorded
    dates = [p for p in published if p is not None and (seen is None or p <= seen)]
    return min(dates) if dates else seen


