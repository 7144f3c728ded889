"""alerts.toml read and checked -> AlertsConfig (policy.py); every problem names the file, the
channel and the key, before anything is sent or written."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from claimwatch.flows import settings
from claimwatch.flows.alerts import render as alerts
from claimwatch.flows.alerts.policy import ALERTING, AlertsConfig, Channel, Delivery, Rules
from claimwatch.flows.seeds import SeedError

SECURITY = ("starttls", "tls", "none")

COMMON_KEYS = {"name", "kind", "immediate", "digest", "only_claims", "only_tags", "claims",
               "digest_at", "digest_timezone", "digest_max_items", "timeout_s", "ops"}
KIND_KEYS = {
    "slack": COMMON_KEYS | {"webhook_url_env", "webhook_url_secret", "min_interval_s"},
    "email": COMMON_KEYS | {"smtp_host", "smtp_port", "security", "username_env", "password_env",
                            "username", "password_secret", "sender", "recipients", "ca_file"},
    "apprise": COMMON_KEYS | {"url_env", "url_secret", "min_interval_s"},
}
KINDS = tuple(KIND_KEYS)
TOP_KEYS = {"channels", "policy", "delivery"}
POLICY_KEYS = {"backlog_days", "max_immediate_per_run", "digest_at", "digest_timezone",
               "digest_max_items"}
DELIVERY_KEYS = {"retry_s", "give_up_after_s", "lease_s", "inline_wait_s"}


class AlertsConfigError(SeedError):
    """alerts.toml is unusable; the message names the file and the problem."""


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
    _keys(path, where, table, KIND_KEYS[kind])
    rules = _rules(path, where, table, Rules())
    digest_at, zone = _digest_at(path, where, table.get("digest_at", policy.get("digest_at", "run")),
                                 table.get("digest_timezone", policy.get("digest_timezone", "UTC")))
    common: dict[str, Any] = {
        "name": name, "kind": kind, "rules": rules,
        "per_claim": _per_claim(path, where, table.get("claims", {}), rules),
        "only_claims": _only(path, where, table, "only_claims", "claim ids"),
        "only_tags": _only(path, where, table, "only_tags", "source tags"),
        "digest_at": digest_at, "digest_timezone": zone,
        "digest_max_items": int(_number(path, where, table, "digest_max_items",
                                        policy.get("digest_max_items", 20), minimum=1)),
        "ops": _flag(path, where, table, "ops", True),
    }
    if kind == "slack":
        return _slack(path, where, table, common)
    if kind == "apprise":
        return _apprise(path, where, table, common)
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


def _only(path: Path, where: str, table: Mapping[str, Any], key: str, what: str
          ) -> frozenset[str] | None:
    value = table.get(key)
    if value is None:
        return None
    # An empty list would silence the channel for good: say so rather than obey.
    if not isinstance(value, list) or not value or not all(
            isinstance(v, str) and v.strip() for v in value):
        raise AlertsConfigError(path, f"{where}: {key} must be a non-empty list of {what} "
                                      "(leave it out to hear about all of them)")
    return frozenset(value)


def unmatched_tags(config: AlertsConfig, source_tags: Iterable[str]) -> dict[str, list[str]]:
    """Channel name -> its only_tags, for channels none of whose tags any source carries: such a
    channel would never hear anything (most often a typo)."""
    known = set(source_tags)
    return {c.name: sorted(c.only_tags) for c in config.channels
            if c.only_tags is not None and c.only_tags.isdisjoint(known)}


def _slack(path: Path, where: str, table: Mapping[str, Any], common: dict[str, Any]) -> Channel:
    env = _text(path, where, table, "webhook_url_env")
    block = _text(path, where, table, "webhook_url_secret")
    if env is None and block is None:
        raise AlertsConfigError(path, f"{where}: set webhook_url_env (the environment variable "
                                      "holding the webhook URL) or webhook_url_secret")
    return Channel(**common, webhook_url_env=env, webhook_url_secret=block,
                   timeout_s=_number(path, where, table, "timeout_s", 10.0),
                   min_interval_s=_number(path, where, table, "min_interval_s", 1.0))


def _apprise(path: Path, where: str, table: Mapping[str, Any], common: dict[str, Any]
             ) -> Channel:
    env = _text(path, where, table, "url_env")
    block = _text(path, where, table, "url_secret")
    if env is None and block is None:
        raise AlertsConfigError(path, f"{where}: set url_env (the environment variable holding "
                                      "the Apprise URL) or url_secret (a Prefect Secret block)")
    return Channel(**common, url_env=env, url_secret=block,
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


def resolve(path: str | None) -> AlertsConfig | None:
    """The alerts config to use: `path`, else seeds/alerts.toml when it exists; "" means none."""
    if path == "":
        return None
    if path is None:
        return load(settings.DEFAULT_ALERTS) if settings.DEFAULT_ALERTS.is_file() else None
    return load(Path(path))


