"""The alert outbox: alerts are written with their development, delivered afterwards, once.

    enqueue (inside the matching transaction) -> alert rows "pending"
    deliver (delivery.py): claim a row ("sending", committed) -> send -> "sent" | retry | "failed"

A row left in "sending" by a killed process is in doubt: the message may or may not have gone
out. Once its lease expires it is sent again *with the same idempotency key* (the email
Message-ID and the Slack payload's ref carry it), so a receiver can drop the copy; we prefer a
possible duplicate a receiver can recognise over a lost alert (see README "Alerts").
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from claimwatch.flows import crashpoints
from claimwatch.flows.alerts.policy import AlertsConfig, Channel
from claimwatch.flows.fetch.health import Notice
from claimwatch.storage import alerts as rows
from claimwatch.storage import articles, claims, sources
from claimwatch.storage.db import Engine, Session, session
from claimwatch.storage.models import Alert, ArticleVersion, ClaimRecord, Development, Match

# ---------------------------------------------------------------- enqueue (pure decisions first)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where an article version came from, as the backlog rule needs it."""

    version: int
    published_at: datetime | None
    source_added_at: datetime | None
    first_poll: bool  # first seen on its source's first successful poll
    claim_added_at: datetime | None


def backlog_reason(p: Provenance, window_days: float, now: datetime) -> str | None:
    """Why this is old news that belongs in the digest, or None when it is news."""
    if p.version > 1:
        return None  # a text that changed after we first read it is news whatever its date
    if p.first_poll:
        return "backlog: first poll of the source"
    if p.published_at and p.source_added_at and p.published_at < p.source_added_at:
        return "backlog: published before the source was added"
    if p.published_at and p.claim_added_at and p.published_at < p.claim_added_at:
        return "backlog: published before the claim was added"
    if window_days and p.published_at and p.published_at < now - timedelta(days=window_days):
        return f"backlog: published more than {window_days:g} days ago"
    return None


def freshest(reasons: list[str | None]) -> str | None:
    """An article reached through several items is news if any of them is."""
    return None if not reasons or None in reasons else reasons[0]


def _provenance(s: Session, version: ArticleVersion, claim: ClaimRecord
                ) -> tuple[list[Provenance], set[str]]:
    """How each item leading to the article came, and the tags of the sources it came from."""
    article = articles.article(s, version.article_id)
    published = article.published_at if article else None
    found = sources.items_of_article(s, version.article_id)
    if not found:
        return [Provenance(version.version, published, None, False, claim.added_at)], set()
    return [Provenance(version.version, item.published_at or published, source.added_at,
                       first is not None and item.first_seen_at is not None
                       and item.first_seen_at <= first, claim.added_at)
            for item, source, first in found], {t for _, source, _ in found for t in source.tags}


def enqueue(s: Session, config: AlertsConfig, match: Match, development: Development | None,
            version: ArticleVersion, now: datetime) -> list[Alert]:
    """Pending alerts for a new development (or a confirmation), in the caller's transaction.

    A channel with only_tags hears of a development once an article from one of its sources
    supports it: at once when that article made it, else when the first one comes along (as a
    copy, a repeat or a confirmation of the state it set), in place of a confirmation.
    """
    supported = None
    if development is None and match.development_id is not None and any(
            c.only_tags for c in config.channels):
        supported = claims.development(s, match.development_id)
    if development is not None:
        kind, relation = "development", development.relation
        subject = f"development:{development.id}"
    elif match.relation == "confirms":
        kind, relation, subject = "confirmation", "confirms", f"match:{match.id}"
    elif supported is None:
        return []  # mentions never alert; a second source for a development is in its alert
    else:
        kind, relation, subject = "", "", ""
    wanted = [(c, c.mode(match.claim_id, relation)) for c in config.channels] if kind else []
    wanted = [(c, m) for c, m in wanted if m is not None]
    if not wanted and supported is None:
        return []
    s.flush()  # ids for the subject
    claim = claims.claim(s, match.claim_id)
    assert claim is not None
    provenance, tags = _provenance(s, version, claim)
    backlog = freshest([backlog_reason(p, config.backlog_days, now) for p in provenance])
    added = _late(s, config, match, supported, tags, backlog, now) if supported else []
    late = {row.channel for row in added}
    regular = [_row(channel, mode, backlog, subject, kind, match, development, relation, now)
               for channel, mode in wanted if channel.hears(tags) and channel.name not in late]
    rows.add(s, regular)
    crashpoints.reached("after-alert-enqueued")  # killed here: development and alert roll back
    return added + regular


