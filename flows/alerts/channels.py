"""Where alerts go: alerts.toml loaded and checked, secrets resolved at send time, and the two
senders (a Slack incoming webhook over httpx, email over smtplib).

Secrets never live in this module's values: the config holds the *names* of environment
variables or Prefect Secret blocks, and `secret()` resolves one right before a send. Error
texts never contain a webhook URL or a password.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from claimwatch.flows.alerts import render as alerts
from claimwatch.flows.seeds import SeedError

ALERTING = ("confirms", "updates", "contradicts")  # "mentions" never alert
KINDS = ("slack", "email")
SECURITY = ("starttls", "tls", "none")
Outcome = Literal["sent", "retry", "failed"]

COMMON_KEYS = {"name", "kind", "immediate", "digest", "only_claims", "claims", "digest_at",
               "digest_timezone", "digest_max_items", "timeout_s", "ops"}
SLACK_KEYS = COMMON_KEYS | {"webhook_url_env", "webhook_url_secret", "min_interval_s"}
EMAIL_KEYS = COMMON_KEYS | {"smtp_host", "smtp_port", "security", "username_env", "password_env",
                            "username", "password_secret", "sender", "recipients", "ca_file"}
TOP_KEYS = {"channels", "policy", "delivery"}
POLICY_KEYS = {"backlog_days", "max_immediate_per_run", "digest_at", "digest_timezone",
               "digest_max_items"}
DELIVERY_KEYS = {"retry_s", "give_up_after_s", "lease_s", "inline_wait_s"}


class AlertsConfigError(SeedError):
    """alerts.toml is unusable; the message names the file and the problem."""


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
    kind: str  # "slack" | "email"
    rules: Rules = Rules()
    per_claim: Mapping[str, Rules] = field(default_factory=dict)
    only_claims: frozenset[str] | None = None
    digest_at: str = "run"  # "run" or "HH:MM" (daily, in digest_timezone)
    digest_timezone: str = "UTC"
    digest_max_items: int = 20
    timeout_s: float = 15.0  # SMTP: the whole conversation's socket timeout (RELIABILITY 15 s)
    ops: bool = True  # source health notices ("unhealthy", "recovered") come here too
    # slack
    webhook_url_env: str | None = None
    webhook_url_secret: str | None = None
    min_interval_s: float = 1.0  # Slack: at most one message per second per webhook
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


@dataclass(frozen=True, slots=True)
class Delivery:
    """Outbox retry numbers (RELIABILITY.md part C): 1 m, 5 m, 15 m, 1 h, 3 h, 6 h, then 6 h."""

    retry_s: tuple[float, ...] = (60, 300, 900, 3600, 10800, 21600)
    give_up_after_s: float = 86400  # then the alert is failed and reported
    lease_s: float = 300  # a "sending" row older than this was interrupted: send again
    inline_wait_s: float = 30  # a Retry-After this short is waited out in the same run


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


# ---------------------------------------------------------------- loading


def load(path: Path) -> AlertsConfig:
    """Read and check alerts.toml; every problem names the file, the channel and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AlertsConfigError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AlertsConfigError(path, f"unreadable: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise AlertsConfigError(path, f"malformed TOML: {exc}") from None
    return parse(data, path)


def parse(data: Mapping[str, Any], path: Path) -> AlertsConfig:
    _keys(path, "the file", data, TOP_KEYS)
    policy = _table(path, data, "policy", POLICY_KEYS)
    delivery = _delivery(path, _table(path, data, "delivery", DELIVERY_KEYS))
    raw = data.get("channels", [])
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise AlertsConfigError(path, "channels must be an array of tables ([[channels]])")
    channels = tuple(_channel(path, i, c, policy) for i, c in enumerate(raw))
    names = [c.name for c in channels]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise AlertsConfigError(path, f"channel names must be unique: {', '.join(dupes)}")
    return AlertsConfig(
        channels=channels,
        backlog_days=_number(path, "policy", policy, "backlog_days", 7.0, minimum=0),
        max_immediate_per_run=int(_number(path, "policy", policy, "max_immediate_per_run", 20,
                                          minimum=1)),
        delivery=delivery, path=str(path))


def _keys(path: Path, where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise AlertsConfigError(path, f"{where}: unknown key(s) {', '.join(unknown)}; "
                                      f"allowed: {', '.join(sorted(allowed))}")


def _table(path: Path, data: Mapping[str, Any], name: str, allowed: set[str]) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise AlertsConfigError(path, f"[{name}] must be a table")
    _keys(path, f"[{name}]", table, allowed)
    return table


def _number(path: Path, where: str, table: Mapping[str, Any], key: str, default: float,
            minimum: float = 0.0) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise AlertsConfigError(path, f"{where}: {key} must be a number >= {minimum}")
    return float(value)


def _delivery(path: Path, table: Mapping[str, Any]) -> Delivery:
    retry = table.get("retry_s", list(Delivery().retry_s))
    if not isinstance(retry, list) or not retry or not all(
            isinstance(x, int | float) and not isinstance(x, bool) and x >= 0 for x in retry):
        raise AlertsConfigError(path, "[delivery]: retry_s must be a non-empty list of seconds")
    return Delivery(
        retry_s=tuple(float(x) for x in retry),
        give_up_after_s=_number(path, "[delivery]", table, "give_up_after_s", 86400),
        lease_s=_number(path, "[delivery]", table, "lease_s", 300),
        inline_wait_s=_number(path, "[delivery]", table, "inline_wait_s", 30))


def _relations(path: Path, where: str, table: Mapping[str, Any], key: str,
               default: frozenset[str]) -> frozenset[str]:
    value = table.get(key)
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AlertsConfigError(path, f"{where}: {key} must be a list of relations")
    bad = sorted(set(value) - set(ALERTING))
    if bad:
        raise AlertsConfigError(path, f"{where}: {key} has {', '.join(bad)}; relations that "
                                      f"alert are {', '.join(ALERTING)} (mentions never alert)")
    return frozenset(value)


def _rules(path: Path, where: str, table: Mapping[str, Any], base: Rules) -> Rules:
    immediate = _relations(path, where, table, "immediate", base.immediate)
    digest = _relations(path, where, table, "digest", base.digest - immediate)
    both = sorted(immediate & digest)
    if both:
        raise AlertsConfigError(path, f"{where}: {', '.join(both)} is both immediate and digest")
    return Rules(immediate, digest)


def _text(path: Path, where: str, table: Mapping[str, Any], key: str, required: bool = False
          ) -> str | None:
    value = table.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or alerts.one_line(value) != value:
        raise AlertsConfigError(path, f"{where}: {key} must be a non-empty one-line string")
    return value


def _digest_at(path: Path, where: str, value: Any, zone: Any) -> tuple[str, str]:
    if not isinstance(zone, str):
        raise AlertsConfigError(path, f"{where}: digest_timezone must be a string")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AlertsConfigError(path, f"{where}: unknown digest_timezone {zone!r}") from None
    if value == "run":
        return value, zone
    try:
        datetime.strptime(str(value), "%H:%M")
    except ValueError:
        raise AlertsConfigError(path, f'{where}: digest_at must be "run" or "HH:MM"') from None
    return str(value), zone


def _channel(path: Path, index: int, table: Mapping[str, Any], policy: Mapping[str, Any]
             ) -> Channel:
    name = _text(path, f"channels[{index}]", table, "name", required=True)
    assert name is not None
    where = f"channel {name!r}"
    kind = table.get("kind")
    if kind not in KINDS:
        raise AlertsConfigError(path, f"{where}: kind must be one of {', '.join(KINDS)}")
    _keys(path, where, table, SLACK_KEYS if kind == "slack" else EMAIL_KEYS)
    rules = _rules(path, where, table, Rules())
    digest_at, zone = _digest_at(path, where, table.get("digest_at", policy.get("digest_at", "run")),
                                 table.get("digest_timezone", policy.get("digest_timezone", "UTC")))
    common: dict[str, Any] = {
        "name": name, "kind": kind, "rules": rules,
        "per_claim": _per_claim(path, where, table.get("claims", {}), rules),
        "only_claims": _only(path, where, table.get("only_claims")),
        "digest_at": digest_at, "digest_timezone": zone,
        "digest_max_items": int(_number(path, where, table, "digest_max_items",
                                        policy.get("digest_max_items", 20), minimum=1)),
        "ops": _flag(path, where, table, "ops", True),
    }
    if kind == "slack":
        return _slack(path, where, table, common)
    return _email(path, where, table, common)


def _flag(path: Path, where: str, table: Mapping[str, Any], key: str, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise AlertsConfigError(path, f"{where}: {key} must be true or false")
    return value


def _per_claim(path: Path, where: str, table: Any, base: Rules) -> dict[str, Rules]:
    if not isinstance(table, dict):
        raise AlertsConfigError(path, f"{where}: claims must be a table of claim ids")
    found: dict[str, Rules] = {}
    for claim_id, rules in table.items():
        if not isinstance(rules, dict):
            raise AlertsConfigError(path, f"{where}: claims.{claim_id} must be a table")
        _keys(path, f"{where} claims.{claim_id}", rules, {"immediate", "digest"})
        found[claim_id] = _rules(path, f"{where} claims.{claim_id}", rules, base)
    return found


def _only(path: Path, where: str, value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AlertsConfigError(path, f"{where}: only_claims must be a list of claim ids")
    return frozenset(value)


def _slack(path: Path, where: str, table: Mapping[str, Any], common: dict[str, Any]) -> Channel:
    env = _text(path, where, table, "webhook_url_env")
    block = _text(path, where, table, "webhook_url_secret")
    if env is None and block is None:
        raise AlertsConfigError(path, f"{where}: set webhook_url_env (the environment variable "
                                      "holding the webhook URL) or webhook_url_secret")
    return Channel(**common, webhook_url_env=env, webhook_url_secret=block,
                   timeout_s=_number(path, where, table, "timeout_s", 10.0),
                   min_interval_s=_number(path, where, table, "min_interval_s", 1.0))


def _email(path: Path, where: str, table: Mapping[str, Any], common: dict[str, Any]) -> Channel:
    security = table.get("security", "starttls")
    if security not in SECURITY:
        raise AlertsConfigError(path, f"{where}: security must be one of {', '.join(SECURITY)}")
    port = table.get("smtp_port", 465 if security == "tls" else 587)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise AlertsConfigError(path, f"{where}: smtp_port must be a port number")
    recipients = table.get("recipients")
    if not isinstance(recipients, list) or not recipients or not all(
            _address(r) for r in recipients):
        raise AlertsConfigError(path, f"{where}: recipients must be a non-empty list of addresses")
    sender = _text(path, where, table, "sender", required=True)
    if not _address(sender):
        raise AlertsConfigError(path, f"{where}: sender must be an email address")
    if table.get("password_env") is None and table.get("password_secret") is None and (
            table.get("username_env") or table.get("username")):
        raise AlertsConfigError(path, f"{where}: a username needs password_env or password_secret")
    return Channel(
        **common, smtp_host=_text(path, where, table, "smtp_host", required=True) or "",
        smtp_port=port, security=security, sender=sender or "", recipients=tuple(recipients),
        username=_text(path, where, table, "username"),
        username_env=_text(path, where, table, "username_env"),
        password_env=_text(path, where, table, "password_env"),
        password_secret=_text(path, where, table, "password_secret"),
        ca_file=_text(path, where, table, "ca_file"),
        timeout_s=_number(path, where, table, "timeout_s", 15.0))


def _address(value: Any) -> bool:
    return (isinstance(value, str) and "@" in value and alerts.one_line(value) == value
            and " " not in value and "," not in value)


# ---------------------------------------------------------------- secrets


def secret(env_name: str | None, block_name: str | None) -> str | None:
    """The value of an environment variable, else of a Prefect Secret block; None when neither."""
    # Departure from "settings.py reads the environment": the *names* come from alerts.toml,
    # and the value is read here, at the one place that needs it, so it never travels.
    if env_name and os.environ.get(env_name):
        return os.environ[env_name]
    if block_name:
        return _prefect_secret(block_name)
    return None


def _prefect_secret(name: str) -> str | None:
    try:
        from prefect.blocks.system import Secret

        value = Secret.load(name).get()  # type: ignore[union-attr]
    except Exception:
        return None  # missing block or no API: the channel is reported unconfigured
    return str(value) if value else None


@dataclass(frozen=True, slots=True)
class Credentials:
    """What one send needs that must never be logged, stored or passed to Prefect."""

    webhook_url: str | None = None
    username: str | None = None
    password: str | None = None


def credentials(channel: Channel) -> Credentials | str:
    """The channel's secrets, or a sentence saying what is missing (never the values)."""
    if channel.kind == "slack":
        url = secret(channel.webhook_url_env, channel.webhook_url_secret)
        if not url:
            return f"unconfigured: {_where(channel.webhook_url_env, channel.webhook_url_secret)}"
        if not _webhook_ok(url):
            return ("misconfigured: the webhook URL is not a well-formed http(s) URL "
                    f"({_where(channel.webhook_url_env, channel.webhook_url_secret)})")
        return Credentials(webhook_url=url)
    username = channel.username or secret(channel.username_env, None)
    if not (channel.username_env or channel.username):
        return Credentials()
    password = secret(channel.password_env, channel.password_secret)
    if not username or not password:
        missing = [_where(channel.username_env, None)] if not username else []
        missing += [_where(channel.password_env, channel.password_secret)] if not password else []
        return f"unconfigured: {' and '.join(missing)}"
    return Credentials(username=username, password=password)


def _webhook_ok(url: str) -> bool:
    """http(s) and parseable by httpx: its parse errors quote the URL, so they must not happen
    at send time, where they would crash delivery with the secret in the message."""
    try:
        return httpx.URL(url).scheme in {"http", "https"} and bool(urlsplit(url).netloc)
    except (httpx.InvalidURL, ValueError):
        return False


def _where(env_name: str | None, block_name: str | None) -> str:
    names = [f"${env_name}"] if env_name else []
    names += [f"Secret block {block_name!r}"] if block_name else []
    return "set " + " or ".join(names)


# ---------------------------------------------------------------- sending


@dataclass(frozen=True, slots=True)
class Sent:
    """How one send went: sent, retry later (maybe after Retry-After), or failed for good."""

    outcome: Outcome
    error: str = ""
    retry_after_s: float | None = None
    unreachable: bool = False  # the server could not be reached: skip the channel this run


def send_slack(url: str, payload: Mapping[str, Any], key: str, timeout_s: float = 10.0) -> Sent:
    """POST one message to an incoming webhook; classify the answer for the outbox."""
    timeout = httpx.Timeout(timeout_s, connect=min(5.0, timeout_s))  # RELIABILITY: 5 s / 10 s
    try:
        with _unlogged(url), httpx.Client(timeout=timeout, follow_redirects=False,
                                          trust_env=False) as client:
            response = client.post(url, json=dict(payload), headers={"Idempotency-Key": key})
    except httpx.TimeoutException:
        return Sent("retry", "Slack timed out", unreachable=True)
    except httpx.TransportError as exc:
        return Sent("retry", f"Slack unreachable ({type(exc).__name__})", unreachable=True)
    except (httpx.InvalidURL, ValueError):  # their messages quote the URL: never pass them on
        return Sent("failed", "the Slack webhook URL is malformed")
    return _slack_answer(response.status_code, response.headers.get("Retry-After"),
                         response.text[:200])


class _Redact(logging.Filter):
    """Replaces a webhook URL in log records with its scheme and host (the path is the secret)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.forms = {url}
        try:
            parsed = httpx.URL(url)
            self.forms.add(str(parsed))  # how httpx prints it: normalised
            self.shown = f"{parsed.scheme}://{parsed.host}/…(webhook URL)"
        except (httpx.InvalidURL, ValueError):
            self.shown = "…(webhook URL)"

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(form in message for form in self.forms):
            for form in self.forms:
                message = message.replace(form, self.shown)
            record.msg, record.args = message, None
        return True


@contextmanager
def _unlogged(url: str) -> Iterator[None]:
    """httpx logs every request's full URL at INFO ("HTTP Request: POST https://hooks…"):
    while a webhook is posted, that record names only the host."""
    logger = logging.getLogger("httpx")
    redact = _Redact(url)
    logger.addFilter(redact)
    try:
        yield
    finally:
        logger.removeFilter(redact)


def _slack_answer(status: int, retry_after: str | None, body: str) -> Sent:
    if 200 <= status < 300:
        return Sent("sent")
    detail = f"Slack answered HTTP {status} {alerts.one_line(body)[:120]}".strip()
    if status == 429:
        return Sent("retry", detail, retry_after_s=_seconds(retry_after))
    if status >= 500 or status == 408:
        return Sent("retry", detail)
    return Sent("failed", detail)  # 400 invalid_payload, 403 invalid_token, 404 no_service...


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the retry schedule decides instead


def email_message(channel: Channel, content: alerts.EmailContent, key: str, now: datetime
                  ) -> EmailMessage:
    """A multipart/alternative message whose Message-ID is derived from the idempotency key."""
    msg = EmailMessage()
    msg["Subject"] = alerts.header(content.subject)
    msg["From"] = channel.sender
    msg["To"] = ", ".join(channel.recipients)
    msg["Date"] = format_datetime(now)
    domain = channel.sender.rsplit("@", 1)[-1]
    msg["Message-ID"] = f"<claimwatch.{alerts.header(key)}@{domain}>"
    msg["X-Claimwatch-Key"] = alerts.header(key)
    msg.set_content(content.text)
    msg.add_alternative(content.html, subtype="html")
    return msg


def _tls(channel: Channel) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=channel.ca_file)


def _open(channel: Channel) -> smtplib.SMTP:
    if channel.security == "tls":
        return smtplib.SMTP_SSL(channel.smtp_host, channel.smtp_port, timeout=channel.timeout_s,
                                context=_tls(channel))
    smtp = smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=channel.timeout_s)
    if channel.security == "starttls":
        smtp.starttls(context=_tls(channel))
    return smtp


def send_email(channel: Channel, creds: Credentials, message: EmailMessage) -> Sent:
    """Deliver over SMTP; 4xx replies, refusals and timeouts are retried, 5xx replies are not."""
    try:
        with _open(channel) as smtp:
            if creds.username and creds.password:
                smtp.login(creds.username, creds.password)
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        return _refused(exc.recipients)
    except smtplib.SMTPResponseException as exc:
        kind: Outcome = "retry" if 400 <= exc.smtp_code < 500 else "failed"
        return Sent(kind, f"SMTP {exc.smtp_code} {_smtp_text(exc.smtp_error)}")
    except smtplib.SMTPServerDisconnected:
        return Sent("retry", "SMTP server disconnected", unreachable=True)
    except ssl.SSLCertVerificationError as exc:
        return Sent("failed", f"SMTP TLS certificate refused ({exc.verify_message})")
    except smtplib.SMTPException as exc:  # e.g. STARTTLS or AUTH not offered: a config problem
        return Sent("failed", f"SMTP error ({type(exc).__name__}: {_smtp_text(str(exc))})")
    except OSError as exc:  # refused, reset, timed out, no route: the server is down
        return Sent("retry", f"SMTP server unreachable ({type(exc).__name__})", unreachable=True)
    if refused:  # accepted for the others: sending again would duplicate it for them
        return Sent("sent", _refused(refused).error)
    return Sent("sent")


def _refused(recipients: Mapping[str, tuple[int, bytes]]) -> Sent:
    codes = sorted({code for code, _ in recipients.values()})
    kind: Outcome = "retry" if all(400 <= c < 500 for c in codes) else "failed"
    return Sent(kind, f"SMTP refused {', '.join(sorted(recipients))} "
                      f"({', '.join(str(c) for c in codes)})")


def _smtp_text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return alerts.one_line(text)[:160]


def unconfigured(config: AlertsConfig) -> dict[str, str]:
    """Channel name -> what is missing, for every channel that cannot send right now."""
    found: dict[str, str] = {}
    for channel in config.channels:
        creds = credentials(channel)
        if isinstance(creds, str):
            found[channel.name] = creds
    return found


def resolve(path: str | None) -> AlertsConfig | None:
    """The alerts config to use: `path`, else seeds/alerts.toml when it exists; "" means none."""
    if path == "":
        return None
    if path is None:
        from claimwatch.flows.settings import DEFAULT_ALERTS

        return load(DEFAULT_ALERTS) if DEFAULT_ALERTS.is_file() else None
    return load(Path(path))
