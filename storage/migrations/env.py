"""Alembic's entry: run the migrations on the connection storage.schema hands over.

storage.schema opens the transaction and takes the migration lock before Alembic reads the
current version, so two processes starting at once never both apply the same migration.
Run from the `alembic` command line (to write a new migration), the URL is given with
`-x url=...` (storage/migrations/README.md): storage never reads claimwatch's settings.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import claimwatch.storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from claimwatch.storage.db import connect
from claimwatch.storage.models import UTCDateTime

config = context.config
target_metadata = SQLModel.metadata


def _render_item(kind: str, item: Any, _autogen: Any) -> str | Literal[False]:
    """Write plain SQLAlchemy types into new migrations, never claimwatch's or sqlmodel's own:
    a migration must not change when the models do."""
    if kind != "type":
        return False
    if isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(item, AutoString):
        return f"sa.String(length={item.length})" if item.length else "sa.String()"
    return False


def _configure(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite can only alter a table by copying it; batch mode does that
        compare_type=True,
        render_item=_render_item,
        transactional_ddl=True,  # SQLite and PostgreSQL both roll DDL back with the transaction
    )


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # storage.schema: inside its transaction, lock held
        _configure(connection)
        context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url")
    if not url:
        raise SystemExit("give the database to compare with: alembic ... -x url=sqlite:///draft.db")
    engine = connect(url)
    with engine.begin() as conn:
        _configure(conn)
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("claimwatch migrations run online only (storage.schema.upgrade)")
run_online()
