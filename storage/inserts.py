"""Idempotent inserts: many rows of one table in one statement, a row per natural key at most."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

CHUNK = 500  # values per IN (...) list: far below SQLite's and PostgreSQL's limits


def add_unless_present(s: Session, row: SQLModel, keys: Sequence[str]) -> bool:
    """INSERT … ON CONFLICT (keys) DO NOTHING, on SQLite and PostgreSQL alike; True if added.

    Two workers storing the same natural key at once: one row, and no IntegrityError for the
    other (RELIABILITY.md rule 11). The row is not added to the session: read it back by key.
    """
    return bool(insert_missing(s, [row], keys))


def insert_missing(s: Session, rows: Sequence[SQLModel], keys: Sequence[str]
                   ) -> set[tuple[Any, ...]]:
    """add_unless_present for many rows of one table in one statement: the keys of those added.

    One compiled INSERT for the whole batch (SQLAlchemy's "insertmanyvalues") instead of one
    statement built per row: building statements was most of the writer's CPU (issue 8).
    """
    if not rows:
        return set()
    table = type(rows[0]).__table__  # type: ignore[attr-defined]
    values = [row.model_dump(exclude={"id"} if getattr(row, "id", 0) is None else set())
              for row in rows]
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (insert(table).on_conflict_do_nothing(index_elements=list(keys))
                 .returning(*(table.c[k] for k in keys)))
    s.flush()
    return {tuple(row) for row in s.execute(statement, values)}
