"""Feed documents that are broken, lying or hostile: what is kept, what is dropped, what is said."""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
from sqlmodel import select

from claimwatch.flows import settings
from claimwatch.flows.fetch import feeds
from claimwatch.flows.fetch.http import make_client
from claimwatch.flows.fetch.polling import FeedRequest, poll_one
from claimwatch.flows.settings import DEFAULT_CLAIMS, FetchLimits
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Article, Item
from tests import faultserver as fs
from tests.servers import FeedEntry, rss

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)
BASE = "http://127.0.0.1/"
LIMITS = FetchLimits(feed_deadline_s=10)

# Every file the process opens, recorded by an audit hook (hooks cannot be removed; this one
# only appends to a list). It catches a read made by expat's external-entity loader as well as
# feedparser's own open() of a bytes argument.
OPENED: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and args and isinstance(args[0], str | bytes):
        OPENED.append(args[0].decode(errors="replace") if isinstance(args[0], bytes) else args[0])
    elif event == "urllib.Request" and args:
        OPENED.append(str(args[0]))


sys.addaudithook(_audit)


def _parse(data: bytes, max_items: int = 500) -> feeds.ParsedFeed:
    return feeds.parse(data, BASE, max_items, NOW)


def _item_xml(title: str, link: str, guid: str | None = None, date: str | None = None) -> str:
    guid_xml = f"<guid isPermaLink='false'>{guid}</guid>" if guid is not None else ""
    date_xml = f"<pubDate>{date}</pubDate>" if date is not None else ""
    return f"<item><title>{title}</title><link>{link}</link>{guid_xml}{date_xml}</item>"


def _rss(*items: str, doctype: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>{doctype}<rss version="2.0"><channel>'
            f"<title>t</title><link>{BASE}</link>{''.join(items)}</channel></rss>").encode()


@pytest.fixture()
def server() -> Iterator[fs.FaultServer]:
    with fs.FaultServer() as s:
        yield s


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with make_client(LIMITS, allow_private=True) as c:
        yield c


# --- malformed XML and charsets: real feeds from ../shared/corpus/feeds, read in place --------

@pytest.mark.corpus
def test_malformed_feed_with_usable_entries_is_kept_and_the_warning_logged(
    corpus: Path, server: fs.FaultServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    # No encoding declared (so UTF-8 by the XML rules) but the bytes are ISO-8859-1: bozo.
    body = (corpus / "feeds" / "miniflux_no_encoding_ISO-8859-1.xml").read_bytes()
    server.routes["/feed"] = fs.static(body, "application/rss+xml")
    with caplog.at_level(logging.WARNING, logger="claimwatch.feeds"):
        poll = poll_one(client, FeedRequest(1, server.url("/feed")), LIMITS, NOW)
    assert poll.status == "ok" and len(poll.items) == 9
    assert poll.warning and "declared as utf-8" in poll.warning
    assert any("declared as utf-8" in r.getMessage() for r in caplog.records)
    titles = {i.title for i in poll.items}
    assert "Migrants : l'urgence thérapeutique" in titles  # decoded as Latin, not mangled


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["feedrs_rss_2.0_invalid_1.xml", "feedparser_aaa_illformed.xml"])
def test_malformed_feed_with_nothing_usable_is_a_failure(corpus: Path, name: str) -> None:
    parsed = _parse((corpus / "feeds" / name).read_bytes())
    assert parsed.items == () and parsed.error and parsed.error.startswith("not a feed")


@pytest.mark.corpus
def test_lying_http_charset_loses_to_the_documents_own_declaration(
    corpus: Path, server: fs.FaultServer, client: httpx.Client
) -> None:
    body = (corpus / "feeds" / "miniflux_encoding_WINDOWS-1251.xml").read_bytes()
    server.routes["/feed"] = fs.static(body, "application/rss+xml; charset=utf-8")  # a lie
    poll = poll_one(client, FeedRequest(1, server.url("/feed")), LIMITS, NOW)
    assert poll.status == "ok" and len(poll.items) == 50
    assert poll.items[0].title == "Цитата #17703"


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "title"), [
    ("nnw_kc0011.rss", "建国35周年纪念，华表，和平鸽"),  # declared gb2312
    ("miniflux_encoding_ISO-8859-1.xml", "Red Dead Redemption 2: Hinweise auf PC-Umsetzung"),
])
def test_declared_legacy_charsets_decode(corpus: Path, name: str, title: str) -> None:
    parsed = _parse((corpus / "feeds" / name).read_bytes())
    assert parsed.error is None and parsed.items[0].title.startswith(title)


