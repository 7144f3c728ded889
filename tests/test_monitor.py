"""The whole cycle against a real HTTP server on 127.0.0.1 serving real pages, and a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from claimwatch.flows import settings, shards
from claimwatch.flows.cycle import EverySourceFailed
from claimwatch.flows.monitor import cycle, outcome
from claimwatch.flows.settings import DEFAULT_CLAIMS
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Article, ArticleVersion, Item, Run
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


# ---------------------------------------------------------------- what Prefect shows of a run


def _flow_run(flow_run_id: object) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)  # type: ignore[arg-type]


def _logs(flow_run_id: object) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # logs of in-process runs go out in batches
    with get_client(sync_client=True) as client:
        return list(client.read_logs(LogFilter(
            flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))))  # type: ignore[list-item]


def _run_rows(db_url: str) -> list[Run]:
    with session(engine_for(db_url)) as s:
        return list(s.exec(select(Run)).all())


def test_a_cycle_where_every_source_failed_is_failed_and_says_why(tmp_path: Path, db_url: str
                                                                    ) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text('allow_private_networks = true\n[[feeds]]\nname = "Gone"\n'
                       'url = "http://127.0.0.1:9/rss.xml"\n')
    with settings.database(db_url):
        state = cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources),
                      return_state=True)
        with pytest.raises(EverySourceFailed, match="every source failed"):
            cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources),
                  respect_backoff=False)
    assert state.is_failed()
    assert state.message.startswith("every source failed (1 of 1): Gone: ConnectError")
    result = outcome(state)  # what the cycle did is still there for the CLI
    assert list(result["poll"]["failed"]) == ["Gone"]
    flow_run_id = str(state.state_details.flow_run_id)
    first = min(_run_rows(db_url), key=lambda r: r.id or 0)
    assert first.prefect_flow_run_id == flow_run_id and first.status == "failed sources"


def test_a_run_is_named_logged_and_recorded_with_its_flow_run(tmp_path: Path, db_url: str
                                                               ) -> None:
    with SiteServer() as server:
        url = server.url("/world/schedule.html")
        server.routes["/world/schedule.html"] = Route(fixture_page(
            "schedule", "Talks set for Abu Dhabi", "2026-01-26", url))
        body = rss("Harbor", server.base_url, [FeedEntry("Talks set", url, "a-1")])
        # ISO-8859-1 bytes in a UTF-8 feed: kept, and a warning logged in a polling thread.
        server.routes["/feed.xml"] = Route(body.replace(b"test feed", b"caf\xe9 feed"),
                                           "application/rss+xml")
        sources = write_sources(tmp_path / "sources.toml", server, ["/feed.xml"])
        with settings.database(db_url):
            state = cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources),
                          shard="1/1", return_state=True)
    assert state.is_completed()
    assert (state.message or "").startswith("1 sources answered; 1 new articles")
    flow_run = _flow_run(state.state_details.flow_run_id)
    assert flow_run.name.startswith("cycle shard 1/1, 20")
    (run,) = _run_rows(db_url)
    assert run.prefect_flow_run_id == str(flow_run.id) and run.status == "ok"
    warned = [log for log in _logs(flow_run.id) if log.name == "claimwatch.feeds"]
    assert warned and server.url("/feed.xml") in warned[0].message


def _sharded(tmp_path: Path, db_url: str, count: int, failing_shard: int | None = None
             ) -> tuple[Any, dict[str, int], list[str]]:
    """A cycle in three shards, called in-process, over `count` feeds; the feeds of
    `failing_shard` have no route (404). Its state, the hits per feed, and the failing feeds."""
    with SiteServer() as server:
        feeds = [f"/feeds/{i}.xml" for i in range(count)]
        gone = [f for f in feeds if shards.of(server.url(f), 3) == failing_shard]
        for feed in feeds:
            if feed not in gone:
                server.routes[feed] = Route(rss(feed, server.base_url, []), "application/rss+xml")
        sources = write_sources(tmp_path / "sources.toml", server, feeds)
        with settings.database(db_url):
            state = cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources), shards=3,
                          return_state=True)
        return state, {feed: len(server.hits(feed)) for feed in feeds}, gone


def test_shards_called_in_process_run_one_after_another(tmp_path: Path, db_url: str) -> None:
    state, hits, _ = _sharded(tmp_path, db_url, 6)
    assert state.is_completed() and state.message == "3 shards: 1/3, 2/3, 3/3"
    assert hits == dict.fromkeys(hits, 1)
    assert sorted(r.summary["shard"] for r in _run_rows(db_url)) == ["1/3", "2/3", "3/3"]


def test_a_shard_that_failed_fails_the_in_process_parent_after_every_shard_ran(
        tmp_path: Path, db_url: str) -> None:
    state, hits, gone = _sharded(tmp_path, db_url, 9, failing_shard=1)
    assert gone and len(gone) < len(hits)  # shard 1 has feeds, and the others have some
    assert state.is_failed()
    assert (state.message or "").startswith("1 of 3 shards failed: 1/3: every source failed")
    assert hits == dict.fromkeys(hits, 1)  # shards 2 and 3 still ran after shard 1 failed
    assert sorted(r.summary["shard"] for r in _run_rows(db_url)) == ["1/3", "2/3", "3/3"]
