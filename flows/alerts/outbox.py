"""The alert outbox: alerts are written with their development, delivered afterwards, once.

    enqueue (inside the matching transaction) -> alert rows "pending"
    deliver: claim a row ("sending", committed) -> send -> "sent" | retry later | "failed"

A row left in "sending" by a killed process is in doubt: the message may or may not have gone
out. Once its lease expires it is sent again *with the same idempotency key* (the email
Message-ID and the Slack payload's ref carry it), so a receiver can drop the copy; we prefer a
possible duplicate a receiver can recognise over a lost alert (see README "Alerts").
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from claimwatch.flows import crashpoints
from claimwatch.flows.alerts import channels
from claimwatch.flows.alerts import render as alerts
from claimwatch.flows.alerts.channels import AlertsConfig, Channel, Credentials, Delivery, Sent
from claimwatch.flows.fetch.health import Notice
from claimwatch.flows.report.report import claim_url
from claimwatch.storage import queries
from claimwatch.storage.db import session
from claimwatch.storage.models import (
    Alert,
    Article,
    ArticleVersion,
    ClaimRecord,
    Development,
    Item,
    Match,
    Source,
)

MAX_PASSES = 5  # rounds of waiting out Retry-After within one delivery, per channel
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


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


def _provenance(s: Session, version: ArticleVersion, claim: ClaimRecord) -> list[Provenance]:
    article = s.get(Article, version.article_id)
    items = s.exec(select(Item, Source).join(Source, col(Source.id) == Item.source_id)
                   .where(Item.article_id == version.article_id)).all()
    if not items:
        return [Provenance(version.version, article.published_at if article else None, None,
                           False, claim.added_at)]
    found = []
    for item, source in items:
        first = s.exec(select(func.min(Item.first_seen_at))
                       .where(Item.source_id == source.id)).one()
        first_at = _aware(first)
        found.append(Provenance(
            version.version, item.published_at or (article.published_at if article else None),
            source.added_at, first_at is not None and item.first_seen_at is not None
            and item.first_seen_at <= first_at, claim.added_at))
    return found


def _aware(moment: Any) -> datetime | None:
    """func.min() bypasses the column type on SQLite: parse and put the UTC zone back."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def enqueue(s: Session, config: AlertsConfig, match: Match, development: Development | None,
            version: ArticleVersion, now: datetime) -> list[Alert]:
    """Pending alerts for a new development (or a confirmation), in the caller's transaction."""
    if development is not None:
        kind, relation = "development", development.relation
    elif match.relation == "confirms":
        kind, relation = "confirmation", "confirms"
    else:
        return []  # mentions never alert; a second source for a development is in its alert
    wanted = [(c, c.mode(match.claim_id, relation)) for c in config.channels]
    wanted = [(c, m) for c, m in wanted if m is not None]
    if not wanted:
        return []
    s.flush()  # ids for the subject
    claim = s.get(ClaimRecord, match.claim_id)
    assert claim is not None
    backlog = freshest([backlog_reason(p, config.backlog_days, now)
                        for p in _provenance(s, version, claim)])
    subject = f"development:{development.id}" if development is not None else f"match:{match.id}"
    rows = [_row(channel, mode, backlog, subject, kind, match, development, relation, now)
            for channel, mode in wanted]
    s.add_all(rows)
    s.flush()
    crashpoints.reached("after-alert-enqueued")  # killed here: development and alert roll back
    return rows


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
    notice's own key: enqueued twice, it is still sent once.
    """
    added = 0
    for channel in (c for c in config.channels if c.ops):
        added += queries.add_unless_present(s, Alert(
            channel=channel.name, subject=notice.key, kind="ops", relation=notice.kind,
            mode="immediate", reason=notice.text(), status="pending",
            idempotency_key=uuid.uuid4().hex, created_at=notice.at, next_attempt_at=notice.at),
            ("subject", "channel"))
    return added


# ---------------------------------------------------------------- delivery


@dataclass(slots=True)
class DeliverySummary:
    """What one delivery did; no secrets, so it may go into results and artifacts."""

    sent: int = 0
    digests: int = 0
    retrying: list[str] = field(default_factory=list)  # "alert #3 to newsroom: HTTP 503"
    failed: list[str] = field(default_factory=list)  # failed in this delivery
    unconfigured: dict[str, str] = field(default_factory=dict)  # channel -> what is missing
    pending: int = 0  # still owed after this delivery
    digest_waiting: int = 0  # items waiting for their channel's next digest
    failed_total: int = 0  # failed and not retried yet, all time


def backoff(attempts: int, retry_after_s: float | None, delivery: Delivery) -> float:
    """Seconds to wait before attempt `attempts + 1`; Retry-After wins, capped at 24 h."""
    if retry_after_s is not None:
        wait = min(retry_after_s, 86400.0)
        return wait + random.uniform(0, 0.1) * wait  # up to 10 % jitter (RELIABILITY part C)
    schedule = delivery.retry_s
    return schedule[min(max(attempts, 1), len(schedule)) - 1]


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


class _Pacer:
    """At most one Slack message per `interval_s` per webhook (Slack's documented rate)."""

    def __init__(self, interval_s: float, sleep: Callable[[float], None]) -> None:
        self.interval_s, self.sleep, self.last = interval_s, sleep, -1e9

    def wait(self) -> None:
        gap = self.interval_s - (time.monotonic() - self.last)
        if gap > 0:
            self.sleep(gap)
        self.last = time.monotonic()


def deliver(engine: Engine, config: AlertsConfig, clock: Clock = utcnow,
            sleep: Callable[[float], None] = time.sleep) -> DeliverySummary:
    """Send every alert that is due, channel by channel; rows of unconfigured channels wait."""
    summary = DeliverySummary()
    for channel in config.channels:
        creds = channels.credentials(channel)
        if isinstance(creds, str):
            summary.unconfigured[channel.name] = creds
            continue
        _fold_flood(engine, config, channel, clock())
        _make_digest(engine, channel, clock())
        _deliver_channel(engine, config, channel, creds, summary, clock, sleep)
    with session(engine) as s:
        summary.pending = _count(s, "pending") + _count(s, "sending")
        summary.failed_total = _count(s, "failed")
        summary.digest_waiting = int(s.exec(select(func.count()).select_from(Alert).where(
            Alert.mode == "digest", Alert.status == "pending")).one())
    return summary


def _count(s: Session, status: str) -> int:
    query = select(func.count()).select_from(Alert).where(Alert.status == status,
                                                          Alert.mode == "immediate")
    return int(s.exec(query).one())


def _fold_flood(engine: Engine, config: AlertsConfig, channel: Channel, now: datetime) -> None:
    """Too many alerts at once (a new feed, a long outage): one digest instead of a flood."""
    with session(engine) as s:
        rows = list(s.exec(select(Alert).where(
            # Ops notices stay messages of their own: a digest shows developments only.
            Alert.channel == channel.name, Alert.mode == "immediate",
            col(Alert.kind).not_in(["digest", "ops"]),
            Alert.status == "pending", Alert.attempts == 0)).all())
        if len(rows) <= config.max_immediate_per_run:
            return
        for row in rows:
            row.mode, row.reason = "digest", f"flood: {len(rows)} alerts at once"


def _make_digest(engine: Engine, channel: Channel, now: datetime) -> None:
    """Gather waiting digest items into one digest row, when the channel's digest is due."""
    with session(engine) as s:
        items = list(s.exec(select(Alert).where(
            Alert.channel == channel.name, Alert.mode == "digest", Alert.status == "pending",
            col(Alert.digest_id).is_(None)).order_by(col(Alert.id))).all())
        if not items:
            return
        last = s.exec(select(func.max(Alert.created_at)).where(
            Alert.channel == channel.name, Alert.kind == "digest")).one()
        if not digest_due(channel, _aware(last), now):
            return
        key = uuid.uuid4().hex
        digest = Alert(channel=channel.name, subject=f"digest:{key}", kind="digest",
                       mode="immediate", status="pending", idempotency_key=key, created_at=now,
                       next_attempt_at=now)
        s.add(digest)
        s.flush()
        for item in items:
            item.digest_id, item.status = digest.id, "batched"


def _due(engine: Engine, channel: str, now: datetime) -> list[int]:
    with session(engine) as s:
        query = (select(Alert.id).where(
            Alert.channel == channel, Alert.mode == "immediate",
            col(Alert.status).in_(["pending", "sending"]),
            or_(col(Alert.next_attempt_at).is_(None), col(Alert.next_attempt_at) <= now))
            .order_by(col(Alert.id)))
        return [i for i in s.exec(query).all() if i is not None]


def _deliver_channel(engine: Engine, config: AlertsConfig, channel: Channel, creds: Credentials,
                     summary: DeliverySummary, clock: Clock, sleep: Callable[[float], None]
                     ) -> None:
    pacer = _Pacer(channel.min_interval_s if channel.kind == "slack" else 0.0, sleep)
    waited = 0.0
    for _ in range(MAX_PASSES):
        throttled: list[float] = []
        for alert_id in _due(engine, channel.name, clock()):
            result = _send_one(engine, config, channel, creds, alert_id, clock, pacer, summary)
            if result is None:
                continue
            if result.unreachable:
                return  # the rest wait for the next run; no point timing out N times
            if result.outcome == "retry" and result.retry_after_s is not None:
                throttled.append(result.retry_after_s)
        budget = config.delivery.inline_wait_s - waited
        if not throttled or max(throttled) > budget:
            return
        pause = max(throttled) * 1.1  # the jitter backoff() may have added
        sleep(pause)
        waited += pause


def _claim(engine: Engine, alert_id: int, now: datetime, lease_s: float) -> bool:
    """Take a due row for sending; the lease keeps a concurrent delivery from sending it too."""
    with session(engine) as s:
        result = s.exec(update(Alert).where(
            col(Alert.id) == alert_id, col(Alert.status).in_(["pending", "sending"]),
            or_(col(Alert.next_attempt_at).is_(None), col(Alert.next_attempt_at) <= now))
            .values(status="sending", attempts=Alert.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=lease_s)))
        return bool(result.rowcount == 1)


