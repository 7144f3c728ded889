"""Per-source `enabled = false` and `interval` decide what a cycle polls (real SQLite file)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from claimwatch.flows.seeds import SourceSpec
from claimwatch.flows.stages.polls import interval_due, plan_polls
from claimwatch.storage import sources
from claimwatch.storage.db import engine_for, session

NOW = datetime(2026, 2, 4, 12, 0, tzinfo=UTC)
EVERY = SourceSpec("feed", "Every cycle", "https://a.example/rss")
HOURLY = SourceSpec("feed", "Hourly", "https://b.example/rss", interval_min=60)
OFF = SourceSpec("feed", "Switched off", "https://c.example/rss", enabled=False)
PAGE = SourceSpec("page", "Hourly page", "https://d.example/page", interval_min=60)


def _polled_at(db_url: str, moment: datetime) -> None:
    with session(engine_for(db_url)) as s:
        for src in sources.all_sources(s):
            src.last_polled_at = moment


def test_a_disabled_source_is_never_stored_or_polled(db_url: str) -> None:
    plan = plan_polls(engine_for(db_url), [EVERY, OFF], NOW)
    assert [f.url for f in plan.feeds] == [EVERY.url]
    with session(engine_for(db_url)) as s:
        assert [src.url for src in sources.all_sources(s)] == [EVERY.url]
    assert plan_polls(engine_for(db_url), [EVERY, OFF], NOW, respect_backoff=False).feeds \
        == plan.feeds  # run --all polls every *enabled* source


def test_a_source_with_an_interval_waits_for_it_and_says_so(db_url: str) -> None:
    engine = engine_for(db_url)
    first = plan_polls(engine, [EVERY, HOURLY, PAGE], NOW)
    assert [f.url for f in first.feeds] == [EVERY.url, HOURLY.url] and len(first.page_source_ids) == 1
    _polled_at(db_url, NOW)
    later = plan_polls(engine, [EVERY, HOURLY, PAGE], NOW + timedelta(minutes=15))
    assert [f.url for f in later.feeds] == [EVERY.url] and later.page_source_ids == ()
    assert later.resting == ("Hourly", "Hourly page") and later.backing_off == ()
    forced = plan_polls(engine, [EVERY, HOURLY, PAGE], NOW + timedelta(minutes=15),
                        respect_backoff=False)
    assert len(forced.feeds) == 2 and len(forced.page_source_ids) == 1
    hour = plan_polls(engine, [EVERY, HOURLY, PAGE], NOW + timedelta(minutes=59, seconds=30))
    assert len(hour.feeds) == 2 and hour.resting == ()


def test_interval_due_allows_a_cycle_that_starts_a_little_early() -> None:
    assert interval_due(None, 60, NOW) and interval_due(NOW, None, NOW)
    assert interval_due(NOW, 15, NOW + timedelta(minutes=14, seconds=5))
    assert not interval_due(NOW, 15, NOW + timedelta(minutes=13))
    assert not interval_due(NOW, 30, NOW + timedelta(minutes=15))
