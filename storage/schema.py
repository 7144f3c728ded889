"""The database's schema version: Alembic migrations to head, and the check made at start-up.

Policy (deploy/README.md says it to users): a database older than the code is upgraded
automatically when claimwatch opens it, under a lock, so the first process to start does it
once; a database newer than the code is refused, because old code writing to a newer schema
could lose what the newer code stores. `claimwatch db upgrade` does the same upgrade on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from claimwatch.storage.db import DatabaseError, redact

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"  # what create_schema() made before migrations existed
# Any fixed number will do: it only has to be the same in every claimwatch process.
PG_MIGRATION_LOCK = 7_302_161_706_115_051


@dataclass(frozen=True, slots=True)
class SchemaVersion:
    current: str | None  # None: an empty database
    head: str  # the newest migration this code knows


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The newest schema version this code knows."""
    revision = _scripts().get_current_head()
    assert revision is not None, "storage/migrations/versions holds no migration"
    return revision


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def version(engine: Engine) -> SchemaVersion:
    with engine.connect() as conn:
        return SchemaVersion(_current(conn), head())


def known(revision: str) -> bool:
    """Whether this code has the migration `revision` (else the database is newer)."""
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _refuse_newer(engine: Engine, current: str | None) -> None:
    if current is not None and not known(current):
        raise DatabaseError(
            f"the database {redact(str(engine.url))} has schema version {current}, newer than "
            f"this claimwatch knows (up to {head()}): a newer claimwatch upgraded it. Run that "
            "newer claimwatch, or restore a backup taken before the upgrade."
        )


def _lock(conn: Connection) -> None:
    # SQLite: the transaction began with BEGIN IMMEDIATE (storage.db), which is the lock.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})


def _unversioned_claimwatch(conn: Connection) -> bool:
    """Tables made by create_schema() before migrations existed, with no version recorded."""
    return "source" in inspect(conn).get_table_names()


def upgrade(engine: Engine, target: str = "head") -> tuple[str | None, str]:
    """Apply every migration up to head (or target), under a lock; return versions before, after."""
    config = _config()
    with engine.begin() as conn:
        _lock(conn)
        before = _current(conn)  # read under the lock: a process that waited sees the new one
        _refuse_newer(engine, before)
        config.attributes["connection"] = conn
        if before is None and _unversioned_claimwatch(conn):
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, target)
        after = _current(conn)
    assert after is not None
    return before, after


def _missing_tables(engine: Engine) -> list[str]:
    present = set(inspect(engine).get_table_names())
    return sorted(set(SQLModel.metadata.tables) - present)


def ensure_current(engine: Engine) -> None:
    """Start-up check: upgrade an older database, refuse a newer one, catch a missing migration."""
    found = version(engine)
    _refuse_newer(engine, found.current)
    if found.current != found.head:
        upgrade(engine)
    missing = _missing_tables(engine)
    if missing:
        raise DatabaseError(
            f"storage/models.py defines table(s) {', '.join(missing)} that no migration creates:"
            " add one (storage/migrations/README.md says how)"
        )
