"""What alerts.toml says, as values: channels, their rules, the retry policy, send outcomes.

Secrets never live in these values: a channel holds the *names* of environment variables or
Prefect Secret blocks, resolved right before a send (secrets.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

ALERTING = ("confirms", "updates", "contradicts")  # "mentions" never alert
Outcome = Literal["sent", "retry", "failed"]


@dataclass(frozen=True, slots=True)
class Rules:
    """Which relations go out at once and which wait for the digest; the rest never alert."""

    immediate: frozenset[str] = frozenset({"updates", "contradicts"})
    digest: frozenset[str] = frozenset({"confirms"})

    def mode(self, relation: str) -> str | None:
        if relation in self.immediate:
            return "immediate"
        return "digest" if relation in self.digest else None


@dataclass(frozen=True, slots=True)
class Channel:
    """One destination and its policy. Secrets are named here, never held."""

    name: str
    kind: str  # "slack" | "email" | "apprise"
    rules: Rules = Rules()
    per_claim: Mapping[str, Rules] = field(default_factory=dict)
    only_claims: frozenset[str] | None = None
    # Only news whose articles came from sources carrying one of these tags (a desk's own
    # sources); source health notices likewise. None: every source.
    only_tags: frozenset[str] | None = None
    digest_at: str = "run"  # "run" or "HH:MM" (daily, in digest_timezone)
    digest_timezone: str = "UTC"
    digest_max_items: int = 20
    timeout_s: float = 15.0  # SMTP: the whole conversation's socket timeout (RELIABILITY 15 s)
    ops: bool = True  # source health notices ("unhealthy", "recovered") come here too
    # slack
    webhook_url_env: str | None = None
    webhook_url_secret: str | None = None
    min_interval_s: float = 1.0  # Slack, Apprise: at most one message per second
    # apprise: the variable or Prefect Secret block holding the Apprise URL (its tokens)
    url_env: str | None = None
    url_secret: str | None = None
    # email
    smtp_host: str = ""
    smtp_port: int = 587
    security: str = "starttls"
    username: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    password_secret: str | None = None
    sender: str = ""
    recipients: tuple[str, ...] = ()
    ca_file: str | None = None  # a private CA for an internal relay

    def mode(self, claim_id: str, relation: str) -> str | None:
        """immediate, digest or None for this claim and relation."""
        if relation not in ALERTING:
            return None
        if self.only_claims is not None and claim_id not in self.only_claims:
            return None
        return self.per_claim.get(claim_id, self.rules).mode(relation)

    def hears(self, tags: Iterable[str]) -> bool:
        """Whether news (or a notice) from sources with these tags is for this channel: with
        only_tags, one tag in common is needed, so an untagged source is heard only by
        channels without only_tags."""
        return self.only_tags is None or not self.only_tags.isdisjoint(tags)


@dataclass(frozen=True, slots=True)
class Delivery:
    """Outbox retry numbers (RELIABILITY.md part C): 1 m, 5 m, 15 m, 1 h, 3 h, 6 h, then 6 h."""

    retry_s: tuple[float, ...] = (60, 300, 900, 3600, 10800, 21600)
    give_up_after_s: float = 86400  # then the alert is failed and reported
    lease_s: float = 300  # a "sending" row older than this was interrupted: send again
    # A transient failure (5xx, timeout, 429, a server down) is retried within the run, with
    # backoff (0.5 s, 1 s, 2 s ...) or after its Retry-After, while the channel's time spent
    # on retries stays within this; then the alert waits for the schedule above.
    inline_wait_s: float = 30


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    """Everything alerts.toml says."""

    channels: tuple[Channel, ...] = ()
    backlog_days: float = 7.0  # items published longer ago go to the digest; 0 turns it off
    max_immediate_per_run: int = 20  # more at once for one channel: they go to the digest
    delivery: Delivery = Delivery()
    path: str = ""

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)


@dataclass(frozen=True, slots=True)
class Sent:
    """How one send went: sent, retry later (maybe after Retry-After), or failed for good."""

    outcome: Outcome
    error: str = ""
    retry_after_s: float | None = None
    unreachable: bool = False  # the server could not be reached: skip the channel this run