def _send_one(engine: Engine, config: AlertsConfig, channel: Channel, creds: Credentials,
              alert_id: int, clock: Clock, pacer: _Pacer, summary: DeliverySummary
              ) -> Sent | None:
    if not _claim(engine, alert_id, clock(), config.delivery.lease_s):
        return None
    with session(engine) as s:
        alert = s.get(Alert, alert_id)
        assert alert is not None
        message = render(s, alert, channel)
    crashpoints.reached("before-alert-send")
    if message is None:
        result = Sent("failed", f"nothing to render for {alert.subject}")
    else:
        pacer.wait()
        result = transmit(channel, creds, message, alert.idempotency_key, clock())
    crashpoints.reached("after-alert-send")
    with session(engine) as s:
        _record(s, alert_id, result, clock(), config.delivery, summary)
    crashpoints.reached("after-alert-marked")
    return result


def transmit(channel: Channel, creds: Credentials, message: Any, key: str, now: datetime) -> Sent:
    """Hand a rendered message to its channel's sender."""
    if channel.kind == "slack":
        assert creds.webhook_url is not None
        return channels.send_slack(creds.webhook_url, message, key, channel.timeout_s)
    return channels.send_email(channel, creds, channels.email_message(channel, message, key, now))


def _label(alert: Alert) -> str:
    what = f"{alert.kind} {alert.claim_id}" if alert.claim_id else alert.kind
    return f"alert #{alert.id} ({what}) to {alert.channel}"


