"""The one module that reads the environment: paths, database URL and fetch limits."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CLAIMS = PROJECT_ROOT / "seeds" / "claims.toml"
DEFAULT_SOURCES = PROJECT_ROOT / "seeds" / "sources.toml"
DEFAULT_ALERTS = PROJECT_ROOT / "seeds" / "alerts.toml"
USER_AGENT = "claimwatch/0.1 (+https://github.com/claimwatch/claimwatch)"


def data_dir() -> Path:
    """Where the embedded SQLite database lives: $CLAIMWATCH_HOME or ~/.claimwatch."""
    home = os.environ.get("CLAIMWATCH_HOME")
    return Path(home) if home else Path.home() / ".claimwatch"


def database_url(explicit: str | None = None) -> str:
    """--db wins, then $CLAIMWATCH_DATABASE_URL, then a SQLite file in data_dir()."""
    if explicit:
        return explicit
    env = os.environ.get("CLAIMWATCH_DATABASE_URL")
    if env:
        return env
    return f"sqlite:///{data_dir() / 'claimwatch.db'}"


def allow_private_networks(file_setting: bool) -> bool:
    """CLAIMWATCH_ALLOW_PRIVATE_NETWORKS overrides sources.toml either way when set."""
    env = os.environ.get("CLAIMWATCH_ALLOW_PRIVATE_NETWORKS")
    if env is None or env == "":
        return file_setting
    return env.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Numbers from ../shared/RELIABILITY.md part C; tests shrink them through the env."""

    connect_timeout_s: float = 10.0
    read_timeout_s: float = 10.0
    feed_deadline_s: float = 20.0
    page_deadline_s: float = 30.0
    max_feed_bytes: int = 15 * 1024 * 1024
    max_page_bytes: int = 20_000_000
    max_redirects: int = 5
    max_url_length: int = 2048
    max_items_per_poll: int = 500
    per_host_concurrency: int = 2
    fetch_workers: int = 16


def fetch_limits() -> FetchLimits:
    """Limits with optional overrides, e.g. CLAIMWATCH_PAGE_DEADLINE_S=2 in tests."""
    defaults = FetchLimits()
    values: dict[str, float | int] = {}
    for name in FetchLimits.__dataclass_fields__:
        raw = os.environ.get(f"CLAIMWATCH_{name.upper()}")
        if raw:
            current = getattr(defaults, name)
            values[name] = type(current)(float(raw)) if isinstance(current, int) else float(raw)
    return FetchLimits(**values)  # type: ignore[arg-type]


def extract_workers() -> int:
    """Processes for text extraction: $CLAIMWATCH_EXTRACT_WORKERS or one per core."""
    raw = os.environ.get("CLAIMWATCH_EXTRACT_WORKERS")
    if raw:
        return max(1, int(raw))
    return max(1, os.cpu_count() or 1)


def report_url() -> str | None:
    """Where people open `claimwatch report`'s index.html ($CLAIMWATCH_REPORT_URL), if anywhere.

    Alerts and the run artifact link to a claim's section there; unset, they carry no such link.
    """
    raw = os.environ.get("CLAIMWATCH_REPORT_URL", "").strip()
    return raw or None
