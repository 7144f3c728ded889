"""Schema migrations: an old database upgrades with its data intact; a newer one is refused."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel, select

from claimwatch.storage import db as storage_db
from claimwatch.storage import schema
from claimwatch.storage.db import DatabaseError, connect, engine_for, session
from claimwatch.storage.models import Article, ArticleVersion, ClaimRecord, Source
from tests import postgres

ROOT = Path(__file__).resolve().parent.parent

# Rows as the first schema stored them, written with plain SQL: the models may move on.
FIRST_SCHEMA_ROWS = [
    "INSERT INTO source (id, kind, name, url, tags, error_score, consecutive_failures,"
    " unhealthy_reported, added_at, etag) VALUES (1, 'feed', 'Harbor', 'http://127.0.0.1:9/f.xml',"
    " '[\"world\"]', 0.5, 1, false, '2026-02-01 08:00:00+00:00', '\"abc\"')",
    "INSERT INTO article (id, url, title, first_seen_at, latest_version) VALUES"
    " (1, 'http://127.0.0.1:9/a.html', 'Talks set', '2026-02-01 08:05:00+00:00', 1)",
    "INSERT INTO article_version (id, article_id, version, title, text, text_hash, fingerprint,"
    " fetched_at) VALUES (1, 1, 1, 'Talks set', 'Envoys meet on February 10.', 'h', 12345678901,"
    " '2026-02-01 08:05:00+00:00')",
    "INSERT INTO claim (id, statement, keywords, facts, state, added_at) VALUES ('abu-dhabi-talks',"
    " 'Talks in Abu Dhabi', '[]', '{\"date\": \"February 10\"}', '{\"date\": \"February 10\"}',"
    " '2026-02-01 08:00:00+00:00')",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind: a new SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with postgres.fresh_database("claimwatch_migration") as (user, name):
        yield postgres.url(user, name)
        for engine in [storage_db._ENGINES.pop(postgres.url(user, name), None)]:
            if engine is not None:
                engine.dispose()  # let DROP DATABASE go without waiting on pooled sessions


def _at_first_migration_with_data(url: str) -> None:
    engine = connect(url)
    schema.upgrade(engine, schema.FIRST_REVISION)
    with engine.begin() as conn:
        for sql in FIRST_SCHEMA_ROWS:
            conn.execute(text(sql))
    engine.dispose()


def _data_is_intact(url: str) -> None:
    with session(engine_for(url)) as s:
        (source,) = s.exec(select(Source)).all()
        (article,) = s.exec(select(Article)).all()
        (version,) = s.exec(select(ArticleVersion)).all()
        (claim,) = s.exec(select(ClaimRecord)).all()
    assert (source.name, source.tags, source.etag, source.error_score) == (
        "Harbor", ["world"], '"abc"', 0.5)
    assert source.added_at is not None and source.added_at.isoformat() == "2026-02-01T08:00:00+00:00"
    assert (article.url, article.latest_version) == ("http://127.0.0.1:9/a.html", 1)
    assert (version.text, version.fingerprint) == ("Envoys meet on February 10.", 12345678901)
    assert claim.state == {"date": "February 10"}


def test_a_database_at_the_first_migration_upgrades_on_start_with_its_data(url: str) -> None:
    _at_first_migration_with_data(url)
    assert schema.version(connect(url)).current == schema.FIRST_REVISION
    _data_is_intact(url)  # engine_for() ran the start-up check
    assert schema.version(engine_for(url)).current == schema.head()
    assert set(SQLModel.metadata.tables) <= set(inspect(engine_for(url)).get_table_names())


def test_a_database_made_before_migrations_is_recognised_and_upgraded(url: str) -> None:
    _at_first_migration_with_data(url)
    with connect(url).begin() as conn:  # what create_schema() left: tables, no version
        conn.execute(text("DROP TABLE alembic_version"))
    _data_is_intact(url)
    assert schema.version(engine_for(url)).current == schema.head()


def test_a_database_newer_than_the_code_is_refused(url: str) -> None:
    engine = connect(url)
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseError, match="schema version 9999, newer than this claimwatch"):
        engine_for(url)
    with pytest.raises(DatabaseError, match="newer than this claimwatch"):
        schema.upgrade(engine)


def test_db_commands_report_and_refuse_in_words(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"

    def claimwatch(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "claimwatch.flows.app.cli", *args, "--db", url],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)

    missing = claimwatch("db", "version")  # a read command: the database is named, not created
    assert missing.returncode == 2 and f"no claimwatch database at {tmp_path / 'c.db'}" in missing.stderr
    assert not (tmp_path / "c.db").exists()
    upgraded = claimwatch("db", "upgrade")
    assert upgraded.returncode == 0 and f"schema version {schema.head()} (was empty)" in upgraded.stdout
    with connect(url).begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    refused = claimwatch("sources")
    assert refused.returncode == 2
    assert "newer than this claimwatch" in refused.stderr and "Traceback" not in refused.stderr
    assert claimwatch("db", "version").returncode == 2


def test_the_migrations_build_exactly_what_the_models_describe(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'm.db'}")
    schema.upgrade(engine)
    with engine.connect() as conn:
        drift = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert drift == [], (
        "storage/models.py and storage/migrations disagree; write a migration "
        f"(storage/migrations/README.md): {drift}")
