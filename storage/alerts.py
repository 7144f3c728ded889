"""The alert outbox's rows: what is owed to each channel, claimed, sent, failed or digested."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from claimwatch.storage.inserts import add_unless_present
from claimwatch.storage.models import Alert, as_utc


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
    """Messages (immediate alerts and digests) in this status."""
    query = select(func.count()).select_from(Alert).where(Alert.status == status,
                                                          Alert.mode == "immediate")
    return int(s.exec(query).one())


def waiting_for_digest(s: Session) -> int:
    return int(s.exec(select(func.count()).select_from(Alert).where(
        Alert.mode == "digest", Alert.status == "pending")).one())


def fresh_immediate(s: Session, channel: str) -> list[Alert]:
    """A channel's immediate alerts never tried yet (ops notices and digests left out: those
    stay messages of their own)."""
    return list(s.exec(select(Alert).where(
        Alert.channel == channel, Alert.mode == "immediate",
        col(Alert.kind).not_in(["digest", "ops"]),
        Alert.status == "pending", Alert.attempts == 0)).all())


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


def digest_items(s: Session, digest_id: int | None) -> list[Alert]:
    return list(s.exec(select(Alert).where(Alert.digest_id == digest_id)
                       .order_by(col(Alert.id))).all())


def digest_size(s: Session, digest_id: int | None) -> int:
    return int(s.exec(select(func.count()).select_from(Alert)
                      .where(Alert.digest_id == digest_id)).one())


def messages(s: Session, status: str | None = None) -> list[Alert]:
    """Alert rows that are messages (immediate alerts and digests), newest first; "pending"
    includes those being sent."""
    query = select(Alert).where(Alert.mode == "immediate").order_by(col(Alert.id).desc())
    if status == "pending":
        query = query.where(col(Alert.status).in_(["pending", "sending"]))
    elif status:
        query = query.where(Alert.status == status)
    return list(s.exec(query).all())
