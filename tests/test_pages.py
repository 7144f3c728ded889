"""Article pages that are too big, badly encoded, empty of text or redirecting by <meta>."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from claimwatch.flows.extract import articles
from claimwatch.flows.fetch import pages
from claimwatch.flows.fetch.http import make_client
from claimwatch.flows.fetch.reading import ReadRequest, read_all
from claimwatch.flows.settings import FetchLimits
from claimwatch.flows.workers import WorkerPool
from tests import faultserver as fs
from tests.sites import fixture_page

pytestmark = pytest.mark.slow

LIMITS = FetchLimits(page_deadline_s=5, max_page_bytes=1_000_000)
HTML = "text/html; charset=utf-8"


@pytest.fixture()
def server() -> Iterator[fs.FaultServer]:
    with fs.FaultServer() as s:
        yield s


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with make_client(LIMITS, allow_private=True) as c:
        yield c


def _article(server: fs.FaultServer, path: str = "/story") -> bytes:
    return fixture_page("schedule", "Talks set for Abu Dhabi", "2026-01-26", server.url(path))


def test_page_over_the_cap_after_decompression_is_refused(server: fs.FaultServer,
                                                          client: httpx.Client) -> None:
    padding = b"<p>" + b"filler text " * 200_000 + b"</p>"  # 2.4 MB of HTML, ~10 KB gzipped
    body = gzip.compress(_article(server).replace(b"</body>", padding + b"</body>"))
    assert len(body) < LIMITS.max_page_bytes / 20
    server.routes["/story"] = fs.static(body, HTML, headers={"Content-Encoding": "gzip"})
    page = pages.get(client, server.url("/story"), LIMITS)
    assert page.error == "body larger than 1000000 bytes (decompressed)" and page.html == ""


def test_page_announcing_more_than_the_cap_is_refused_before_reading(
    server: fs.FaultServer, client: httpx.Client
) -> None:
    server.routes["/story"] = fs.truncated(b"x" * 2_000_000, keep=10, content_type=HTML)
    page = pages.get(client, server.url("/story"), LIMITS)
    assert page.error == "body larger than 1000000 bytes (Content-Length 2000000)"


def test_invalid_utf8_is_replaced_and_the_article_still_read(server: fs.FaultServer,
                                                             client: httpx.Client) -> None:
    body = _article(server).replace(b"Abu Dhabi", b"Abu\xff\xfe Dhabi\x00", 1)
    server.routes["/story"] = fs.static(body, HTML)
    page = pages.get(client, server.url("/story"), LIMITS)
    assert page.ok and "\ufffd" in page.html and "\x00" not in page.html
    article = articles.extract(page.html, page.url)
    assert article is not None and "Abu Dhabi" in article.text


def test_page_without_article_text_is_a_recorded_reason(server: fs.FaultServer,
                                                        client: httpx.Client) -> None:
    # A paywall stub: navigation, one teaser line, a footer. Nothing a claim could be read from.
    # (Kept short: trafilatura's fallback returns a 40-entry menu as 300 characters of "text".)
    nav = b"".join(b'<li><a href="/s%d">Section %d</a></li>' % (i, i) for i in range(8))
    body = (b"<html><body><nav><ul>" + nav + b"</ul></nav><main><h1>Talks set</h1>"
            b"<p>Subscribe to keep reading.</p></main><footer>(c) Wire</footer></body></html>")
    server.routes["/landing"] = fs.static(body, HTML)
    request = ReadRequest(server.url("/landing"), (1,))
    with WorkerPool(1) as extractor:
        (result,) = list(read_all(client, [request], LIMITS, extractor))
    assert result.article is None and result.error == "no article text found"


@pytest.mark.parametrize("meta", [
    b'<meta http-equiv="refresh" content="0; url=/real-story">',
    b"<meta content='1;URL=/real-story' http-equiv='Refresh'>",  # attributes the other way round
])
def test_meta_refresh_is_followed_to_the_article(server: fs.FaultServer, client: httpx.Client,
                                                 meta: bytes) -> None:
    server.routes["/short"] = fs.static(b"<html><head>" + meta + b"</head><body></body></html>",
                                        HTML)
    server.routes["/real-story"] = fs.static(_article(server, "/real-story"), HTML)
    page = pages.get(client, server.url("/short"), LIMITS)
    assert page.ok and page.url == server.url("/real-story")
    assert page.requested_url == server.url("/short") and "Abu Dhabi" in page.html


def test_meta_refresh_loop_gives_up(server: fs.FaultServer, client: httpx.Client) -> None:
    for here, there in (("/a", "/b"), ("/b", "/a")):
        meta = b'<meta http-equiv="refresh" content="0;url=%s">' % there.encode()
        server.routes[here] = fs.static(b"<html><head>" + meta + b"</head></html>", HTML)
    page = pages.get(client, server.url("/a"), LIMITS)
    assert page.error == "too many meta-refresh redirects"
    assert server.hits("/a") + server.hits("/b") == pages.MAX_META_REFRESH + 1


@pytest.mark.parametrize("meta", [
    b'<meta http-equiv="refresh" content="2700">',  # the page reloads itself every 45 minutes
    b'<meta http-equiv="refresh" content="900;url=/elsewhere">',  # a slow reload, not a redirect
    b'<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    b'<noscript><meta http-equiv="refresh" content="0;url=/no-js"></noscript>',
])
def test_reloads_and_unsafe_refreshes_are_not_followed(server: fs.FaultServer,
                                                       client: httpx.Client, meta: bytes) -> None:
    body = _article(server).replace(b"<head>", b"<head>" + meta, 1)
    assert meta in body
    server.routes["/story"] = fs.static(body, HTML)
    page = pages.get(client, server.url("/story"), LIMITS)
    assert page.ok and page.url == server.url("/story")
    assert server.requests == ["/story"]


@pytest.mark.corpus
def test_refresh_in_an_ie_conditional_comment_is_ignored_on_a_real_page(
    corpus: Path, server: fs.FaultServer, client: httpx.Client
) -> None:
    # A real CNN article: <!--[if lte IE 9]><meta http-equiv="refresh" content="1;url=...unsupp
    body = (corpus / "html" / "aeb_d605bdef2cde7308.html").read_bytes()
    assert b'content="1;url=/2.174.2/static/unsupp.html"' in body
    server.routes["/cnn"] = fs.static(body, HTML)
    page = pages.get(client, server.url("/cnn"), FetchLimits())  # 1.4 MB: the default cap
    assert page.ok and page.url == server.url("/cnn")
    assert articles.extract(page.html, page.url) is not None


def test_meta_refresh_to_a_link_local_address_is_refused(server: fs.FaultServer,
                                                         client: httpx.Client) -> None:
    meta = b'<meta http-equiv="refresh" content="0;url=http://169.254.169.254/latest/">'
    server.routes["/short"] = fs.static(b"<html><head>" + meta + b"</head></html>", HTML)
    page = pages.get(client, server.url("/short"), LIMITS)
    assert page.error is not None and page.error.startswith("refused:")
