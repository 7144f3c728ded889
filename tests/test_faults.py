"""Every misbehaviour of the fault server, one test each, asserting what claimwatch does about it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from claimwatch.flows import settings
from claimwatch.flows.fetch import health, pages
from claimwatch.flows.fetch.http import fetch, make_client
from claimwatch.flows.fetch.polling import FeedRequest, poll_one
from claimwatch.flows.settings import DEFAULT_CLAIMS, FetchLimits
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Article, ArticleVersion
from tests import faultserver as fs
from tests.servers import FeedEntry, rss
from tests.sites import english_corpus_pages

pytestmark = pytest.mark.slow

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)
# Short enough that a stall costs a second, long enough for a loaded CI machine to answer.
LIMITS = FetchLimits(connect_timeout_s=2, read_timeout_s=1, feed_deadline_s=1.5,
                     page_deadline_s=1.5, max_feed_bytes=1_000_000, max_page_bytes=1_000_000)
FEED = rss("Wire", "http://127.0.0.1/", [
    FeedEntry("Talks set for Abu Dhabi", "http://127.0.0.1/a.html", "a-1"),
    FeedEntry("Talks postponed", "http://127.0.0.1/b.html", "b-1"),
])


@pytest.fixture()
def server() -> Iterator[fs.FaultServer]:
    with fs.FaultServer() as s:
        yield s


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with make_client(LIMITS, allow_private=True) as c:
        yield c


def _poll(client: httpx.Client, url: str, etag: str | None = None):  # type: ignore[no-untyped-def]
    return poll_one(client, FeedRequest(1, url, etag=etag), LIMITS, NOW)


def _timed_fetch(client: httpx.Client, url: str, **kw: object) -> tuple[float, object]:
    start = time.monotonic()
    got = fetch(client, url, max_bytes=LIMITS.max_feed_bytes,
                deadline_s=LIMITS.feed_deadline_s, **kw)  # type: ignore[arg-type]
    return time.monotonic() - start, got


def test_500_then_recovery_backs_off_then_resets(server: fs.FaultServer, client: httpx.Client
                                                  ) -> None:
    server.routes["/feed"] = fs.fail_then_recover(1, FEED)
    first = _poll(client, server.url("/feed"))
    assert (first.status, first.error, first.soft) == ("error", "HTTP 500", True)
    state, _ = health.after_failure(health.Health(), first.error or "", first.soft, None, NOW)
    assert state.error_score == 0.5 and state.next_poll_at == NOW + timedelta(minutes=7.5)
    second = _poll(client, server.url("/feed"))
    assert second.status == "ok" and len(second.items) == 2
    state, _ = health.after_success(state, second.status, NOW + timedelta(hours=1))
    assert state.error_score == 0 and state.next_poll_at is None


def test_429_retry_after_is_honoured(server: fs.FaultServer, client: httpx.Client) -> None:
    server.routes["/feed"] = fs.too_many_requests("7200")
    poll = _poll(client, server.url("/feed"))
    assert (poll.error, poll.soft, poll.retry_after_s) == ("HTTP 429", True, 7200)
    state, _ = health.after_failure(health.Health(), "HTTP 429", True, poll.retry_after_s, NOW)
    assert state.next_poll_at == NOW + timedelta(hours=2)  # not the 7.5 min a soft error earns


def test_stalled_server_is_abandoned_at_the_deadline(server: fs.FaultServer,
                                                     client: httpx.Client) -> None:
    server.routes["/feed"] = fs.stall(server.stop)
    elapsed, got = _timed_fetch(client, server.url("/feed"))
    assert got.error == "timed out" and got.soft  # type: ignore[attr-defined]
    assert elapsed < LIMITS.feed_deadline_s + 1.0


def test_one_byte_per_second_is_cut_by_the_wall_clock_deadline(
    server: fs.FaultServer, client: httpx.Client
) -> None:
    # Each byte arrives well within the read timeout: only a wall-clock deadline stops this.
    server.routes["/feed"] = fs.drip(FEED, 0.25, server.stop)
    elapsed, got = _timed_fetch(client, server.url("/feed"))
    error = got.error or ""  # type: ignore[attr-defined]
    assert "timed out" in error or "deadline" in error
    assert got.soft  # type: ignore[attr-defined]
    assert elapsed < LIMITS.feed_deadline_s + 1.0


def test_endless_body_stops_at_the_size_cap(server: fs.FaultServer, client: httpx.Client) -> None:
    server.routes["/feed"] = fs.endless(server.stop)
    limits = replace(LIMITS, feed_deadline_s=10.0)  # the cap, not the clock, must end it
    with make_client(limits, allow_private=True) as roomy:
        poll = poll_one(roomy, FeedRequest(1, server.url("/feed")), limits, NOW)
    assert poll.status == "error" and poll.error == "body larger than 1000000 bytes"
    assert not poll.soft  # a feed this big is the source's fault, not bad luck


def test_gzip_bomb_is_refused_by_decompressed_size(server: fs.FaultServer,
                                                   client: httpx.Client) -> None:
    server.routes["/feed"] = fs.gzip_bomb(50_000_000)
    poll = _poll(client, server.url("/feed"))
    assert poll.error == "body larger than 1000000 bytes (decompressed)"


def test_truncated_body_stores_nothing_and_keeps_the_old_etag(server: fs.FaultServer,
                                                              client: httpx.Client) -> None:
    server.routes["/feed"] = fs.truncated(FEED, len(FEED) // 2)
    poll = _poll(client, server.url("/feed"), etag='"old"')
    assert poll.status == "error" and poll.soft and poll.items == ()
    assert poll.error is not None and poll.error.startswith("broken response")
    assert poll.etag is None  # store_poll leaves the source's cache state alone on error


def test_redirect_loop_is_detected(server: fs.FaultServer, client: httpx.Client) -> None:
    server.routes["/a"] = fs.redirect("/b")
    server.routes["/b"] = fs.redirect("/a")
    poll = _poll(client, server.url("/a"))
    assert poll.error == "redirect loop"
    assert server.hits("/a") == 1 and server.hits("/b") == 1


def _chain(server: fs.FaultServer, hops: int) -> str:
    for i in range(hops):
        server.routes[f"/hop{i}"] = fs.redirect(f"/hop{i + 1}", 301 if i % 2 else 307)
    server.routes[f"/hop{hops}"] = fs.static(FEED, "application/rss+xml")
    return server.url("/hop0")


def test_five_redirects_are_followed_six_are_not(server: fs.FaultServer,
                                                 client: httpx.Client) -> None:
    assert _poll(client, _chain(server, 5)).status == "ok"
    server.routes.clear()
    poll = _poll(client, _chain(server, 6))
    assert poll.error == "more than 5 redirects"
    assert server.hits("/hop6") == 0


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata: never, even with private allowed
    "http://[fe80::1]/feed",
    "http://0.0.0.0:{port}/feed",  # 0.0.0.0 reaches this very host on Linux
])
def test_redirect_to_link_local_is_refused_at_that_hop(server: fs.FaultServer,
                                                       client: httpx.Client, target: str) -> None:
    target = target.format(port=server.port)
    server.routes["/feed"] = fs.redirect(target)
    server.routes["/ok"] = fs.static(FEED, "application/rss+xml")
    got = fetch(client, server.url("/feed"), max_bytes=1000, deadline_s=2)
    assert got.error is not None and got.error.startswith("refused:"), got.error
    assert "non-public address" in got.error  # claimwatch's guard, not the test's socket guard
    assert got.url == target


def test_empty_200_is_a_soft_error_not_an_empty_feed(server: fs.FaultServer,
                                                     client: httpx.Client) -> None:
    server.routes["/feed"] = fs.empty()
    poll = _poll(client, server.url("/feed"))
    assert (poll.status, poll.error, poll.soft) == ("error", "empty response", True)


def test_html_where_a_feed_was_expected_is_not_a_feed(server: fs.FaultServer,
                                                      client: httpx.Client) -> None:
    page = b"<!doctype html><html><head><title>Home</title></head><body><p>Hi</p></body></html>"
    server.routes["/feed"] = fs.static(page, "text/html; charset=utf-8")
    poll = _poll(client, server.url("/feed"))
    assert poll.status == "error" and poll.error is not None and poll.error.startswith("not a feed")
    assert not poll.soft


@pytest.mark.parametrize(("body", "content_type", "kind"), [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "application/pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + b"\0" * 64, "image/png", "image/png"),
    # A server that lies: an image labelled as HTML is still an image.
    (b"\xff\xd8\xff\xe0\0\x10JFIF\0" + b"\0" * 64, "text/html", "image/jpeg"),
])
def test_pdf_or_image_where_a_page_was_expected_is_refused(
    server: fs.FaultServer, client: httpx.Client, body: bytes, content_type: str, kind: str
) -> None:
    server.routes["/story"] = fs.static(body, content_type)
    page = pages.get(client, server.url("/story"), LIMITS)
    assert page.error == f"not an HTML page ({kind})" and page.html == ""


@pytest.mark.parametrize(("status", "soft"), [(404, True), (410, False)])
def test_404_is_soft_and_410_gone_is_hard(server: fs.FaultServer, client: httpx.Client,
                                          status: int, soft: bool) -> None:
    server.routes["/feed"] = fs.static(b"gone", "text/plain", status)
    poll = _poll(client, server.url("/feed"))
    assert (poll.error, poll.soft) == (f"HTTP {status}", soft)
    state, _ = health.after_failure(health.Health(), poll.error or "", poll.soft, None, NOW)
    assert state.error_score == (0.5 if soft else 1.0)


def test_connection_reset_is_a_soft_error(server: fs.FaultServer, client: httpx.Client) -> None:
    server.routes["/feed"] = fs.reset()
    poll = _poll(client, server.url("/feed"))
    assert poll.status == "error" and poll.soft and poll.error
    assert "reset" in poll.error.lower() or "disconnected" in poll.error.lower() \
        or "broken" in poll.error.lower()


# --- a whole cycle: ten good sources among ten bad ones ------------------------------------------

def _good_source(host: str, pages: list[bytes]) -> fs.FaultServer:
    server = fs.FaultServer(host)
    entries = []
    for i, page in enumerate(pages):
        server.routes[f"/story-{i}.html"] = fs.static(page)
        entries.append(FeedEntry(f"Story {i}", server.url(f"/story-{i}.html"), f"{host}-{i}"))
    server.routes["/feed.xml"] = fs.static(rss(host, server.base_url, entries),
                                           "application/rss+xml")
    return server


def _bad_source(host: str, n: int) -> fs.FaultServer:
    """Ten ways to misbehave, one per source, each on a host of its own."""
    server = fs.FaultServer(host)
    server.routes["/feed.xml"] = [
        fs.stall(server.stop),
        fs.drip(FEED, 0.2, server.stop),
        fs.endless(server.stop),
        fs.gzip_bomb(50_000_000),
        fs.truncated(FEED, 100),
        fs.redirect("/feed.xml"),
        fs.static(b"oops", "text/plain", 500),
        fs.too_many_requests("3600"),
        fs.static(b"<!doctype html><html><body>Welcome</body></html>"),
        fs.reset(),
    ][n]
    return server


def _sources_toml(path: Path, servers: list[fs.FaultServer]) -> Path:
    lines = ["allow_private_networks = true"]
    for i, server in enumerate(servers):
        lines += ["[[feeds]]", f'name = "source {i:02d}"', f'url = "{server.url("/feed.xml")}"']
    path.write_text("\n".join(lines) + "\n")
    return path


def _timed_cycle(sources: Path, db_url: str) -> tuple[float, dict[str, Any]]:
    from claimwatch.flows.monitor import cycle

    start = time.monotonic()
    with settings.database(db_url):
        result = cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources))
    return time.monotonic() - start, result


def _stored(db_url: str) -> tuple[set[str], int]:
    with session(engine_for(db_url)) as s:
        urls = {a.url for a in s.exec(select(Article)).all()}
        unmatched = sum(1 for v in s.exec(select(ArticleVersion)).all() if v.matched_at is None)
    return urls, unmatched


@pytest.mark.corpus
@pytest.mark.usefixtures("prefect_api")
def test_ten_bad_sources_neither_stop_nor_slow_the_ten_good_ones(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_deadline_s = 2.0
    monkeypatch.setenv("CLAIMWATCH_FEED_DEADLINE_S", str(feed_deadline_s))
    monkeypatch.setenv("CLAIMWATCH_PAGE_DEADLINE_S", "2")
    monkeypatch.setenv("CLAIMWATCH_READ_TIMEOUT_S", "1")
    monkeypatch.setenv("CLAIMWATCH_MAX_FEED_BYTES", "2000000")
    pages = [p.read_bytes() for p in english_corpus_pages(corpus, 20)]
    good = [_good_source(f"127.0.0.{10 + i}", pages[2 * i:2 * i + 2]) for i in range(10)]
    bad = [_bad_source(f"127.0.0.{30 + i}", i) for i in range(10)]
    with contextlib.ExitStack() as stack:
        for server in good + bad:
            stack.enter_context(server)
        good_db, mixed_db = (f"sqlite:///{tmp_path / name}" for name in ("good.db", "mixed.db"))
        good_s, good_run = _timed_cycle(_sources_toml(tmp_path / "good.toml", good), good_db)
        mixed_s, mixed_run = _timed_cycle(
            _sources_toml(tmp_path / "mixed.toml", [s for pair in zip(good, bad, strict=True)
                                                    for s in pair]), mixed_db)
    good_urls, good_unmatched = _stored(good_db)
    mixed_urls, mixed_unmatched = _stored(mixed_db)
    assert good_run["poll"]["failed"] == {} and len(good_urls) >= 16  # a few pages lack text
    assert mixed_urls == good_urls and mixed_unmatched == good_unmatched == 0
    assert len(mixed_run["poll"]["failed"]) == 10
    assert mixed_run["match"]["matches"] == good_run["match"]["matches"]
    # Every bad source ends within the feed deadline, in parallel with the good ones.
    print(f"good-only cycle {good_s:.1f} s, with ten bad sources {mixed_s:.1f} s")
    assert mixed_s < good_s * 1.5 + 2 * feed_deadline_s, (good_s, mixed_s)
