"""Which owed alerts go out together: a flood as one digest, a claim's confirmations as one
message, digest items when their channel's digest is due."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from claimwatch.flows.alerts.policy import AlertsConfig, Channel
from claimwatch.storage import alerts as rows
from claimwatch.storage.db import Engine, session
from claimwatch.storage.models import Alert


def last_digest_moment(digest_at: str, zone: str, now: datetime) -> datetime | None:
    """The latest scheduled digest time at or before `now`; None for a digest every run."""
    if digest_at == "run":
        return None
    hour, minute = (int(x) for x in digest_at.split(":"))
    local = now.astimezone(ZoneInfo(zone))
    moment = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment > local:
        moment -= timedelta(days=1)
    return moment.astimezone(UTC)


def digest_due(channel: Channel, last_digest_at: datetime | None, now: datetime) -> bool:
    moment = last_digest_moment(channel.digest_at, channel.digest_timezone, now)
    return moment is None or last_digest_at is None or last_digest_at < moment


def fold_flood(engine: Engine, config: AlertsConfig, channel: Channel) -> None:
    """Too many alerts at once (a new feed, a long outage): one digest instead of a flood."""
    with session(engine) as s:
        fresh = rows.fresh_immediate(s, channel.name)
        if len(fresh) <= config.max_immediate_per_run:
            return
        for row in fresh:
            row.mode, row.reason = "digest", f"flood: {len(fresh)} alerts at once"


def fold_confirmations(engine: Engine, channel: Channel, now: datetime) -> None:
    """A claim's confirmations due at once become one message listing the new sources."""
    with session(engine) as s:
        by_claim: dict[str, list[Alert]] = {}
        for row in rows.fresh_confirmations(s, channel.name):
            by_claim.setdefault(row.claim_id or "", []).append(row)
        for claim_id, items in by_claim.items():
            if len(items) < 2:
                continue  # one confirmation is its own message already
            key = uuid.uuid4().hex
            rows.gather(s, Alert(channel=channel.name, subject=f"confirmations:{key}",
                                 kind="confirmations", claim_id=claim_id, relation="confirms",
                                 mode="immediate", status="pending", idempotency_key=key,
                                 created_at=now, next_attempt_at=now), items)


def make_digest(engine: Engine, channel: Channel, now: datetime) -> None:
    """Gather waiting digest items into one digest row, when the channel's digest is due."""
    with session(engine) as s:
        items = rows.undigested(s, channel.name)
        if not items or not digest_due(channel, rows.last_digest_at(s, channel.name), now):
            return
        key = uuid.uuid4().hex
        rows.gather(s, Alert(channel=channel.name, subject=f"digest:{key}", kind="digest",
                             mode="immediate", status="pending", idempotency_key=key,
                             created_at=now, next_attempt_at=now), items)
