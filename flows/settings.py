"""The one module that reads the environment: paths, database URL, fetch limits, Prefect defaults.

Values come from `CLAIMWATCH_*` variables, checked by pydantic-settings: a bad one is refused
with a line naming the variable and what it accepts (SettingsError), before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

# In a checkout this is the repository; in an installed claimwatch, site-packages/claimwatch,
# where the seeds ship as package data (pyproject.toml): both hold seeds/ beside flows/.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT_ROOT / "seeds"
DEFAULT_CLAIMS = SEEDS / "claims.toml"
DEFAULT_SOURCES = SEEDS / "sources.toml"
DEFAULT_ALERTS = SEEDS / "alerts.toml"
USER_AGENT = "claimwatch/0.1 (+https://github.com/claimwatch/claimwatch)"
PREFIX = "CLAIMWATCH_"

Seconds = Annotated[float, Field(gt=0)]
Count = Annotated[int, Field(ge=1)]


class SettingsError(ValueError):
    """A CLAIMWATCH_* variable holds a value claimwatch cannot use; the message says which."""


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Numbers from ../shared/RELIABILITY.md part C (the defaults); the environment overrides."""

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


_LIMITS = FetchLimits()


class Environment(BaseSettings):
    """Every CLAIMWATCH_* variable; unset or empty ones take the default."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, env_ignore_empty=True, extra="ignore",
                                      frozen=True)

    home: Path | None = None
    cache_dir: Path | None = None
    database_url: str | None = None
    workdir: Path | None = None  # a deployment's working directory on this worker
    allow_private_networks: bool | None = None
    extract_workers: Count | None = None
    report_url: str | None = None
    report_dir: Path | None = None
    # Fetch limits (../shared/RELIABILITY.md part C); tests shrink them.
    connect_timeout_s: Seconds = _LIMITS.connect_timeout_s
    read_timeout_s: Seconds = _LIMITS.read_timeout_s
    feed_deadline_s: Seconds = _LIMITS.feed_deadline_s
    page_deadline_s: Seconds = _LIMITS.page_deadline_s
    max_feed_bytes: Count = _LIMITS.max_feed_bytes
    max_page_bytes: Count = _LIMITS.max_page_bytes
    max_redirects: Annotated[int, Field(ge=0)] = _LIMITS.max_redirects
    max_url_length: Count = _LIMITS.max_url_length
    max_items_per_poll: Count = _LIMITS.max_items_per_poll
    per_host_concurrency: Count = _LIMITS.per_host_concurrency
    fetch_workers: Count = _LIMITS.fetch_workers


_ACCEPTS = {"int_parsing": "a whole number", "float_parsing": "a number",
            "bool_parsing": "true or false (1/0, yes/no, on/off)",
            "greater_than_equal": "a number of at least {ge}", "greater_than": "a number above {gt}"}


_UNITS = {"_BYTES": " (bytes, e.g. 20000000)", "_S": " (seconds)"}


def _explain(error: ValidationError) -> str:
    """One line: the variable, its value and what it accepts."""
    first = error.errors()[0]
    name = PREFIX + str(first["loc"][0]).upper() if first["loc"] else PREFIX + "?"
    wanted = _ACCEPTS.get(first["type"], first["msg"]).format(**(first.get("ctx") or {}))
    unit = next((u for end, u in _UNITS.items() if name.endswith(end)), "")
    return f"{name}={first.get('input')!s}: must be {wanted}{unit}"


def environment() -> Environment:
    """The CLAIMWATCH_* settings, checked; SettingsError names the first bad variable."""
    try:
        return Environment()
    except ValidationError as exc:
        raise SettingsError(_explain(exc)) from None


def data_dir() -> Path:
    """Where the embedded SQLite database lives: $CLAIMWATCH_HOME or ~/.claimwatch."""
    return environment().home or Path.home() / ".claimwatch"


def cache_dir() -> Path:
    """Where derived data is kept between runs (the engine's compiled knowledge):
    $CLAIMWATCH_CACHE_DIR, else $XDG_CACHE_HOME/claimwatch, else ~/.cache/claimwatch."""
    explicit = environment().cache_dir
    if explicit:
        return explicit
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "claimwatch"


def database_url(explicit: str | None = None) -> str:
    """--db wins, then $CLAIMWATCH_DATABASE_URL, then a SQLite file in data_dir()."""
    if explicit:
        return explicit
    return environment().database_url or f"sqlite:///{data_dir() / 'claimwatch.db'}"


def allow_private_networks(file_setting: bool) -> bool:
    """CLAIMWATCH_ALLOW_PRIVATE_NETWORKS overrides sources.toml either way when set."""
    env = environment().allow_private_networks
    return file_setting if env is None else env


def fetch_limits() -> FetchLimits:
    """Limits with overrides, e.g. CLAIMWATCH_PAGE_DEADLINE_S=2 in tests."""
    env = environment()
    return FetchLimits(**{f.name: getattr(env, f.name) for f in fields(FetchLimits)})


def extract_workers() -> int:
    """Processes for extraction and matching: $CLAIMWATCH_EXTRACT_WORKERS or one per core."""
    return environment().extract_workers or max(1, os.cpu_count() or 1)


def report_url() -> str | None:
    """Where people open `claimwatch report`'s index.html ($CLAIMWATCH_REPORT_URL), if anywhere.

    Alerts and the run artifact link to a claim's section there; unset, they carry no such link.
    """
    raw = (environment().report_url or "").strip()
    return raw or None


def report_dir() -> Path | None:
    """Where each cycle writes the report (index.html, developments.xml), if anywhere:
    $CLAIMWATCH_REPORT_DIR, which `run --report DIR` and `serve --report DIR` set."""
    found = environment().report_dir
    return found.expanduser() if found else None


def env_secret(name: str) -> str | None:
    """The value of the environment variable an alerts.toml channel names (read at send time)."""
    return os.environ.get(name) or None


def crash_at() -> str | None:
    """The armed crash point (CLAIMWATCH_CRASH_AT, tests only): read on every call, cheaply."""
    return os.environ.get(PREFIX + "CRASH_AT")


# Prefect's temporary server must answer within 20 s by default, and its first start builds its
# database: on a busy 2-core machine that failed three times out of three (issue 14).
LOCAL_SERVER_START_S = 90


def quiet_prefect() -> None:
    """Prefect offline and calm by default; the user's own settings win."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_UVICORN_LEVEL", "ERROR")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS",
                          str(LOCAL_SERVER_START_S))


