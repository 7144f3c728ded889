"""A real HTTP server on 127.0.0.1 standing in for a Slack incoming webhook.

It answers from a script of responses (then 200 "ok"), records every request, and shows what a
receiver that drops repeats of the same idempotency key would keep.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WEBHOOK_PATH = "/services/T0000/B0000/stand-in-secret-token"


@dataclass
class Answer:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    stall_s: float = 0.0  # wait this long before answering: a client with a shorter timeout gives up


@dataclass(frozen=True)
class Posted:
    status: int  # what the stand-in answered
    key: str | None  # the Idempotency-Key header
    payload: dict[str, Any]


class SlackStandIn:
    """POST WEBHOOK_PATH with JSON; `script` answers first, then 200 ok."""

    def __init__(self, port: int = 0) -> None:
        self.script: list[Answer] = []
        self.requests: list[Posted] = []
        self._lock = threading.Lock()
        stand_in = self

        class _Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # else ~40 ms stall per keep-alive response
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with stand_in._lock:
                    answer = stand_in.script.pop(0) if stand_in.script else Answer()
                    if self.path != WEBHOOK_PATH:
                        answer = Answer(404, "no_service")
                    stand_in.requests.append(Posted(answer.status,
                                                    self.headers.get("Idempotency-Key"),
                                                    json.loads(body or b"{}")))
                if answer.stall_s:
                    time.sleep(answer.stall_s)
                data = answer.body.encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                for k, v in answer.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{WEBHOOK_PATH}"

    def __enter__(self) -> SlackStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def accepted(self) -> list[Posted]:
        """Requests answered 2xx: what Slack would have posted."""
        with self._lock:
            return [p for p in self.requests if 200 <= p.status < 300]

    def messages(self) -> list[Posted]:
        """What a receiver keeps when it drops a repeat of an idempotency key it has seen."""
        seen: set[str | None] = set()
        kept = []
        for posted in self.accepted():
            if posted.key not in seen:
                seen.add(posted.key)
                kept.append(posted)
        return kept


def texts(payload: dict[str, Any]) -> list[str]:
    """Every mrkdwn or plain text in a payload, fallback included."""
    found = [payload.get("text", "")]
    for block in payload.get("blocks", []):
        if "text" in block:
            found.append(block["text"]["text"])
        found += [e.get("text", "") for e in block.get("elements", [])]
    return found
