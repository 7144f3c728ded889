"""The alert outbox's rows: what is owed to each channel, claimed, sent, failed or digested."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from claimwatch.storage.inserts import add_unless_present
from claimwatch.storage.models import Alert, Source, as_utc

# Messages that carry item rows (the items point at them through digest_id): a digest, and a
# claim's confirmations folded into one immediate message.
CARRIERS = ("digest", "confirmations")


def add(s: Session, rows: Sequence[Alert]) -> None:
    s.add_all(rows)
    s.flush()


def add_unless_sent(s: Session, row: Alert) -> bool:
    """One row per (subject, channel): enqueued twice, a notice is still sent once."""
    return add_unless_present(s, row, ("subject", "channel"))


def alert(s: Session, alert_id: int) -> Alert:
    found = s.get(Alert, alert_id)
    assert found is not None, f"no alert {alert_id}"
    return found


def owed(s: Session, status: str) -> int:
    """Messages (immediate alerts and digests, not the items a message carries) in this
    status."""
    query = select(func.count()).select_from(Alert).where(
        Alert.status == status, Alert.mode == "immediate", col(Alert.digest_id).is_(None))
    return int(s.exec(query).one())


def waiting_for_digest(s: Session) -> int:
    return int(s.exec(select(func.count()).select_from(Alert).where(
        Alert.mode == "digest", Alert.status == "pending")).one())


def fresh_immediate(s: Session, channel: str) -> list[Alert]:
    """A channel's immediate alerts never tried yet (ops notices and digests left out: those
    stay messages of their own)."""
    return list(s.exec(select(Alert).where(
        Alert.channel == channel, Alert.mode == "immediate",
        col(Alert.kind).not_in([*CARRIERS, "ops"]),
        Alert.status == "pending", Alert.attempts == 0)).all())


def fresh_confirmations(s: Session, channel: str) -> list[Alert]:
    """A channel's immediate confirmations never tried and not yet folded, oldest first."""
    return list(s.exec(select(Alert).where(
        Alert.channel == channel, Alert.mode == "immediate", Alert.kind == "confirmation",
        Alert.status == "pending", Alert.attempts == 0, col(Alert.digest_id).is_(None))
        .order_by(col(Alert.id))).all())


def undigested(s: Session, channel: str) -> list[Alert]:
    """A channel's items waiting for its next digest, oldest first."""
    return list(s.exec(select(Alert).where(
        Alert.channel == channel, Alert.mode == "digest", Alert.status == "pending",
        col(Alert.digest_id).is_(None)).order_by(col(Alert.id))).all())


def last_digest_at(s: Session, channel: str) -> datetime | None:
    return as_utc(s.exec(select(func.max(Alert.created_at)).where(
        Alert.channel == channel, Alert.kind == "digest")).one())


def gather(s: Session, digest: Alert, items: Sequence[Alert]) -> None:
    """Store a digest and put the items it carries under it."""
    s.add(digest)
    s.flush()
    for item in items:
        item.digest_id, item.status = digest.id, "batched"


def due(s: Session, channel: str, now: datetime) -> list[int]:
    """Ids of a channel's messages whose next attempt has come, oldest first."""
    query = (select(Alert.id).where(
        Alert.channel == channel, Alert.mode == "immediate",
        col(Alert.status).in_(["pending", "sending"]),
        or_(col(Alert.next_attempt_at).is_(None), col(Alert.next_attempt_at) <= now))
        .order_by(col(Alert.id)))
    return [i for i in s.exec(query).all() if i is not None]


def claim(s: Session, alert_id: int, now: datetime, lease_s: float) -> bool:
    """Take a due row for sending; the lease keeps a concurrent delivery from sending it too."""
    result = s.exec(update(Alert).where(
        col(Alert.id) == alert_id, col(Alert.status).in_(["pending", "sending"]),
        or_(col(Alert.next_attempt_at).is_(None), col(Alert.next_attempt_at) <= now))
        .values(status="sending", attempts=Alert.attempts + 1,
                next_attempt_at=now + timedelta(seconds=lease_s)))
    return bool(result.rowcount == 1)


def requeue(s: Session, now: datetime) -> tuple[int, int]:
    """Every message owed, due now: pending ones whatever their next attempt said, failed ones
    pending again with a fresh 24 h window. Rows being sent (a live lease) are left to their
    sender. Returns (pending made due, failed queued again)."""
    pending = list(s.exec(select(Alert).where(Alert.mode == "immediate",
                                              Alert.status == "pending")).all())
    for row in pending:
        row.next_attempt_at = now
    failed = messages(s, "failed")
    for row in failed:
        row.status, row.attempts, row.next_attempt_at, row.created_at = "pending", 0, now, now
        if row.kind in CARRIERS:
            for item in digest_items(s, row.id):
                item.status = "batched"
    return len(pending), len(failed)


def source_tags(s: Session, url: str) -> list[str]:
    """The tags of the source at this URL (none when it is unknown)."""
    found = s.exec(select(Source.tags).where(Source.url == url)).first()
    return list(found or [])


def digest_items(s: Session, digest_id: int | None) -> list[Alert]:
    return list(s.exec(select(Alert).where(Alert.digest_id == digest_id)
                       .order_by(col(Alert.id))).all())


def digest_size(s: Session, digest_id: int | None) -> int:
    return int(s.exec(select(func.count()).select_from(Alert)
                      .where(Alert.digest_id == digest_id)).one())


def messages(s: Session, status: str | None = None) -> list[Alert]:
    """Alert rows that are messages (immediate alerts and digests; not the confirmations a
    folded message carries), newest first; "pending" includes those being sent."""
    query = (select(Alert).where(Alert.mode == "immediate", col(Alert.digest_id).is_(None))
             .order_by(col(Alert.id).desc()))
    if status == "pending":
        query = query.where(col(Alert.status).in_(["pending", "sending"]))
    elif status:
        query = query.where(Alert.status == status)
    return list(s.exec(query).all())