# Revisions as stored before feedparser's deprecated `updated` -> `published` stand-in was
# spelled out (computed by the code of commit 85c1ca0): a changed revision re-reads the page.
@pytest.mark.corpus
@pytest.mark.parametrize(("name", "revision", "dates"), [
    # Atom, <updated> 00:54:20 and <published> 00:54:17: the entry's own updated date counts
    ("nnw_DaringFireball.atom", "d3049c3b8da304d0ab57cd3a", {"updated", "published"}),
    # RSS with only <pubDate>: its `updated` was the stand-in, the published date
    ("miniflux_large_rss.xml", "0e12c4f75603f1cb49ce9e03", {"published"}),
])
def test_entry_revisions_do_not_change_without_feedparsers_updated_fallback(
        corpus: Path, name: str, revision: str, dates: set[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the stand-in warns when used
        parsed = _parse((corpus / "feeds" / name).read_bytes())
    assert parsed.items[0].revision == revision
    entry = feedparser.parse((corpus / "feeds" / name).read_bytes()).entries[0]
    assert {k for k in ("updated", "published") if dict.__contains__(entry, k)} == dates


def test_an_entry_whose_date_changes_gets_a_new_revision() -> None:
    first, second = (_parse(_rss(_item_xml("Talks", f"{BASE}a", "g1", date))).items[0].revision
                     for date in ("Sun, 25 Jan 2026 10:00:00 GMT", "Mon, 26 Jan 2026 09:00:00 GMT"))
    assert first != second


@pytest.mark.corpus
def test_entry_without_a_link_is_skipped_and_counted(corpus: Path) -> None:
    # KOI8-R bytes with no encoding information, and an item with a title but no link.
    parsed = _parse((corpus / "feeds" / "feedparser_koi8r.xml").read_bytes())
    assert parsed.error is None and parsed.items == () and parsed.skipped == 1
    assert parsed.warning  # the charset guess is reported, not hidden


# --- identities -----------------------------------------------------------------------------

def test_duplicate_guids_with_different_links_keep_both_articles() -> None:
    parsed = _parse(_rss(_item_xml("One", f"{BASE}one", "same"),
                         _item_xml("Two", f"{BASE}two", "same")))
    assert [i.url for i in parsed.items] == [f"{BASE}one", f"{BASE}two"]
    assert [i.key for i in parsed.items] == [f"url:{BASE}one", f"url:{BASE}two"]


def test_missing_guids_key_on_the_link_the_same_on_every_poll() -> None:
    doc = _rss(_item_xml("One", f"{BASE}one"), _item_xml("Two", f"{BASE}two"))
    first, second = _parse(doc), _parse(doc)
    assert [i.key for i in first.items] == [f"url:{BASE}one", f"url:{BASE}two"]
    assert [i.key for i in first.items] == [i.key for i in second.items]


@pytest.mark.slow
def test_guids_that_change_on_every_fetch_make_no_duplicate_articles(
    tmp_path: Path, db_url: str, prefect_api: str
) -> None:
    from claimwatch.flows.monitor import cycle
    from tests.servers import Route, SiteServer, send
    from tests.sites import fixture_page, write_sources

    with SiteServer() as site:
        url = site.url("/world/schedule.html")
        site.routes["/world/schedule.html"] = Route(fixture_page(
            "schedule", "Talks set for Abu Dhabi", "2026-01-26", url))
        fetches = {"n": 0}

        def fresh_guid_feed(handler: Any) -> None:
            fetches["n"] += 1
            body = rss("Fickle", site.base_url, [FeedEntry("Talks set", url, f"g-{fetches['n']}")])
            send(handler, 200, body, "application/rss+xml")

        site.routes["/feed.xml"] = fresh_guid_feed
        sources = write_sources(tmp_path / "sources.toml", site, ["/feed.xml"])
        for _ in range(3):
            with settings.database(db_url):
                cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources))
        page_fetches = len(site.hits("/world/schedule.html"))
    with session(engine_for(db_url)) as s:
        articles = list(s.exec(select(Article)).all())
        items = list(s.exec(select(Item)).all())
    assert fetches["n"] == 3 and len(articles) == 1
    assert page_fetches == 1  # the canonical-URL shortcut: a known URL is never read again
    assert {i.article_id for i in items} == {articles[0].id}