def _late(s: Session, config: AlertsConfig, match: Match, development: Development,
          tags: set[str], backlog: str | None, now: datetime) -> list[Alert]:
    """Development alerts for the only_tags channels that hear of it now, through this match's
    article, for the first time: one row per (development, channel), whatever comes after."""
    added = []
    for channel in config.channels:
        mode = channel.mode(match.claim_id, development.relation)
        if not channel.only_tags or mode is None or not channel.hears(tags):
            continue
        row = _row(channel, mode, backlog, f"development:{development.id}", "development", match,
                   development, development.relation, now)
        if rows.add_unless_sent(s, row):
            added.append(row)
    return added


def _row(channel: Channel, mode: str | None, backlog: str | None, subject: str, kind: str,
         match: Match, development: Development | None, relation: str, now: datetime) -> Alert:
    reason = ""
    if mode == "immediate" and backlog:
        mode, reason = "digest", backlog
    elif mode == "digest":
        reason = backlog or ""
    return Alert(channel=channel.name, subject=subject, kind=kind,
                 development_id=development.id if development is not None else None,
                 match_id=match.id if development is None else None, claim_id=match.claim_id,
                 relation=relation, mode=mode or "digest", reason=reason, status="pending",
                 idempotency_key=uuid.uuid4().hex, created_at=now, next_attempt_at=now)


def enqueue_notice(s: Session, config: AlertsConfig, notice: Notice) -> int:
    """Pending ops alerts for a source health notice, in the caller's transaction; how many.

    One row per channel taking ops notices (channel key `ops`, default true), keyed on the
    notice's own key: enqueued twice, it is still sent once. A channel with only_tags hears
    about its own sources only, so an untagged source's notices go to the channels without
    only_tags (and always to the run summary).
    """
    added = 0
    tags = rows.source_tags(s, notice.url)
    for channel in (c for c in config.channels if c.ops and c.hears(tags)):
        added += rows.add_unless_sent(s, Alert(
            channel=channel.name, subject=notice.key, kind="ops", relation=notice.kind,
            mode="immediate", reason=notice.text(), status="pending",
            idempotency_key=uuid.uuid4().hex, created_at=notice.at, next_attempt_at=notice.at))
    return added


# ---------------------------------------------------------------- what delivery did


@dataclass(slots=True)
class DeliverySummary:
    """What one delivery did; no secrets, so it may go into results and artifacts."""

    sent: int = 0
    digests: int = 0
    delivered: list[str] = field(default_factory=list)  # "alert #3 to newsroom (digest)"
    retrying: list[str] = field(default_factory=list)  # "alert #3 to newsroom: HTTP 503"
    failed: list[str] = field(default_factory=list)  # failed in this delivery
    unconfigured: dict[str, str] = field(default_factory=dict)  # channel -> what is missing
    pending: int = 0  # still owed after this delivery
    digest_waiting: int = 0  # items waiting for their channel's next digest
    failed_total: int = 0  # failed and not retried yet, all time


def report(summary: DeliverySummary | Mapping[str, Any]) -> list[str]:
    """Lines saying what delivery did and what is wrong; failures are never left out."""
    d = asdict(summary) if isinstance(summary, DeliverySummary) else summary
    lines = [f"alerts sent: {d['sent']} (digests {d['digests']})  still owed: {d['pending']}"
             f"  waiting for a digest: {d.get('digest_waiting', 0)}"]
    lines += [f"ALERT FAILED {line}" for line in d["failed"]]
    lines += [f"alert retrying {line}" for line in d["retrying"]]
    lines += [f"alert channel {name} {why}" for name, why in sorted(d["unconfigured"].items())]
    if d["failed_total"]:
        lines.append(f"{d['failed_total']} failed alert(s) wait for you: claimwatch alerts "
                     "--failed, then claimwatch alerts retry")
    return lines


# ---------------------------------------------------------------- the CLI's reads and writes


def listing(engine: Engine, status: str | None = None) -> list[dict[str, Any]]:
    """Alert rows that are messages (immediate alerts and digests), newest first."""
    with session(engine) as s:
        return [_listed(s, a) for a in rows.messages(s, status)]


def _listed(s: Session, alert: Alert) -> dict[str, Any]:
    items = rows.digest_size(s, alert.id) if alert.kind in rows.CARRIERS else 0
    return {"id": alert.id, "channel": alert.channel, "kind": alert.kind,
            "claim": alert.claim_id, "relation": alert.relation, "status": alert.status,
            "attempts": alert.attempts, "items": items, "reason": alert.reason,
            "next_attempt_at": _iso(alert.next_attempt_at), "sent_at": _iso(alert.sent_at),
            "last_error": alert.last_error, "key": alert.idempotency_key}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def retry_owed(engine: Engine, now: datetime) -> tuple[int, int]:
    """Every message owed becomes due now (pending ones whatever their schedule said, failed
    ones with a fresh 24 h window): (pending, failed) counts."""
    with session(engine) as s:
        return rows.requeue(s, now)
