"""A real HTTP server on 127.0.0.1 for tests: routes you can change, conditional GET, a request log."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # answer If-None-Match / If-Modified-Since with 304


Handler = Callable[[BaseHTTPRequestHandler], None]


class SiteServer:
    """Serves `routes` (path -> Route or a handler function); records every request path."""

    def __init__(self) -> None:
        self.routes: dict[str, Route | Handler] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # else ~40 ms stall per keep-alive response
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return None

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(self.path)
                    route = server.routes.get(self.path)
                if route is None:
                    self._send(404, b"not found", "text/plain")
                elif callable(route):
                    route(self)
                else:
                    self._serve(route)

            def _serve(self, route: Route) -> None:
                etag = '"' + hashlib.blake2b(route.body, digest_size=8).hexdigest() + '"'
                if route.conditional and route.status == 200 and \
                        self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {"ETag": etag, **route.headers} if route.conditional else route.headers
                self._send(route.status, route.body, route.content_type, headers)

            def _send(self, status: int, body: bytes, content_type: str,
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def hits(self, prefix: str) -> list[str]:
        with self._lock:
            return [p for p in self.requests if p.startswith(prefix)]


@dataclass(frozen=True)
class FeedEntry:
    title: str
    link: str
    guid: str
    published: datetime = field(default_factory=lambda: datetime(2026, 2, 1, tzinfo=UTC))
    summary: str = ""


def rss(title: str, link: str, entries: Iterable[FeedEntry]) -> bytes:
    """A plain RSS 2.0 document."""
    items = "".join(
        f"<item><title>{escape(e.title)}</title><link>{escape(e.link)}</link>"
        f"<guid isPermaLink=\"false\">{escape(e.guid)}</guid>"
        f"<pubDate>{format_datetime(e.published)}</pubDate>"
        f"<description>{escape(e.summary)}</description></item>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>test feed</description>{items}</channel></rss>"
    ).encode()