# --- size, dates, links ---------------------------------------------------------------------

def test_ten_thousand_item_feed_is_capped_per_poll_and_says_so(
    server: fs.FaultServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    entries = [FeedEntry(f"Story {i}", f"{BASE}s/{i}", f"g-{i}") for i in range(10_000)]
    server.routes["/feed"] = fs.static(rss("Firehose", BASE, entries), "application/rss+xml")
    with caplog.at_level(logging.WARNING, logger="claimwatch.feeds"):
        poll = poll_one(client, FeedRequest(1, server.url("/feed")), LIMITS, NOW)
    assert poll.status == "ok" and len(poll.items) == LIMITS.max_items_per_poll == 500
    assert poll.items[0].title == "Story 0" and poll.items[-1].title == "Story 499"
    assert poll.skipped == 9_500
    assert poll.warning == "only the first 500 items were read this poll (9500 left out)"
    assert any("only the first 500 items" in r.getMessage() for r in caplog.records)


def test_future_and_unparseable_dates_become_unknown_and_the_item_is_kept() -> None:
    future = (NOW + timedelta(days=400)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    parsed = _parse(_rss(
        _item_xml("Future", f"{BASE}f", "f", future),
        _item_xml("Garbled", f"{BASE}g", "g", "the thirty-first of Smarch"),
        _item_xml("Fine", f"{BASE}ok", "ok", "Sun, 01 Feb 2026 08:00:00 +0000"),
    ))
    dates = {i.title: i.published_at for i in parsed.items}
    assert dates == {"Future": None, "Garbled": None,
                     "Fine": datetime(2026, 2, 1, 8, tzinfo=UTC)}


@pytest.mark.parametrize("link", [
    "javascript:alert(document.cookie)",
    "file:///etc/passwd",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "JaVaScRiPt:alert(1)",
    "ftp://example.com/story",
])
def test_non_http_links_are_dropped(link: str) -> None:
    parsed = _parse(_rss(_item_xml("Bad", link, "bad"), _item_xml("Good", f"{BASE}ok", "ok")))
    assert [i.url for i in parsed.items] == [f"{BASE}ok"] and parsed.skipped == 1


# --- entities: nothing is expanded that could read a file or eat the memory --------------------

def test_external_entity_never_reads_the_sentinel_file(tmp_path: Path) -> None:
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text("SENTINEL-SECRET-7f3a")
    doctype = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{sentinel}">]>'
    doc = _rss(_item_xml("Hello &xxe; world", f"{BASE}x", "x"), doctype=doctype)
    OPENED.clear()
    parsed = _parse(doc)
    assert not any(str(sentinel) in path for path in OPENED), OPENED
    assert all("SENTINEL" not in i.title for i in parsed.items)


def test_feed_body_naming_a_local_file_is_not_opened(tmp_path: Path) -> None:
    # feedparser.parse(bytes) tries open(bytes) first: a server answering with a path would
    # make it read our disk. The body is handed over as a stream, so it is only ever text.
    sentinel = tmp_path / "local-feed.xml"
    sentinel.write_bytes(_rss(_item_xml("SENTINEL from disk", f"{BASE}disk", "disk")))
    OPENED.clear()
    parsed = _parse(str(sentinel).encode())
    assert str(sentinel) not in OPENED
    assert parsed.items == () and parsed.error and parsed.error.startswith("not a feed")


def test_entity_expansion_bomb_is_not_expanded() -> None:
    levels = ['<!ENTITY lol0 "lollollollollollollollollollol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    doc = _rss(_item_xml("&lol9;", f"{BASE}bomb", "bomb"),
               doctype=f"<!DOCTYPE rss [{''.join(levels)}]>")
    parsed = _parse(doc)  # expanded, the title would be 30 GB
    assert [i.url for i in parsed.items] == [f"{BASE}bomb"]
    assert len(parsed.items[0].title) < 100
