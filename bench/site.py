"""A benchmark site on 127.0.0.1: N feeds x M articles built from the real corpus, in a child process.

Article pages are the corpus pages, unmodified, repeated under distinct URLs; feed entries are
the raw <item> blocks of the corpus's real RSS 2.0 feeds with their <link> and <guid> rewritten
to point at those pages, so feed parsing costs what real feeds cost. Feeds are spread over
several loopback addresses (127.0.0.1, 127.0.0.2, ...) because claimwatch limits concurrency
per host, as it should against real publishers. The corpus is read in place, never copied.

Feed f in round r lists entries (f, r, 0..M-1); moving to the next round gives every feed M new
entries. A feed answers If-None-Match with 304 when its round has not moved.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
ITEM = re.compile(rb"<item[\s>].*?</item>", re.DOTALL)
LINK = re.compile(rb"<link>.*?</link>", re.DOTALL)
GUID = re.compile(rb"<guid[^>]*>.*?</guid>", re.DOTALL)
ARTICLE_PATH = re.compile(r"^/articles/(\d+)/(\d+)/(\d+)\.html$")
FEED_PATH = re.compile(r"^/feeds/(\d+)\.xml$")
DEFAULT_HOSTS = 16


def corpus_dir() -> Path:
    """$CLAIMWATCH_CORPUS, else ../shared/corpus next to the repository."""
    env = os.environ.get("CLAIMWATCH_CORPUS")
    path = Path(env) if env else ROOT.parent / "shared" / "corpus"
    if not (path / "index.json").is_file():
        raise SystemExit(f"benchmark corpus not found at {path} (set CLAIMWATCH_CORPUS)")
    return path


def corpus_pages(corpus: Path) -> list[Path]:
    """Every corpus page, in index order: the pages the site serves and the floor extracts."""
    return [corpus / str(r["file"]) for r in json.loads((corpus / "index.json").read_text())]


def page_index(feed: int, round_: int, entry: int, pages: int) -> int:
    """Which corpus page article (feed, round, entry) serves; the floor uses the same mapping."""
    return (feed * 7919 + round_ * 104_729 + entry) % pages


@dataclass(frozen=True, slots=True)
class FeedTemplate:
    """A real RSS 2.0 feed cut into its channel head and its raw item blocks."""

    head: bytes  # from the XML declaration to the first <item>
    items: tuple[bytes, ...]


def feed_templates(corpus: Path) -> list[FeedTemplate]:
    """The corpus's real (not synthetic) UTF-8 RSS 2.0 feeds with at least three items."""
    index = json.loads((corpus / "feeds" / "index.json").read_text())
    templates = []
    for record in index:
        if not str(record.get("note", "")).startswith("real"):
            continue
        data = (corpus / str(record["file"])).read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        items = ITEM.findall(data)
        if b"<rss" not in data[:2000] or len(items) < 3:
            continue
        templates.append(FeedTemplate(data[: data.index(items[0])], tuple(items)))
    return templates


def _entry(template: FeedTemplate, base: str, feed: int, round_: int, entry: int) -> bytes:
    raw = template.items[(round_ * 31 + entry) % len(template.items)]
    link = f"{base}/articles/{feed}/{round_}/{entry}.html".encode()
    guid = f'<guid isPermaLink="false">bench-{feed}-{round_}-{entry}</guid>'.encode()
    raw = GUID.sub(b"", raw)
    raw, found = LINK.subn(lambda _m: b"<link>" + escape(link.decode()).encode() + b"</link>",
                           raw, count=1)
    if not found:
        raw = raw.replace(b"</item>", b"<link>" + link + b"</link></item>", 1)
    return raw.replace(b"</item>", guid + b"</item>", 1)


def feed_body(templates: Sequence[FeedTemplate], base: str, feed: int, round_: int,
              items: int) -> bytes:
    """Feed `feed` in round `round_`: the head of a real feed and `items` rewritten entries."""
    template = templates[feed % len(templates)]
    entries = b"".join(_entry(template, base, feed, round_, j) for j in range(items))
    return template.head + entries + b"</channel></rss>"


class _State:
    def __init__(self, pages: list[bytes], templates: list[FeedTemplate]) -> None:
        self.pages, self.templates = pages, templates
        self.round = 0
        self.requests = 0
        self.lock = threading.Lock()


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # else ~40 ms stall per keep-alive response
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return None

        def do_GET(self) -> None:
            with state.lock:
                state.requests += 1
            parts = urlsplit(self.path)
            if found := ARTICLE_PATH.match(parts.path):
                feed, round_, entry = (int(g) for g in found.groups())
                page = state.pages[page_index(feed, round_, entry, len(state.pages))]
                self._send(200, page, "text/html")
            elif found := FEED_PATH.match(parts.path):
                self._feed(int(found.group(1)), parts.query)
            elif parts.path.startswith("/_round/"):
                state.round = int(parts.path.rsplit("/", 1)[1])
                self._send(200, b"ok", "text/plain")
            else:
                self._send(404, b"not found", "text/plain")

        def _feed(self, feed: int, query: str) -> None:
            items = int(parse_qs(query).get("items", ["10"])[0])
            round_ = state.round
            etag = f'"{feed}-{round_}-{items}"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", None, {"ETag": etag})
                return
            base = f"http://{self.headers.get('Host')}"
            body = feed_body(state.templates, base, feed, round_, items)
            self._send(200, body, "application/rss+xml", {"ETag": etag})

        def _send(self, status: int, body: bytes, content_type: str | None,
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if body:
                self.wfile.write(body)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # 1,000 feeds polled at once must not be refused


def _serve(corpus: Path, hosts: int, conn: Connection) -> None:
    pages = [p.read_bytes() for p in corpus_pages(corpus)]
    state = _State(pages, feed_templates(corpus))
    handler = _handler(state)
    servers = [_Server((f"127.0.0.{i + 1}", 0), handler) for i in range(hosts)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send([f"http://{s.server_address[0]}:{s.server_address[1]}" for s in servers])
    conn.recv()  # block until the benchmark says stop (or its end of the pipe closes)


class Site:
    """The site in a child process (its CPU is not claimwatch's); a context manager."""

    def __init__(self, corpus: Path, hosts: int = DEFAULT_HOSTS) -> None:
        self.corpus, self.hosts = corpus, hosts
        self.base_urls: list[str] = []
        self.pid: int | None = None
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None

    def __enter__(self) -> Site:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(self.corpus, self.hosts, theirs),
                                        daemon=True, name="bench-site")
        self._process.start()
        self.pid = self._process.pid
        self._conn = ours
        self.base_urls = ours.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._conn is not None and self._process is not None
        self._conn.send("stop")
        self._process.join(10)

    def feed_url(self, feed: int, items: int) -> str:
        return f"{self.base_urls[feed % len(self.base_urls)]}/feeds/{feed}.xml?items={items}"

    def set_round(self, round_: int) -> None:
        """Every feed lists new entries from now on (and answers 200 to its old ETag)."""
        import httpx

        httpx.get(f"{self.base_urls[0]}/_round/{round_}", timeout=10).raise_for_status()

    def write_sources(self, path: Path, feeds: int, items: int) -> Path:
        """A sources.toml with `feeds` feeds of `items` entries each."""
        lines = ["allow_private_networks = true", ""]
        for f in range(feeds):
            lines += ["[[feeds]]", f'name = "Bench feed {f}"', f'url = "{self.feed_url(f, items)}"',
                      ""]
        path.write_text("\n".join(lines))
        return path
