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


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str,
         headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


class SiteServer:
    """Serves `routes` (path -> Route or a handler function); records every request path.

    It binds a loopback address of your choosing (127.0.0.1 by default; 127.0.0.2 ... are
    loopback too on Linux), so tests can give each source its own host, as on the real web.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
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
                    send(self, 404, b"not found", "text/plain")
                elif not callable(route):
                    self._serve(route)
                else:
                    try:
                        route(self)
                    except (BrokenPipeError, ConnectionResetError):
                        self.close_connection = True  # the client hung up: part of the game

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
                send(self, route.status, route.body, route.content_type, headers)

        self._server = ThreadingHTTPServer((host, 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

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
