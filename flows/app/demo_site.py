"""Serve the bundled demo site (flows/demo_data) on 127.0.0.1 so `claimwatch demo` needs no network.

Rounds are overlays: a path is served from the highest round <= the current one that has it, so
round 2 holds only what changed since round 1 (see flows/demo_data/README.md).
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
import socketserver
import threading
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

DATA_DIR = Path(__file__).with_name("demo_data")
BASE_PLACEHOLDER = "{{BASE}}"
HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Resource:
    """One response body as served for the current round."""

    body: bytes
    content_type: str
    etag: str
    last_modified_at: datetime


def load_round_times(data_dir: Path = DATA_DIR) -> tuple[datetime, ...]:
    """Return each round's publication time (its files' Last-Modified), round 1 first."""
    with (data_dir / "rounds.toml").open("rb") as f:
        rounds = tomllib.load(f)["rounds"]
    return tuple(r["published_at"].astimezone(UTC) for r in rounds)


def content_type_for(path: str) -> str | None:
    """Return the Content-Type for a bundled file name, or None if it is not servable."""
    if path.endswith("atom.xml"):
        return "application/atom+xml; charset=utf-8"
    if path.endswith(".xml"):
        return "application/rss+xml; charset=utf-8"
    if path.endswith(".html"):
        return "text/html; charset=utf-8"
    return None


def safe_relative_path(url_path: str) -> str | None:
    """Return the file path a URL path names inside a round, or None if it escapes or is odd."""
    path = unquote(urlsplit(url_path).path)
    if not path.startswith("/") or "\\" in path or "\x00" in path:
        return None
    normalized = posixpath.normpath(path).lstrip("/")
    if normalized in ("", ".") or normalized.split("/")[0] == "..":
        return None
    return normalized


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, resource: Resource
) -> bool:
    """Decide a conditional GET; If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)."""
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or resource.etag in tags
    if not if_modified_since:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return resource.last_modified_at <= since


class DemoSite:
    """Serves the bundled demo site on 127.0.0.1 (an ephemeral port) in a background thread."""

    def __init__(self, round: int = 1) -> None:
        self._data_dir = DATA_DIR
        self._round_times = load_round_times(self._data_dir)
        self.rounds: int = len(self._round_times)
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._server: _DemoServer | None = None
        self._thread: threading.Thread | None = None
        self._round = 1
        self.set_round(round)

    def __enter__(self) -> DemoSite:
        self._server = _DemoServer((HOST, 0), _DemoHandler, self)
        # A short poll interval lets __exit__ return in milliseconds instead of up to 0.5 s.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)
        self._thread = threading.Thread(target=serve, name="demo-site", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    @property
    def base_url(self) -> str:
        """The root URL of the running site, e.g. "http://127.0.0.1:54321"."""
        if self._server is None:
            raise RuntimeError("DemoSite is not running; use it as a context manager")
        return f"http://{HOST}:{self._server.server_address[1]}"

    @property
    def round(self) -> int:
        """The round being served."""
        return self._round

    def set_round(self, n: int) -> None:
        """Serve round n from now on."""
        if not 1 <= n <= self.rounds:
            raise ValueError(f"round must be between 1 and {self.rounds}, got {n}")
        self._round = n

    def write_sources(self, path: Path) -> None:
        """Write a sources.toml listing the demo feeds and watched pages at base_url."""
        template = (self._data_dir / "sources.toml").read_text(encoding="utf-8")
        path.write_text(template.replace(BASE_PLACEHOLDER, self.base_url), encoding="utf-8")

    def resource(self, url_path: str) -> Resource | None:
        """Return what url_path serves in the current round, or None for a 404."""
        relative = safe_relative_path(url_path)
        content_type = content_type_for(relative) if relative else None
        if relative is None or content_type is None:
            return None
        for n in range(self._round, 0, -1):  # overlay: newest round that has the file wins
            file = self._data_dir / f"round{n}" / relative
            if file.is_file():
                return self._render(file, content_type, self._round_times[n - 1])
        return None

    def _render(self, file: Path, content_type: str, last_modified_at: datetime) -> Resource:
        body = file.read_bytes().replace(BASE_PLACEHOLDER.encode(), self.base_url.encode())
        etag = f'"{hashlib.sha256(body).hexdigest()[:20]}"'
        return Resource(body, content_type, etag, last_modified_at)

    def _record(self, url_path: str) -> None:
        with self._lock:
            self.requests.append(urlsplit(url_path).path)


class _DemoServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its DemoSite and skips the reverse-DNS lookup."""

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        site: DemoSite,
    ) -> None:
        self.site = site
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), which can stall for seconds offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = HOST, self.server_address[1]


class _DemoHandler(BaseHTTPRequestHandler):
    """Static files with validators; conditional GETs answered with 304."""

    server: _DemoServer
    protocol_version = "HTTP/1.1"  # keep-alive, like a real site
    disable_nagle_algorithm = True  # else ~40 ms per keep-alive response (see STYLE.md)

    def do_GET(self) -> None:
        self._respond(with_body=True)

    def do_HEAD(self) -> None:
        self._respond(with_body=False)

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: a newcomer's terminal shows claimwatch output, not an access log."""

    def _respond(self, *, with_body: bool) -> None:
        site = self.server.site
        site._record(self.path)
        resource = site.resource(self.path)
        if resource is None:
            self._send(HTTPStatus.NOT_FOUND, b"Not found\n", "text/plain; charset=utf-8", with_body)
            return
        if not_modified(
            self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"), resource
        ):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self._send_validators(resource)
            self.end_headers()
            return
        self._send(HTTPStatus.OK, resource.body, resource.content_type, with_body, resource)

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        with_body: bool,
        resource: Resource | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if resource is not None:
            self._send_validators(resource)
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def _send_validators(self, resource: Resource) -> None:
        self.send_header("ETag", resource.etag)
        self.send_header("Last-Modified", format_datetime(resource.last_modified_at, usegmt=True))
        self.send_header("Cache-Control", "no-cache")  # pollers must revalidate every time
