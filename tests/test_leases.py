"""Runs never overlap on the same sources: the second finds the lease taken and ends cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlmodel import func, select

from claimwatch.flows import settings
from claimwatch.flows.monitor import cycle
from claimwatch.flows.settings import DEFAULT_CLAIMS
from claimwatch.storage import leases
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Run
from tests.servers import FeedEntry, Route, SiteServer, rss
from tests.sites import write_sources

ROOT = Path(__file__).resolve().parent.parent
SLOW_FEED_S = 6.0  # long enough for the second process to start while the first still polls


def _runs(db_url: str) -> int:
    with session(engine_for(db_url)) as s:
        return s.exec(select(func.count()).select_from(Run)).one()


@pytest.mark.usefixtures("prefect_api")
def test_a_cycle_that_finds_its_sources_leased_does_nothing_and_says_so(
        tmp_path: Path, db_url: str) -> None:
    held = leases.take(engine_for(db_url), leases.name_for(None), datetime.now(UTC))
    assert isinstance(held, leases.Grant)
    with SiteServer() as server:
        server.routes["/feed.xml"] = Route(rss("F", server.base_url, []), "application/rss+xml")
        sources = write_sources(tmp_path / "sources.toml", server, ["/feed.xml"])
        with settings.database(db_url):
            result = cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources))
        assert server.hits("/") == []
    assert "already running" in result["busy"] and held.holder in result["busy"]
    assert _runs(db_url) == 0
    leases.release(engine_for(db_url), held)
    with SiteServer() as server:
        server.routes["/feed.xml"] = Route(rss("F", server.base_url, []), "application/rss+xml")
        sources = write_sources(tmp_path / "sources.toml", server, ["/feed.xml"])
        with settings.database(db_url):
            again = cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources))
    assert "busy" not in again and _runs(db_url) == 1


def _slow_feed(server: SiteServer) -> None:
    body = rss("Slow wire", server.base_url,
               [FeedEntry("Nothing yet", server.url("/nothing.html"), "n-1")])

    def handler(request: BaseHTTPRequestHandler) -> None:
        time.sleep(SLOW_FEED_S)
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    server.routes["/slow.xml"] = handler
    server.routes["/nothing.html"] = Route(b"<html><body><p>Nothing.</p></body></html>")


@pytest.mark.slow
def test_two_cycles_started_at_once_on_one_sqlite_file_one_runs_one_says_busy(
        tmp_path: Path, db_url: str, prefect_api: str) -> None:
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "CLAIMWATCH_PAGE_DEADLINE_S": "5"}
    with SiteServer() as server:
        _slow_feed(server)
        sources = write_sources(tmp_path / "sources.toml", server, ["/slow.xml"])
        command = [sys.executable, "-m", "claimwatch.flows.app.cli", "run", "--db", db_url,
                   "--sources", str(sources)]
        runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [run.communicate(timeout=120) for run in runs]
        feed_hits = len(server.hits("/slow.xml"))
    codes = [run.returncode for run in runs]
    said = [out + err for out, err in outputs]
    assert codes == [0, 0], said
    busy = [s for s in said if "already running on these sources" in s]
    ran = [s for s in said if "feeds polled: 1" in s]
    assert len(busy) == 1 and len(ran) == 1, said
    assert not any("database is locked" in s or "Traceback" in s for s in said), said
    assert feed_hits == 1 and _runs(db_url) == 1
