"""Delivery: each channel's due alerts sent, retried within the run, then on a schedule
(what goes out together is gathering.py's business)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from claimwatch.flows import crashpoints
from claimwatch.flows.alerts import apprise, gathering, mail, slack, views
from claimwatch.flows.alerts.outbox import DeliverySummary
from claimwatch.flows.alerts.policy import AlertsConfig, Channel, Delivery, Sent
from claimwatch.flows.alerts.secrets import Credentials, credentials
from claimwatch.storage import alerts as rows
from claimwatch.storage.db import Engine, Session, session
from claimwatch.storage.models import Alert

FIRST_RETRY_S = 0.5  # the first in-run retry waits this long, then 1 s, 2 s ... (RELIABILITY C)
MAX_PASSES = 20  # rounds of in-run retries per channel at most, whatever the budget says
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def backoff(age_s: float, retry_after_s: float | None, delivery: Delivery) -> float:
    """Seconds until a later run tries again. Retry-After wins (capped at 24 h, up to 10 %
    jitter); else the schedule's step for the alert's age: 1 m while it is under 1 m old, 5 m
    until 6 m, 15 m until 21 m ..., then the last step. The age picks the step, not the count
    of attempts: one run may try several times, and a blip must not push the next try to 1 h."""
    if retry_after_s is not None:
        wait = min(retry_after_s, 86400.0)
        return wait + random.uniform(0, 0.1) * wait  # up to 10 % jitter (RELIABILITY part C)
    elapsed = 0.0
    for step in delivery.retry_s:
        elapsed += step
        if age_s < elapsed:
            return step
    return delivery.retry_s[-1]


def inline_wait(tries: int, retry_after_s: float | None) -> float:
    """How long to wait before the next try within the run: Retry-After, or 0.5 s doubling."""
    return max(retry_after_s or 0.0, FIRST_RETRY_S * 2 ** tries)


class _Pacer:
    """At most one message per `interval_s` per webhook (Slack's documented rate)."""

    def __init__(self, interval_s: float, sleep: Callable[[float], None]) -> None:
        self.interval_s, self.sleep, self.last = interval_s, sleep, -1e9

    def wait(self) -> None:
        gap = self.interval_s - (time.monotonic() - self.last)
        if gap > 0:
            self.sleep(gap)
        self.last = time.monotonic()


@dataclass(slots=True)
class _Retries:
    """A channel's in-run retries: the time since its first transient failure (waits and
    timeouts alike) stays within inline_wait_s; past that, alerts wait for a later run."""

    budget_s: float
    started: float | None = None
    tries: dict[int, int] = field(default_factory=dict)  # alert id -> retries this run
    planned: dict[int, Sent] = field(default_factory=dict)  # retried in-run, not tried again yet

    def wait(self, alert_id: int, result: Sent) -> float | None:
        """The pause before trying this alert again in this run, or None: defer it."""
        now = time.monotonic()
        self.started = now if self.started is None else self.started
        pause = inline_wait(self.tries.get(alert_id, 0), result.retry_after_s)
        if now - self.started + pause > self.budget_s:
            return None
        self.tries[alert_id] = self.tries.get(alert_id, 0) + 1
        self.planned[alert_id] = result
        return pause


def deliver(engine: Engine, config: AlertsConfig, clock: Clock = utcnow,
            sleep: Callable[[float], None] = time.sleep) -> DeliverySummary:
    """Send every alert that is due, channel by channel; rows of unconfigured channels wait."""
    summary = DeliverySummary()
    for channel in config.channels:
        creds = credentials(channel)
        if isinstance(creds, str):
            summary.unconfigured[channel.name] = creds
            continue
        gathering.fold_flood(engine, config, channel)
        gathering.fold_confirmations(engine, channel, clock())
        gathering.make_digest(engine, channel, clock())
        _deliver_channel(engine, config, channel, creds, summary, clock, sleep)
    with session(engine) as s:
        summary.pending = rows.owed(s, "pending") + rows.owed(s, "sending")
        summary.failed_total = rows.owed(s, "failed")
        summary.digest_waiting = rows.waiting_for_digest(s)
    return summary


def _deliver_channel(engine: Engine, config: AlertsConfig, channel: Channel, creds: Credentials,
                     summary: DeliverySummary, clock: Clock, sleep: Callable[[float], None]
                     ) -> None:
    pacer = _Pacer(channel.min_interval_s if channel.kind != "email" else 0.0, sleep)
    retries = _Retries(config.delivery.inline_wait_s)
    for _ in range(MAX_PASSES):
        pause = _pass(engine, config, channel, creds, summary, clock, pacer, retries)
        if pause is None:
            break
        sleep(pause)
    with session(engine) as s:  # meant to be tried again in this run, and not: a later run will
        for alert_id, result in retries.planned.items():
            alert = rows.alert(s, alert_id)
            if alert.status == "pending":  # not taken by another delivery meanwhile
                _defer(alert, result, clock(), config.delivery, summary)


def _pass(engine: Engine, config: AlertsConfig, channel: Channel, creds: Credentials,
          summary: DeliverySummary, clock: Clock, pacer: _Pacer, retries: _Retries
          ) -> float | None:
    """Try the due alerts in order until one needs trying again in this run: the pause before
    the next pass, or None when this channel is done for the run."""
    with session(engine) as s:
        due = rows.due(s, channel.name, clock())
    for alert_id in due:
        retries.planned.pop(alert_id, None)
        result = _send_one(engine, config, channel, creds, alert_id, clock, pacer, summary,
                           retries)
        if result is None or result.outcome != "retry":
            continue
        if alert_id in retries.planned:
            # It probes the server for the others, which wait: when it gets through, so do they.
            return inline_wait(retries.tries[alert_id] - 1, result.retry_after_s)
        if result.unreachable:
            return None  # down past the budget: the rest wait for a later run
        # Past the budget but the server answers: this one waits, the others are tried once.
    return None


def _send_one(engine: Engine, config: AlertsConfig, channel: Channel, creds: Credentials,
              alert_id: int, clock: Clock, pacer: _Pacer, summary: DeliverySummary,
              retries: _Retries) -> Sent | None:
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
        _record(s, alert_id, result, clock(), config.delivery, summary, retries)
    crashpoints.reached("after-alert-marked")
    return result


def transmit(channel: Channel, creds: Credentials, message: Any, key: str, now: datetime) -> Sent:
    """Hand a rendered message to its channel's sender."""
    if channel.kind == "slack":
        assert creds.webhook_url is not None
        return slack.send_slack(creds.webhook_url, message, key, channel.timeout_s)
    if channel.kind == "apprise":
        assert creds.apprise_url is not None
        note = apprise.message(message.subject, message.text)  # the email's plain text
        return apprise.send_apprise(creds.apprise_url, note, key, channel.timeout_s)
    return mail.send_email(channel, creds, mail.email_message(channel, message, key, now))


def label(alert: Alert) -> str:
    """"alert #3 to newsroom (updates abu-dhabi-talks)": what a person needs to find it."""
    what = {"development": f"{alert.relation} {alert.claim_id}",
            "ops": f"source {alert.relation}", "digest": "digest"}.get(
        alert.kind, f"confirmations of {alert.claim_id}")
    return f"alert #{alert.id} to {alert.channel} ({what})"


def _record(s: Session, alert_id: int, result: Sent, now: datetime, delivery: Delivery,
            summary: DeliverySummary, retries: _Retries) -> None:
    """What a send did, on the row: sent; tried again in this run after a pause; tried by a
    later run on the schedule; or failed for good."""
    alert = rows.alert(s, alert_id)
    if result.outcome == "sent":
        _finish(s, alert, "sent", result.error or None, now)
        summary.sent += 1
        summary.digests += alert.kind == "digest"
        summary.delivered.append(label(alert))
        return
    age = (now - (alert.created_at or now)).total_seconds()
    if result.outcome == "retry" and age < delivery.give_up_after_s:
        pause = retries.wait(alert_id, result)
        if pause is None:
            _defer(alert, result, now, delivery, summary)
        else:  # due again after the pause; a crash meanwhile leaves it owed, never lost
            alert.status, alert.last_error = "pending", result.error
            alert.next_attempt_at = now + timedelta(seconds=pause)
        return
    error = result.error if result.outcome == "failed" else (
        f"gave up after {alert.attempts} attempts: {result.error}")
    _finish(s, alert, "failed", error, now)
    summary.failed.append(f"{label(alert)}: {error}")


def _defer(alert: Alert, result: Sent, now: datetime, delivery: Delivery,
           summary: DeliverySummary) -> None:
    """Leave the alert to a later run, on the schedule (or after its Retry-After)."""
    age = (now - (alert.created_at or now)).total_seconds()
    wait = backoff(age, result.retry_after_s, delivery)
    alert.status, alert.last_error = "pending", result.error
    alert.next_attempt_at = now + timedelta(seconds=wait)
    summary.retrying.append(f"{label(alert)}: {result.error} (next in {wait:.0f} s)")


def _finish(s: Session, alert: Alert, status: str, error: str | None, now: datetime) -> None:
    alert.status, alert.last_error = status, error
    alert.next_attempt_at = None
    if status == "sent":
        alert.sent_at = now
    if alert.kind in rows.CARRIERS:
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
