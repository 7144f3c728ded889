"""The whole cycle against a real HTTP server on 127.0.0.1 serving real pages, and a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from claimwatch.flows import settings
from claimwatch.flows.monitor import cycle
from claimwatch.flows.settings import DEFAULT_CLAIMS
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Article, ArticleVersion, Item
from tests.servers import FeedEntry, Route, SiteServer, rss
from tests.sites import fixture_page, serve_corpus_feed, write_sources

pytestmark = pytest.mark.usefixtures("prefect_api")


def _run(tmp_path: Path, sources: Path, db_url: str) -> dict:
    with settings.database(db_url):
        return cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources))


def _articles(db_url: str) -> list[Article]:
    with session(engine_for(db_url)) as s:
        return list(s.exec(select(Article)).all())


def test_second_cycle_over_unchanged_feeds_fetches_no_article_page(
    tmp_path: Path, corpus: Path, db_url: str
) -> None:
    with SiteServer() as server:
        paths = serve_corpus_feed(server, corpus, 8)
        sources = write_sources(tmp_path / "sources.toml", server, ["/feeds/world.xml"])
        first = _run(tmp_path, sources, db_url)
        assert first["poll"]["failed"] == {}
        assert first["read"]["new_articles"] >= 6, first["read"]
        assert sorted(server.hits("/articles/")) == sorted(paths)
        server.requests.clear()
        second = _run(tmp_path, sources, db_url)
    assert server.hits("/articles/") == []
    assert second["poll"]["not_modified"] == 1
    assert second["read"]["new_articles"] == 0 and second["read"]["new_versions"] == 0


def _postponed_site(server: SiteServer, body: str, stamp: datetime) -> None:
    url = server.url("/world/abu-dhabi-postponed.html")
    server.routes["/world/abu-dhabi-postponed.html"] = Route(fixture_page(
        "postponed", "Abu Dhabi talks postponed", "2026-02-03", url, body_file=body))
    entry = FeedEntry("Abu Dhabi talks postponed", url, "postponed-1", published=stamp)
    server.routes["/feeds/world.xml"] = Route(rss("Harbor", server.base_url, [entry]),
                                              "application/rss+xml")


def test_edited_article_becomes_version_2(tmp_path: Path, db_url: str) -> None:
    with SiteServer() as server:
        _postponed_site(server, "postponed", datetime(2026, 2, 3, 9, tzinfo=UTC))
        sources = write_sources(tmp_path / "sources.toml", server, ["/feeds/world.xml"])
        _run(tmp_path, sources, db_url)
        # The publisher corrects the story and bumps the entry's date, as feeds do.
        _postponed_site(server, "postponed_edited", datetime(2026, 2, 3, 11, tzinfo=UTC))
        second = _run(tmp_path, sources, db_url)
    assert second["read"]["new_versions"] == 1
    (article,) = _articles(db_url)
    assert article.latest_version == 2
    with session(engine_for(db_url)) as s:
        texts = {v.version: v.text for v in s.exec(select(ArticleVersion)).all()}
    assert "February 10" in texts[1] and "February 12" in texts[2]


def test_unchanged_text_in_a_changed_page_is_not_a_new_version(tmp_path: Path, db_url: str) -> None:
    with SiteServer() as server:
        _postponed_site(server, "postponed", datetime(2026, 2, 3, 9, tzinfo=UTC))
        sources = write_sources(tmp_path / "sources.toml", server, ["/feeds/world.xml"])
        _run(tmp_path, sources, db_url)
        page = server.routes["/world/abu-dhabi-postponed.html"]
        assert isinstance(page, Route)
        page.body = page.body.replace(b"Local bakery wins national prize", b"Storm warning for Tuesday")
        server.routes["/feeds/world.xml"] = Route(rss("Harbor", server.base_url, [FeedEntry(
            "Abu Dhabi talks postponed", server.url("/world/abu-dhabi-postponed.html"), "postponed-1",
            published=datetime(2026, 2, 3, 12, tzinfo=UTC))]), "application/rss+xml")
        second = _run(tmp_path, sources, db_url)
    assert second["read"]["read"] == 1 and second["read"]["new_versions"] == 0
    assert _articles(db_url)[0].latest_version == 1


def test_same_article_through_tracking_parameters_is_stored_once(tmp_path: Path, db_url: str
                                                                  ) -> None:
    with SiteServer() as server:
        url = server.url("/world/schedule.html")
        server.routes["/world/schedule.html"] = Route(fixture_page(
            "schedule", "Talks set for Abu Dhabi", "2026-01-26", url))
        entries = [
            FeedEntry("Talks set", url, "a-1"),
            FeedEntry("Talks set (shared)", url + "?utm_source=rss&utm_medium=feed&fbclid=x", "a-2"),
        ]
        server.routes["/feeds/a.xml"] = Route(rss("A", server.base_url, entries[:1]),
                                              "application/rss+xml")
        server.routes["/feeds/b.xml"] = Route(rss("B", server.base_url, entries[1:]),
                                              "application/rss+xml")
        sources = write_sources(tmp_path / "sources.toml", server, ["/feeds/a.xml", "/feeds/b.xml"])
        _run(tmp_path, sources, db_url)
        assert len(server.hits("/world/schedule.html")) == 1
    (article,) = _articles(db_url)
    assert article.url == url
    with session(engine_for(db_url)) as s:
        items = list(s.exec(select(Item)).all())
    assert len(items) == 2 and {i.article_id for i in items} == {article.id}


def test_failing_source_does_not_stop_the_others(tmp_path: Path, corpus: Path, db_url: str) -> None:
    with SiteServer() as server:
        serve_corpus_feed(server, corpus, 3)
        server.routes["/feeds/broken.xml"] = Route(b"oops", "text/plain", status=500)
        sources = write_sources(tmp_path / "sources.toml", server,
                                ["/feeds/broken.xml", "/feeds/world.xml", "/feeds/missing.xml"])
        result = _run(tmp_path, sources, db_url)
    assert set(result["poll"]["failed"].values()) == {"HTTP 500", "HTTP 404"}
    assert result["read"]["new_articles"] >= 2
