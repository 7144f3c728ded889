"""Storage on a real SQLite file and on the real PostgreSQL at 127.0.0.1: the same tests, both."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, text
from sqlmodel import select

from claimwatch.flows.extract.articles import ExtractedArticle
from claimwatch.flows.fetch.feeds import ParsedItem
from claimwatch.flows.fetch.polling import FeedPoll
from claimwatch.flows.fetch.reading import ReadRequest, ReadResult
from claimwatch.flows.seeds import SourceSpec
from claimwatch.flows.stages.polls import PollSummary, store_poll
from claimwatch.flows.stages.reads import ReadSummary, store_read
from claimwatch.storage import articles, inserts, leases, schema, sources
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Article, ArticleVersion, Item, Source
from tests import postgres

NOW = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
TABLES = ("alert", "match", "development", "item", "article_version", "article", "claim",
          "source", "run", "lease")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One fresh database for the session on 127.0.0.1:5432, dropped afterwards."""
    with postgres.fresh_database() as (user, name):
        yield postgres.url(user, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL with an empty, migrated schema: a new SQLite file, or PostgreSQL emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'claimwatch.db'}"
    url: str = request.getfixturevalue("postgres_url")
    engine = engine_for(url)
    with engine.begin() as conn:
        present = [t for t in TABLES if t in inspect(conn).get_table_names()]
        conn.execute(text(f"TRUNCATE {', '.join(present)} RESTART IDENTITY CASCADE"))
    return url


def _at_once(work: Callable[[], object], times: int = 4) -> list[BaseException]:
    """Run `work` in `times` threads released together; return what they raised."""
    gate, errors = threading.Barrier(times), []

    def one() -> None:
        gate.wait()
        try:
            work()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _count(url: str, model: type, *where: object) -> int:
    with session(engine_for(url)) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def test_a_new_database_is_at_the_newest_schema_version(db: str) -> None:
    found = schema.version(engine_for(db))
    assert found.current == found.head == schema.head()


def test_sources_synced_by_many_workers_at_once_are_stored_once(db: str) -> None:
    specs = [SourceSpec("feed", f"Feed {i}", f"http://127.0.0.1:9/feed{i}.xml") for i in range(5)]
    engine = engine_for(db)

    def sync() -> None:
        with session(engine) as s:
            sources.sync_sources(s, specs, NOW)

    assert _at_once(sync) == []
    assert _count(db, Source) == 5


def test_the_same_feed_items_stored_at_once_are_stored_once(db: str) -> None:
    engine = engine_for(db)
    with session(engine) as s:
        (source,) = sources.sync_sources(s, [SourceSpec("feed", "F", "http://127.0.0.1:9/f")], NOW)
    items = tuple(ParsedItem(key=f"guid-{i}", url=f"http://127.0.0.1:9/a{i}", title=f"A{i}",
                             revision=f"r{i}", published_at=NOW) for i in range(3))
    poll = FeedPoll(source.id, "ok", items)  # type: ignore[arg-type]
    summaries = [PollSummary() for _ in range(4)]
    workers = iter(summaries)
    lock = threading.Lock()

    def store() -> None:
        with lock:
            summary = next(workers)
        store_poll(engine, poll, NOW, summary)

    assert _at_once(store) == []
    assert _count(db, Item) == 3
    assert sum(s.new_items for s in summaries) == 3  # each item counted new exactly once


def _read_result(url: str, item_ids: tuple[int, ...], body: str) -> ReadResult:
    article = ExtractedArticle(url=url, canonical_url=None, title="Talks set for Abu Dhabi",
                               author=None, published_at=NOW, language="en", sitename="Harbor",
                               text=body)
    return ReadResult(ReadRequest(url, item_ids), url, article)


def test_the_same_article_read_by_two_workers_at_once_is_stored_once(db: str) -> None:
    engine = engine_for(db)
    url = "http://127.0.0.1:9/world/schedule.html"
    result = _read_result(url, (), "Envoys will meet in Abu Dhabi on February 10. " * 20)
    summaries = [ReadSummary() for _ in range(4)]
    workers = iter(summaries)
    lock = threading.Lock()

    def store() -> None:
        with lock:
            summary = next(workers)
        store_read(engine, result, NOW, summary)

    assert _at_once(store) == []
    assert _count(db, Article) == 1 and _count(db, ArticleVersion) == 1
    assert sum(s.new_articles for s in summaries) == 1
    assert sum(s.unchanged for s in summaries) == 3


def test_add_unless_present_says_whether_it_added(db: str) -> None:
    with session(engine_for(db)) as s:
        first = inserts.add_unless_present(
            s, Source(kind="feed", name="A", url="http://127.0.0.1:9/a", added_at=NOW), ("url",))
        again = inserts.add_unless_present(
            s, Source(kind="feed", name="B", url="http://127.0.0.1:9/a", added_at=NOW), ("url",))
    assert (first, again) == (True, False)
    with session(engine_for(db)) as s:
        (row,) = s.exec(select(Source)).all()
    assert row.name == "A" and row.added_at == NOW  # aware UTC on the way out, on both


def test_a_version_is_taken_for_matching_by_one_worker_only(db: str) -> None:
    engine = engine_for(db)
    store_read(engine, _read_result("http://127.0.0.1:9/x", (), "Some text. " * 30), NOW,
               ReadSummary())
    with session(engine) as s:
        (version,) = s.exec(select(ArticleVersion)).all()
    taken: list[bool] = []

    def take() -> None:
        with session(engine) as s:
            taken.append(bool(articles.take_versions(s, [version.id], NOW)))

    assert _at_once(take) == []
    assert sorted(taken) == [False, False, False, True]


def test_a_lease_is_held_by_one_run_and_free_again_after(db: str) -> None:
    engine = engine_for(db)
    results: list[leases.Grant | leases.Busy] = []
    _at_once(lambda: results.append(leases.take(engine, "cycle all", NOW)))
    grants = [r for r in results if isinstance(r, leases.Grant)]
    assert len(grants) == 1 and len(results) == 4
    busy = next(r for r in results if isinstance(r, leases.Busy))
    assert "already running" in busy.message() and grants[0].holder in busy.message()
    assert isinstance(leases.take(engine, "cycle 1/2", NOW), leases.Grant)  # another shard
    leases.release(engine, grants[0])
    assert isinstance(leases.take(engine, "cycle all", NOW), leases.Grant)


def test_an_expired_lease_is_taken_over(db: str) -> None:
    engine = engine_for(db)
    assert isinstance(leases.take(engine, "cycle all", NOW, ttl=timedelta(minutes=1)),
                      leases.Grant)
    assert isinstance(leases.take(engine, "cycle all", NOW + timedelta(seconds=30)), leases.Busy)
    assert isinstance(leases.take(engine, "cycle all", NOW + timedelta(minutes=2)), leases.Grant)
