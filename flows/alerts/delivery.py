"""Delivery: each channel's due alerts sent, retried on a schedule, gathered into digests."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from claimwatch.flows import crashpoints
from claimwatch.flows.alerts import mail, slack, views
from claimwatch.flows.alerts.outbox import DeliverySummary
from claimwatch.flows.alerts.policy import AlertsConfig, Channel, Delivery, Sent
from claimwatch.flows.alerts.secrets import Credentials, credentials
from claimwatch.storage import alerts as rows
from claimwatch.storage.db import Engine, Session, session
from claimwatch.storage.models import Alert

MAX_PASSES = 5  # rounds of waiting out Retry-After within one delivery, per channel
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


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
        creds = credentials(channel)
        if isinstance(creds, str):
            summary.unconfigured[channel.name] = creds
            continue
        _fold_flood(engine, config, channel)
        _make_digest(engine, channel, clock())
        _deliver_channel(engine, config, channel, creds, summary, clock, sleep)
    with session(engine) as s:
        summary.pending = rows.owed(s, "pending") + rows.owed(s, "sending")
        summary.failed_total = rows.owed(s, "failed")
        summary.digest_waiting = rows.waiting_for_digest(s)
    return summary


def _fold_flood(engine: Engine, config: AlertsConfig, channel: Channel) -> None:
    """Too many alerts at once (a new feed, a long outage): one digest instead of a flood."""
    with session(engine) as s:
        fresh = rows.fresh_immediate(s, channel.name)
        if len(fresh) <= config.max_immediate_per_run:
            return
        for row in fresh:
            row.mode, row.reason = "digest", f"flood: {len(fresh)} alerts at once"


def _make_digest(engine: Engine, channel: Channel, now: datetime) -> None:
    """Gather waiting digest items into one digest row, when the channel's digest is due."""
    with session(engine) as s:
        items = rows.undigested(s, channel.name)
        if not items or not digest_due(channel, rows.last_digest_at(s, channel.name), now):
            return
        key = uuid.uuid4().hex
        rows.gather(s, Alert(channel=channel.name, subject=f"digest:{key}", kind="digest",
                             mode="immediate", status="pending", idempotency_key=key,
                             created_at=now, next_attempt_at=now), items)


def _deliver_channel(engine: Engine, config: AlertsConfig, channel: Channel, creds: Credentials,
                     summary: DeliverySummary, clock: Clock, sleep: Callable[[float], None]
                     ) -> None:
    pacer = _Pacer(channel.min_interval_s if channel.kind == "slack" else 0.0, sleep)
    waited = 0.0
    for _ in range(MAX_PASSES):
        throttled: list[float] = []
        with session(engine) as s:
            due = rows.due(s, channel.name, clock())
        for alert_id in due:
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


def _send_one(engine: Engine, config: AlertsConfig, channel: Channel, creds: Credentials,
              alert_id: int, clock: Clock, pacer: _Pacer, summary: DeliverySummary
              ) -> Sent | None:
    with session(engine) as s:
        if not rows.claim(s, alert_id, clock(), config.delivery.lease_s):
            return None
    with session(engine) as s:
        alert = rows.alert(s, alert_id)
        message = views.render_message(s, alert, channel)
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
        return slack.send_slack(creds.webhook_url, message, key, channel.timeout_s)
    return mail.send_email(channel, creds, mail.email_message(channel, message, key, now))


def _label(alert: Alert) -> str:
    what = f"{alert.kind} {alert.claim_id}" if alert.claim_id else alert.kind
    return f"alert #{alert.id} ({what}) to {alert.channel}"


def _record(s: Session, alert_id: int, result: Sent, now: datetime, delivery: Delivery,
            summary: DeliverySummary) -> None:
    alert = rows.alert(s, alert_id)
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
        for item in rows.digest_items(s, alert.id):
            item.status, item.sent_at = status, alert.sent_at


def send_test(config: AlertsConfig, name: str, now: datetime) -> Sent:
    """Send a test message to one channel, outside the outbox."""
    channel = config.channel(name)
    if channel is None:
        known = ", ".join(c.name for c in config.channels) or "none"
        return Sent("failed", f"no channel named {name!r} in {config.path} (channels: {known})")
    creds = credentials(channel)
    if isinstance(creds, str):
        return Sent("failed", f"channel {name!r} is {creds}")
    key = f"test-{uuid.uuid4().hex}"
    message = (slack.slack_test(name, key) if channel.kind == "slack"
               else mail.email_test(name, key))
    return transmit(channel, creds, message, key, now)
