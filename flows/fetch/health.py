"""Source health: an error score with backoff, and when to tell people (pure; takes `now`).

Rules from ../shared/RELIABILITY.md (Media Cloud's scoring, Miniflux's "unhealthy" notice):
linear backoff of the poll interval by the error score, a hard error weighing 1 and a soft one
(404, 429, 5xx, timeouts) 0.5; capped at 24 h; Retry-After honoured; the score reset by the
first success. Three failed polls in a row are reported once, the recovery once. A source is
never deleted for failing: it keeps being polled, only less often.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from claimwatch.flows.fetch.urls import without_userinfo

BASE_INTERVAL = timedelta(minutes=15)  # one point of error score delays the next poll this much
MAX_BACKOFF = timedelta(hours=24)
HARD_PENALTY = 1.0
SOFT_PENALTY = 0.5
UNHEALTHY_AFTER = 3  # failed polls in a row


@dataclass(frozen=True, slots=True)
class Health:
    """What is known of a source's health; the Source row stores exactly these fields."""

    last_status: str | None = None
    error_score: float = 0.0
    consecutive_failures: int = 0
    unhealthy_reported: bool = False
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    next_poll_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """A source turned unhealthy or recovered: say it once in the cycle summary (and alert)."""

    kind: str  # "unhealthy" | "recovered"
    source: str  # the source's name
    url: str
    reason: str  # the last error, or the status it recovered with
    at: datetime

    @property
    def key(self) -> str:
        """Stable id for one notice (<= 80 chars): an outbox dedups deliveries on it."""
        url = hashlib.blake2b(self.url.encode(), digest_size=8).hexdigest()
        return f"source-{self.kind}:{url}:{self.at:%Y%m%dT%H%M%S}"

    def text(self) -> str:
        if self.kind == "unhealthy":
            return (f"{self.source} is failing ({UNHEALTHY_AFTER} polls in a row): {self.reason}."
                    " It keeps being polled, less often; it is never removed automatically.")
        return f"{self.source} has recovered ({self.reason})."

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "source": self.source, "url": without_userinfo(self.url),
                "reason": self.reason, "at": self.at.isoformat(), "key": self.key,
                "text": self.text()}


def backoff(error_score: float, retry_after_s: float | None) -> timedelta:
    """How long to wait before the next poll: linear in the score, Retry-After if longer; <= 24 h."""
    wait = min(BASE_INTERVAL * error_score, MAX_BACKOFF)
    if retry_after_s is not None:
        # No jitter: one claimwatch is one client, there is no herd to spread out.
        wait = max(wait, min(timedelta(seconds=max(0.0, retry_after_s)), MAX_BACKOFF))
    return wait


def due(health: Health, now: datetime) -> bool:
    """A source backing off is polled again only once its time has come."""
    return health.next_poll_at is None or health.next_poll_at <= now


def after_success(health: Health, status: str, now: datetime) -> tuple[Health, str | None]:
    """The new health after a good poll, and "recovered" when an unhealthy source came back."""
    kind = "recovered" if health.unhealthy_reported else None
    return Health(last_status=status, last_polled_at=now, last_success_at=now), kind


def after_failure(health: Health, error: str, soft: bool, retry_after_s: float | None,
                  now: datetime) -> tuple[Health, str | None]:
    """The new health after a failed poll, and "unhealthy" the first time it reaches 3 in a row."""
    score = health.error_score + (SOFT_PENALTY if soft else HARD_PENALTY)
    failures = health.consecutive_failures + 1
    report = failures >= UNHEALTHY_AFTER and not health.unhealthy_reported
    updated = replace(
        health, last_status=error[:500], error_score=score, consecutive_failures=failures,
        unhealthy_reported=health.unhealthy_reported or report, last_polled_at=now,
        next_poll_at=now + backoff(score, retry_after_s),
    )
    return updated, "unhealthy" if report else None


def notice(kind: str | None, source: str, url: str, reason: str, now: datetime
           ) -> Notice | None:
    return Notice(kind, source, url, reason, now) if kind else None
