"""A real HTTP server on 127.0.0.1 that Apprise's json:// and form:// targets post to.

It answers from a script (then 200), can stall an answer to make the client time out, records
every request with its Idempotency-Key header and its fields (JSON or form-encoded), and shows
what a receiver dropping repeats of a key would keep.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

TOKEN = "apprise-target-secret-Kq72"  # the secret part of the target's path
PATH = f"/hooks/{TOKEN}"
PASSWORD = "apprise-pass-Wx31"  # the URL's password: a secret too


@dataclass
class Reply:
    status: int = 200
    stall_s: float = 0.0  # wait this long before answering (a client timeout)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    status: int
    path: str
    key: str | None  # the Idempotency-Key header
    content_type: str
    fields: dict[str, str]  # title, message, type ...


class AppriseTarget:
    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        target = self

        class _Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                kind = self.headers.get("Content-Type", "")
                with target._lock:
                    reply = target.script.pop(0) if target.script else Reply()
                if reply.stall_s:
                    time.sleep(reply.stall_s)
                if kind.startswith("application/json"):
                    fields = {k: str(v) for k, v in json.loads(body or b"{}").items()}
                else:
                    fields = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                with target._lock:
                    target.requests.append(Received(reply.status, self.path,
                                                    self.headers.get("Idempotency-Key"),
                                                    kind, fields))
                self.send_response(reply.status)
                self.send_header("Content-Length", "2")
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(b"ok")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, scheme: str = "json") -> str:
        """An Apprise URL for this server: the password and the path's token are secrets."""
        return f"{scheme}://claimwatch:{PASSWORD}@127.0.0.1:{self.port}{PATH}"

    def __enter__(self) -> AppriseTarget:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if 200 <= r.status < 300]

    def messages(self) -> list[Received]:
        """What a receiver keeps when it drops a repeat of an idempotency key it has seen."""
        seen: set[str | None] = set()
        kept = []
        for received in self.accepted():
            if received.key not in seen:
                seen.add(received.key)
                kept.append(received)
        return kept