def prefect_api_url() -> str | None:
    """$PREFECT_API_URL: a Prefect server to run against, when one is configured."""
    return os.environ.get("PREFECT_API_URL") or None


def local_server_start_s() -> str:
    """How long Prefect's temporary server may take to start, as configured (for messages)."""
    return os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "20")


def worker_directory() -> Path:
    """Where a deployment's runs work on this worker: $CLAIMWATCH_WORKDIR, else the installed
    claimwatch (it holds seeds/), so relative seed paths resolve the same on every worker."""
    chosen = environment().workdir
    if chosen is None:
        return PROJECT_ROOT
    if not chosen.is_dir():
        raise SettingsError(f"{PREFIX}WORKDIR={chosen}: must be an existing folder")
    return chosen


def database(url: str | None) -> AbstractContextManager[None]:
    """$CLAIMWATCH_DATABASE_URL set to `url` for a block (None or "": left as it is), then
    restored.

    How `--db` reaches the stages: they read the URL where they need it, so it never travels
    as a parameter that Prefect would record and show.
    """
    return exported(PREFIX + "DATABASE_URL", url or None)


def export(name: str, value: str) -> None:
    """Put a value in this process's environment for the subprocesses it starts (serve: the
    database URL travels this way, never as a flow parameter; the local server's API URL)."""
    os.environ[name] = value


@contextmanager
def exported(name: str, value: str | None) -> Iterator[None]:
    """export() for as long as the block runs, then the variable as it was (None: untouched)."""
    if value is None:
        yield
        return
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
