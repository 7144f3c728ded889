"""Fresh PostgreSQL databases on 127.0.0.1:5432 for tests, dropped afterwards.

Outside CI a missing server skips the PostgreSQL cases with the reason; in CI (CI=true) it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

HOST, PORT = "127.0.0.1", 5432
USERS = ("postgres", "root")  # trust auth; whichever this machine has
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _admin() -> tuple[str, str | None]:
    """A user that can create databases, or why none could connect."""
    import psycopg

    errors: list[str] = []
    for user in USERS:
        try:
            with psycopg.connect(host=HOST, port=PORT, user=user, dbname="postgres",
                                 connect_timeout=3):
                return user, None
        except psycopg.Error as exc:
            errors.append(f"{user}: {str(exc).strip().splitlines()[0]}")
    return "", "; ".join(errors)


def admin_user() -> str:
    user, problem = _admin()
    if problem:
        reason = f"PostgreSQL at {HOST}:{PORT} unreachable ({problem})"
        if IN_CI:
            pytest.fail(f"{reason}, and CI=true requires it")
        pytest.skip(f"{reason}: outside CI the PostgreSQL cases skip")
    return user


def _execute(user: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(host=HOST, port=PORT, user=user, dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@contextmanager
def fresh_database(prefix: str = "claimwatch_test") -> Iterator[tuple[str, str]]:
    """Create a uniquely named database; yield (user, name); drop it (and its sessions) after."""
    user = admin_user()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _execute(user, f'CREATE DATABASE "{name}"')
    try:
        yield user, name
    finally:
        _execute(user, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def url(user: str, name: str, driver: str = "psycopg") -> str:
    return f"postgresql+{driver}://{user}@{HOST}:{PORT}/{name}"
