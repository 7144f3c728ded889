"""SIGKILL at named points of a cycle, then run again: nothing lost, nothing stored twice.

The crashed cycle runs as the real command in a subprocess (`python -m flows.cli run`) that
kills itself at a crash point (flows/crashpoints.py). The recovery cycle runs in-process. The
final database is compared with a reference database built by one uninterrupted cycle.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from claimwatch.flows import settings
from claimwatch.flows.monitor import cycle
from claimwatch.flows.settings import DEFAULT_CLAIMS, PROJECT_ROOT
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Article, ArticleVersion, Development, Item, Match, Source
from tests.servers import FeedEntry, Route, SiteServer, rss
from tests.sites import english_corpus_pages, fixture_page, write_sources

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

FEEDS = ["/feeds/world.xml", "/feeds/wire.xml"]


def _serve(server: SiteServer, corpus: Path) -> None:
    """Two feeds: our fixture stories (which match claims) and real corpus pages."""
    world: list[FeedEntry] = []
    for i, (name, title, date) in enumerate([
        ("schedule", "Talks set for Abu Dhabi", "2026-01-26"),
        ("postponed", "Abu Dhabi talks postponed", "2026-02-03"),
    ]):
        path = f"/world/{name}.html"
        server.routes[path] = Route(fixture_page(name, title, date, server.url(path)))
        world.append(FeedEntry(title, server.url(path), f"w-{i}",
                               published=datetime(2026, 2, 1 + i, tzinfo=UTC)))
    wire: list[FeedEntry] = []
    for i, page in enumerate(english_corpus_pages(corpus, 4)):
        path = f"/wire/{i}.html"
        server.routes[path] = Route(page.read_bytes())
        wire.append(FeedEntry(f"Wire story {i}", server.url(path), f"c-{i}"))
    server.routes[FEEDS[0]] = Route(rss("World", server.base_url, world), "application/rss+xml")
    server.routes[FEEDS[1]] = Route(rss("Wire", server.base_url, wire), "application/rss+xml")


def _state(db_url: str, base_url: str) -> dict[str, Any]:
    """Everything that must be neither lost nor doubled, with the server's port taken out."""
    def rel(url: str) -> str:
        return url.replace(base_url, "")

    with session(engine_for(db_url)) as s:
        articles = {a.id: rel(a.url) for a in s.exec(select(Article)).all()}
        versions = {v.id: (articles[v.article_id], v.version)
                    for v in s.exec(select(ArticleVersion)).all()}
        return {
            "items": sorted((i.source_id, i.key, i.article_id is not None, i.pending)
                            for i in s.exec(select(Item)).all()),
            "articles": sorted(articles.values()),
            "versions": sorted(versions.values()),
            "unmatched": sum(1 for v in s.exec(select(ArticleVersion)).all()
                             if v.matched_at is None),
            # Which article matched which claim. The relation and the developments depend on
            # the order articles finish downloading (see the README), so they are checked
            # for duplicates below rather than compared with the reference.
            "matched": sorted((m.claim_id, *versions[m.article_version_id])
                              for m in s.exec(select(Match)).all()),
        }


def _no_development_twice(db_url: str) -> None:
    with session(engine_for(db_url)) as s:
        changes = [(d.claim_id, json.dumps(d.changes, sort_keys=True))
                   for d in s.exec(select(Development)).all()]
        matched = [m.development_id for m in s.exec(select(Match)).all() if m.development_id]
    assert len(changes) == len(set(changes)), changes
    assert len(changes) == len(set(matched))  # each development has its evidence


def _etags_never_ahead_of_items(db_url: str) -> None:
    """A source whose ETag is stored has every item of its feed stored too."""
    with session(engine_for(db_url)) as s:
        for source in s.exec(select(Source)).all():
            items = s.exec(select(Item).where(col(Item.source_id) == source.id)).all()
            if source.etag is not None:
                assert len(items) == (2 if source.url.endswith(FEEDS[0]) else 4), source.url
            else:
                assert source.last_modified is None


def _crash(at: str, sources: Path, db_url: str, api: str, log: Path) -> int:
    """Run the command until it kills itself at `at`; return its exit code.

    It gets a session of its own so that anything it leaves behind can be found: nothing may
    (extraction workers watch their parent and exit, see flows/articles.py).
    """
    env = {**os.environ, "CLAIMWATCH_CRASH_AT": at, "PREFECT_API_URL": api,
           "CLAIMWATCH_EXTRACT_WORKERS": "2"}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "claimwatch.flows.app.cli", "run", "--claims", str(DEFAULT_CLAIMS),
             "--sources", str(sources), "--db", db_url],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        code = proc.wait(timeout=300)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _group_alive(proc.pid):
        time.sleep(0.2)
    leftover = _group_alive(proc.pid)
    if leftover:
        os.killpg(proc.pid, signal.SIGKILL)  # our own process group, started just above
    assert not leftover, "processes of the killed cycle outlived it"
    return code


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _run(sources: Path, db_url: str) -> dict[str, Any]:
    with settings.database(db_url):
        return cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources))


@pytest.fixture(scope="module")
def site(corpus: Path, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[SiteServer, Path, dict[str, Any]]]:
    """The site, its sources.toml, and the state one uninterrupted cycle leaves behind."""
    folder = tmp_path_factory.mktemp("reference")
    with SiteServer() as server:
        _serve(server, corpus)
        sources = write_sources(folder / "sources.toml", server, FEEDS)
        reference_db = f"sqlite:///{folder / 'reference.db'}"
        _run(sources, reference_db)
        reference = _state(reference_db, server.base_url)
        assert reference["matched"], reference  # a real test: claims are matched
        assert len(reference["articles"]) >= 5 and reference["unmatched"] == 0
        yield server, sources, reference


# Killed after an alert is sent ("after-alert-send") and around it: tests/test_outbox.py CRASH_POINTS.
@pytest.mark.parametrize("point", ["mid-polling", "after-polling", "mid-extraction",
                                   "after-matches-stored"])
def test_killed_cycle_then_rerun_loses_nothing_and_doubles_nothing(
    site: tuple[SiteServer, Path, dict[str, Any]], db_url: str, prefect_api: str, point: str,
    tmp_path: Path,
) -> None:
    server, sources, reference = site
    log = tmp_path / "crashed.log"
    code = _crash(point, sources, db_url, prefect_api, log)
    assert code == -signal.SIGKILL, log.read_text()[-2000:]
    _etags_never_ahead_of_items(db_url)
    before = _state(db_url, server.base_url)
    if point == "mid-polling":  # one feed committed with its ETag, the other not at all
        with session(engine_for(db_url)) as s:
            assert sorted(src.etag is None for src in s.exec(select(Source)).all()) == [False, True]
    if point == "mid-extraction":
        assert 1 <= len(before["articles"]) < len(reference["articles"])
    if point == "after-matches-stored":
        assert before["articles"] == reference["articles"] and before["unmatched"] > 0

    _run(sources, db_url)
    after = _state(db_url, server.base_url)
    assert after == reference
    _no_development_twice(db_url)
    # A third cycle finds nothing new: no page read again, nothing stored again.
    server.requests.clear()
    third = _run(sources, db_url)
    assert server.hits("/world/") == [] and server.hits("/wire/") == []
    assert third["read"]["new_articles"] == 0 and _state(db_url, server.base_url) == reference
    assert third["match"]["developments"] == []