def _record(s: Session, alert_id: int, result: Sent, now: datetime, delivery: Delivery,
            summary: DeliverySummary) -> None:
    alert = s.get(Alert, alert_id)
    assert alert is not None
    if result.outcome == "sent":
        _finish(s, alert, "sent", result.error or None, now)
        summary.sent += 1
        summary.digests += alert.kind == "digest"
        return
    age = (now - (alert.created_at or now)).total_seconds()
    if result.outcome == "retry" and age < delivery.give_up_after_s:
        wait = backoff(alert.attempts, result.retry_after_s, delivery)
        alert.status, alert.last_error = "pending", result.error
        alert.next_attempt_at = now + timedelta(seconds=wait)
        summary.retrying.append(f"{_label(alert)}: {result.error} (next in {wait:.0f} s)")
        return
    error = result.error if result.outcome == "failed" else (
        f"gave up after {alert.attempts} attempts: {result.error}")
    _finish(s, alert, "failed", error, now)
    summary.failed.append(f"{_label(alert)}: {error}")


def _finish(s: Session, alert: Alert, status: str, error: str | None, now: datetime) -> None:
    alert.status, alert.last_error = status, error
    alert.next_attempt_at = None
    if status == "sent":
        alert.sent_at = now
    if alert.kind == "digest":
        for item in s.exec(select(Alert).where(Alert.digest_id == alert.id)).all():
            item.status, item.sent_at = status, alert.sent_at


# ---------------------------------------------------------------- rendering from the record


def render(s: Session, alert: Alert, channel: Channel) -> Any:
    """The Slack payload or EmailContent for an alert row, read fresh from the database."""
    if alert.kind == "digest":
        items = list(s.exec(select(Alert).where(Alert.digest_id == alert.id)
                            .order_by(col(Alert.id))).all())
        views = [v for v in (view(s, i) for i in items[: channel.digest_max_items]) if v]
        digest = alerts.DigestView(alert.idempotency_key, tuple(views), len(items), channel.name)
        return alerts.slack_digest(digest) if channel.kind == "slack" else alerts.email_digest(
            digest)
    if alert.kind == "ops":
        notice = alerts.NoticeView(alert.idempotency_key, alert.relation or "", alert.reason,
                                   alert.created_at or utcnow())
        return alerts.slack_notice(notice) if channel.kind == "slack" else alerts.email_notice(
            notice)
    found = view(s, alert)
    if found is None:
        return None
    return alerts.slack(found) if channel.kind == "slack" else alerts.email(found)


