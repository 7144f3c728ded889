"""Engines from a URL (SQLite by default, PostgreSQL for scale), sessions and schema set-up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlmodel import Session, create_engine

import claimwatch.storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

SQLITE_BUSY_TIMEOUT_MS = 15_000


class DatabaseError(RuntimeError):
    """The database URL is unusable; the message says why in a user's words."""


def _sqlite_pragmas(engine: Engine) -> None:
    # pysqlite's own transaction handling would issue a plain BEGIN (deferred), which lets two
    # writers deadlock into "database is locked"; we take the write lock up front instead.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _parsed(url: str) -> URL:
    """The URL parsed, or a DatabaseError that shows it without its password."""
    try:
        return make_url(url)
    except Exception as exc:
        raise DatabaseError(f"not a database URL: {redact(url)!r} ({exc})") from None


def connect(url: str) -> Engine:
    """Create an engine; a SQLite file's folder is created, other URLs are used as given."""
    parsed = _parsed(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _sqlite_pragmas(engine)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"the driver for {parsed.get_backend_name()} is not installed ({exc.name});"
            " for PostgreSQL: pip install 'claimwatch[postgres]'"
        ) from None


def missing_file(url: str) -> Path | None:
    """The SQLite file a URL names when that file does not exist; None when it does, or when
    the URL is not a SQLite file (a server database exists or fails to connect on its own).
    Commands that only read call this first, so a mistyped path creates nothing."""
    parsed = _parsed(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database).expanduser()
    return None if path.is_file() else path


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


def redact(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparseable, so its user-info goes whole (the error may quote the URL)
        return re.sub(r"^([^:/]+://)[^/?#]*@", r"\1", url)


_ENGINES: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """One engine per URL per process, its schema migrated to head (storage/schema.py)."""
    engine = _ENGINES.get(url)
    if engine is None:
        from claimwatch.storage import schema  # imports this module: kept out of the import cycle

        engine = connect(url)
        schema.ensure_current(engine)
        _ENGINES[url] = engine
    return engine
