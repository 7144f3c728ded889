"""A small news site whose second round moves a claim, published *now* so it is news, not backlog.

Round 1: "Talks set for Abu Dhabi" (confirms abu-dhabi-talks) -- the source's first poll, the
baseline. Round 2 adds "Abu Dhabi talks postponed" (updates abu-dhabi-talks: date and status).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from claimwatch.flows import settings
from claimwatch.flows.settings import DEFAULT_CLAIMS
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Alert
from tests.servers import FeedEntry, Route, SiteServer, rss
from tests.sites import fixture_page, write_sources

SCHEDULE = "/world/talks-set.html"
POSTPONED = "/world/talks-postponed.html"
FEED = "/feeds/world.xml"


def serve_round(server: SiteServer, round_number: int, postponed_title: str = "Abu Dhabi talks "
                "postponed", now: datetime | None = None) -> None:
    """Serve the feed and pages of `round_number` (1 or 2) on `server`."""
    now = now or datetime.now(UTC)
    schedule_url, postponed_url = server.url(SCHEDULE), server.url(POSTPONED)
    server.routes[SCHEDULE] = Route(fixture_page(
        "schedule", "Talks set for Abu Dhabi", now.date().isoformat(), schedule_url))
    entries = [FeedEntry("Talks set for Abu Dhabi", schedule_url, "schedule-1",
                         published=now - timedelta(hours=2))]
    if round_number >= 2:
        server.routes[POSTPONED] = Route(fixture_page(
            "postponed", html.escape(postponed_title), now.date().isoformat(), postponed_url))
        # A feed's date has whole seconds: round up, or a fast round 1 leaves this news
        # "published before the claim was added" (within the same second) and it is backlog.
        published = now.replace(microsecond=0) + timedelta(seconds=1)
        entries.insert(0, FeedEntry(postponed_title, postponed_url, "postponed-1",
                                    published=published))
    server.routes[FEED] = Route(rss("Harbor Test Wire", server.base_url, entries),
                                "application/rss+xml")


def sources_file(folder: Path, server: SiteServer) -> Path:
    return write_sources(folder / "sources.toml", server, [FEED])


def alerts_file(folder: Path, slack_env: str | None = None, smtp_port: int | None = None,
                extra: str = "", channel_extra: str = "", retry_s: str = "[60, 300]") -> Path:
    """An alerts.toml with a Slack channel and/or an email channel on 127.0.0.1, fast numbers."""
    lines = ["[delivery]", f"retry_s = {retry_s}", "lease_s = 0", "inline_wait_s = 5", "", extra]
    if slack_env:
        lines += ["[[channels]]", 'name = "newsroom"', 'kind = "slack"',
                  f'webhook_url_env = "{slack_env}"', 'immediate = ["updates", "contradicts"]',
                  'digest = ["confirms"]', "min_interval_s = 0", "timeout_s = 5", channel_extra, ""]
    if smtp_port:
        lines += ["[[channels]]", 'name = "editors"', 'kind = "email"',
                  'smtp_host = "127.0.0.1"', f"smtp_port = {smtp_port}", 'security = "none"',
                  'sender = "claimwatch@example.org"', 'recipients = ["desk@example.org"]',
                  'immediate = ["updates", "contradicts"]', 'digest = ["confirms"]',
                  "timeout_s = 5", channel_extra, ""]
    path = folder / "alerts.toml"
    path.write_text("\n".join(lines))
    return path


def run_cycle(sources: Path, db_url: str, alerts: Path) -> dict[str, Any]:
    """One cycle through Prefect over the seed claims; the database is never a flow parameter."""
    from claimwatch.flows.monitor import cycle  # Prefect: only the tests that run a cycle pay it

    with settings.database(db_url):
        return cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources),
                     alerts_path=str(alerts))


def alert_rows(db_url: str) -> list[Alert]:
    """Every outbox row, oldest first."""
    with session(engine_for(db_url)) as s:
        return list(s.exec(select(Alert).order_by(Alert.id)).all())