def _evidence(s: Session, rows: list[tuple[Match, ArticleVersion, Article]]
              ) -> tuple[alerts.Evidence, ...]:
    return tuple(alerts.Evidence(sentence=m.evidence, title=v.title or a.title,
                                 outlet=a.outlet or _source_name(s, a.id), url=a.url,
                                 relation=m.relation) for m, v, a in rows)


def _source_name(s: Session, article_id: int | None) -> str | None:
    query = (select(Source.name).join(Item, col(Item.source_id) == Source.id)
             .where(Item.article_id == article_id).order_by(col(Item.id)))
    return s.exec(query).first()


def view(s: Session, alert: Alert) -> alerts.AlertView | None:
    """What an alert says, from its development or its confirming match."""
    claim = s.get(ClaimRecord, alert.claim_id) if alert.claim_id else None
    if claim is None:
        return None
    if alert.development_id is not None:
        dev = s.get(Development, alert.development_id)
        if dev is None:
            return None
        rows = queries.sources_of(s, alert.development_id)
        changes = {k: (v[0], v[1]) for k, v in dict(dev.changes).items()}
        return alerts.AlertView(
            alert.idempotency_key, claim.id, claim.statement, dev.relation, dev.summary, changes,
            _evidence(s, rows), len({a.id for _, _, a in rows}) or 1,
            dev.first_seen_at or utcnow(), alert.reason, claim_url(claim.id))
    match = s.get(Match, alert.match_id) if alert.match_id else None
    if match is None:
        return None
    version = s.get(ArticleVersion, match.article_version_id)
    article = s.get(Article, version.article_id) if version else None
    if version is None or article is None:
        return None
    agree = s.exec(select(func.count(func.distinct(ArticleVersion.article_id)))
                   .join(Match, col(Match.article_version_id) == ArticleVersion.id)
                   .where(Match.claim_id == claim.id, Match.relation == "confirms")).one()
    return alerts.AlertView(
        alert.idempotency_key, claim.id, claim.statement, "confirms", "confirmed", {},
        _evidence(s, [(match, version, article)]), int(agree) or 1,
        match.matched_at or utcnow(), alert.reason, claim_url(claim.id))


# ---------------------------------------------------------------- the CLI's reads and writes


def listing(engine: Engine, status: str | None = None) -> list[dict[str, Any]]:
    """Alert rows that are messages (immediate alerts and digests), newest first."""
    with session(engine) as s:
        query = select(Alert).where(Alert.mode == "immediate").order_by(col(Alert.id).desc())
        if status == "pending":
            query = query.where(col(Alert.status).in_(["pending", "sending"]))
        elif status:
            query = query.where(Alert.status == status)
        return [_listed(s, a) for a in s.exec(query).all()]


def _listed(s: Session, alert: Alert) -> dict[str, Any]:
    items = 0
    if alert.kind == "digest":
        items = int(s.exec(select(func.count()).select_from(Alert)
                           .where(Alert.digest_id == alert.id)).one())
    return {"id": alert.id, "channel": alert.channel, "kind": alert.kind,
            "claim": alert.claim_id, "relation": alert.relation, "status": alert.status,
            "attempts": alert.attempts, "items": items, "reason": alert.reason,
            "next_attempt_at": _iso(alert.next_attempt_at), "sent_at": _iso(alert.sent_at),
            "last_error": alert.last_error, "key": alert.idempotency_key}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def retry_failed(engine: Engine, now: datetime) -> int:
    """Failed messages become pending again, with a fresh 24 h window; returns how many."""
    with session(engine) as s:
        rows = list(s.exec(select(Alert).where(Alert.status == "failed",
                                               Alert.mode == "immediate")).all())
        for row in rows:
            row.status, row.attempts, row.next_attempt_at, row.created_at = "pending", 0, now, now
            if row.kind == "digest":
                for item in s.exec(select(Alert).where(Alert.digest_id == row.id)).all():
                    item.status = "batched"
        return len(rows)


def send_test(config: AlertsConfig, name: str, now: datetime) -> Sent:
    """Send a test message to one channel, outside the outbox."""
    channel = config.channel(name)
    if channel is None:
        known = ", ".join(c.name for c in config.channels) or "none"
        return Sent("failed", f"no channel named {name!r} in {config.path} (channels: {known})")
    creds = channels.credentials(channel)
    if isinstance(creds, str):
        return Sent("failed", f"channel {name!r} is {creds}")
    key = f"test-{uuid.uuid4().hex}"
    message = (alerts.slack_test(name, key) if channel.kind == "slack"
               else alerts.email_test(name, key))
    return transmit(channel, creds, message, key, now)


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
