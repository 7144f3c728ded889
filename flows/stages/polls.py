"""Sources -> a plan of what to poll, and each feed's answer -> stored items (the one writer).

A feed's items and its new ETag/Last-Modified commit in one transaction, never before: a crash
between polling and storing re-polls the feed rather than losing its entries. A source's
health is decided in fetch/health.py and stored in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from claimwatch.flows.alerts import outbox
from claimwatch.flows.alerts.policy import AlertsConfig
from claimwatch.flows.fetch import health
from claimwatch.flows.fetch.health import Health, Notice
from claimwatch.flows.fetch.polling import FeedPoll, FeedRequest
from claimwatch.flows.seeds import SourceSpec
from claimwatch.storage import sources
from claimwatch.storage.db import Engine, Session, session
from claimwatch.storage.models import Source


@dataclass(slots=True)
class PollSummary:
    polled: int = 0
    not_modified: int = 0
    new_items: int = 0
    changed_items: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # source name -> reason
    warnings: dict[str, str] = field(default_factory=dict)
    backing_off: list[str] = field(default_factory=list)
    resting: list[str] = field(default_factory=list)  # polled less often (`interval`), not due
    notices: list[dict[str, str]] = field(default_factory=list)  # health.Notice.as_dict(), once


# A cycle that starts a little early still polls a source whose interval is almost over: with
# a 15-minute schedule, `interval = 15` must mean every cycle, not every other one.
INTERVAL_GRACE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class PollPlan:
    feeds: tuple[FeedRequest, ...]
    page_source_ids: tuple[int, ...]
    backing_off: tuple[str, ...]
    resting: tuple[str, ...] = ()  # their `interval` has not passed since their last poll


def _health(source: Source) -> Health:
    return Health(**sources.health_of(source))


def interval_due(last_polled_at: datetime | None, interval_min: int | None, now: datetime) -> bool:
    """A source with an `interval` is polled once that many minutes have passed (pure)."""
    if interval_min is None or last_polled_at is None:
        return True
    return now >= last_polled_at + timedelta(minutes=interval_min) - INTERVAL_GRACE


def plan_polls(engine: Engine, specs: Sequence[SourceSpec], now: datetime,
               respect_backoff: bool = True) -> PollPlan:
    """Sync the enabled sources and say which are due this cycle; `respect_backoff=False`
    (run --all) polls every enabled source now, whatever its backoff or interval."""
    active = [spec for spec in specs if spec.enabled]  # `enabled = false`: never polled
    with session(engine) as s:
        stored = sources.sync_sources(s, active, now)
    intervals = {spec.url: spec.interval_min for spec in active}
    resting = [src for src in stored if respect_backoff
               and not interval_due(src.last_polled_at, intervals[src.url], now)]
    due = [src for src in stored if not respect_backoff or (
        health.due(_health(src), now) and src not in resting)]
    waiting = tuple(src.name for src in stored if src not in due and src not in resting)
    feeds = tuple(
        FeedRequest(src.id, src.url, src.etag, src.last_modified)  # type: ignore[arg-type]
        for src in due if src.kind == "feed"
    )
    pages = tuple(src.id for src in due if src.kind == "page" and src.id is not None)
    return PollPlan(feeds, pages, waiting, tuple(src.name for src in resting))


def record_success(source: Source, status: str, now: datetime) -> Notice | None:
    """A good poll: the source's health after it, stored; a "recovered" notice when it is one."""
    state, kind = health.after_success(_health(source), status, now)
    sources.set_health(source, _columns(state))
    return health.notice(kind, source.name, source.url, status, now)


def record_failure(source: Source, error: str, soft: bool, retry_after_s: float | None,
                   now: datetime) -> Notice | None:
    """A failed poll and its backoff, stored; an "unhealthy" notice the one time it is due."""
    state, kind = health.after_failure(_health(source), error, soft, retry_after_s, now)
    sources.set_health(source, _columns(state))
    return health.notice(kind, source.name, source.url, error, now)


def _columns(state: Health) -> dict[str, Any]:
    return asdict(state)


def store_poll(engine: Engine, poll: FeedPoll, now: datetime, summary: PollSummary,
               alerts: AlertsConfig | None = None) -> None:
    """Store one feed's items and, in the same transaction, its new cache state (never before)."""
    with session(engine) as s:
        source = sources.source(s, poll.source_id)
        summary.polled += 1
        if poll.status == "error":
            note_health(s, record_failure(source, poll.error or "error", poll.soft,
                                          poll.retry_after_s, now), summary.notices, alerts)
            summary.failed[source.name] = poll.error or "error"
            return
        if poll.status == "not modified":
            summary.not_modified += 1
        new, changed = sources.store_items(s, poll.source_id, poll.items, now)
        summary.new_items += new
        summary.changed_items += changed
        source.etag, source.last_modified = poll.etag, poll.last_modified
        note_health(s, record_success(source, poll.status, now), summary.notices, alerts)
        if poll.warning:
            summary.warnings[source.name] = poll.warning


def note_health(s: Session, notice: Notice | None, notices: list[dict[str, str]],
                alerts: AlertsConfig | None = None) -> None:
    """The one place a health notice surfaces, in the transaction that changed the source.

    The Source row's `unhealthy_reported` flag commits with it, and so do the notice's ops
    alerts (keyed on `notice.key`): each notice is made once, and alerted once.
    """
    if notice is not None:
        notices.append(notice.as_dict())
        if alerts is not None:
            outbox.enqueue_notice(s, alerts, notice)
