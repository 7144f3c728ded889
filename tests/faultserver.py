"""A fault-injecting HTTP server on loopback: every way a web server can misbehave, by path.

Each behaviour is a small function of the request handler. `FaultServer.routes` maps a path to
one; the builders below make them. The server binds a loopback address of your choosing
(127.0.0.1 by default; 127.0.0.2 ... are loopback too on Linux) so that tests can give each
misbehaving source its own host, as on the real web, and per-host politeness limits do not
serialise them.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler

from tests.servers import SiteServer
from tests.servers import send as _send

Behaviour = Callable[[BaseHTTPRequestHandler], None]  # a SiteServer handler route


def static(body: bytes, content_type: str = "text/html; charset=utf-8", status: int = 200,
           headers: dict[str, str] | None = None) -> Behaviour:
    """A plain answer (200 feed, 404, 410, a PDF, HTML where a feed was expected ...)."""
    return lambda h: _send(h, status, body, content_type, headers)


def empty() -> Behaviour:
    """200 with no body at all."""
    return static(b"", "application/rss+xml")


def fail_then_recover(failures: int, body: bytes, content_type: str = "application/rss+xml",
                      status: int = 500) -> Behaviour:
    """`status` for the first `failures` requests, then the real answer."""
    count = {"n": 0}
    lock = threading.Lock()

    def behave(h: BaseHTTPRequestHandler) -> None:
        with lock:
            count["n"] += 1
            failing = count["n"] <= failures
        if failing:
            _send(h, status, b"internal error", "text/plain")
        else:
            _send(h, 200, body, content_type)

    return behave


def too_many_requests(retry_after: str) -> Behaviour:
    """429 with a Retry-After header (seconds or an HTTP date)."""
    return static(b"slow down", "text/plain", 429, {"Retry-After": retry_after})


def stall(stop: threading.Event) -> Behaviour:
    """Accept the request and never answer (until the server stops)."""
    return lambda h: stop.wait()


def drip(body: bytes, interval_s: float, stop: threading.Event,
         content_type: str = "application/rss+xml") -> Behaviour:
    """The whole response, status line and headers included, one byte per `interval_s`."""
    def behave(h: BaseHTTPRequestHandler) -> None:
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        for i in range(len(head) + len(body)):
            byte = (head + body)[i:i + 1]
            try:
                h.wfile.write(byte)
                h.wfile.flush()
            except OSError:
                return  # the client gave up, as it should
            if stop.wait(interval_s):
                return
        h.close_connection = True

    return behave


def endless(stop: threading.Event, content_type: str = "application/rss+xml") -> Behaviour:
    """A 200 with no length that never ends: a feed opening, then filler forever."""
    def behave(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        chunk = b"<item><title>again</title></item>" * 2000
        try:
            h.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
            while not stop.is_set():
                h.wfile.write(chunk)
        except OSError:
            return

    return behave


def gzip_bomb(decompressed_bytes: int, content_type: str = "application/rss+xml") -> Behaviour:
    """A small gzip body that inflates to `decompressed_bytes` of zeros."""
    body = gzip.compress(b"\0" * decompressed_bytes, compresslevel=9)
    return static(body, content_type, headers={"Content-Encoding": "gzip"})


def truncated(body: bytes, keep: int, content_type: str = "application/rss+xml") -> Behaviour:
    """Announce the full length, send only `keep` bytes, close the connection."""
    def behave(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[:keep])
        h.wfile.flush()
        h.close_connection = True

    return behave


def redirect(location: str, status: int = 302) -> Behaviour:
    """A redirect to anywhere: another path, a loop, a private or link-local address."""
    return static(b"", "text/plain", status, {"Location": location})


def reset() -> Behaviour:
    """Read the request, then reset the connection (RST, not a clean close)."""
    def behave(h: BaseHTTPRequestHandler) -> None:
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.close_connection = True
        h.connection.close()

    return behave


class FaultServer(SiteServer):
    """A SiteServer whose routes are the behaviours above; `stop` wakes stalls and drips."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.stop = threading.Event()

    def __enter__(self) -> FaultServer:
        super().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        super().__exit__(*exc)

    def hits(self, path: str) -> int:  # type: ignore[override]
        """How many requests asked for exactly `path` (SiteServer's: the paths under a prefix)."""
        with self._lock:
            return sum(1 for p in self.requests if p == path)
