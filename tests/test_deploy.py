"""Scale-out for real: a Prefect server on PostgreSQL, a process work pool, two workers, the
deployments of deploy/prefect.yaml, and sharded runs over fixture sources on 127.0.0.1.

Everything started here runs in its own process group and is killed in teardown; both
PostgreSQL databases are dropped. Server and worker output goes to files in tmp_path (shown
only when the test fails), so nobody sees the server's shutdown tracebacks.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from claimwatch.storage.db import engine_for
from tests import postgres
from tests.servers import FeedEntry, Route, SiteServer, rss
from tests.sites import fixture_page, write_sources

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PREFECT = [sys.executable, "-m", "prefect"]
SHARDS = 4
FEEDS = 8
ARTICLES = [  # (path, fixture body, title); each listed by two feeds, so shards race for it
    ("/world/schedule.html", "schedule", "Talks set for Abu Dhabi"),
    ("/world/postponed.html", "postponed", "Abu Dhabi talks postponed"),
    ("/world/postponed-corrected.html", "postponed_edited", "Abu Dhabi talks moved again"),
    ("/wire/schedule.html", "schedule", "Envoys to meet in Abu Dhabi"),
]
DEPLOYMENT = "claimwatch-cycle/monitor-sharded"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Processes:
    """Processes started by this test, each in its own group, output in a file."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, *args: str) -> Path:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([*PREFECT, *args], cwd=ROOT, env=self.env, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append((process, log))
        return log

    def run(self, *args: str) -> str:
        done = subprocess.run([*PREFECT, *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def stop_all(self) -> None:
        for process, _ in reversed(self.started):
            _stop(process)

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}"
                         for _, log in self.started)


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)  # the group: flow-run subprocesses go too
        except ProcessLookupError:
            return
        try:
            process.wait(wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture()
def databases() -> Iterator[tuple[str, str]]:
    """Fresh PostgreSQL databases for the Prefect server and for claimwatch; dropped after."""
    import asyncpg  # noqa: F401  (Prefect's server needs it for PostgreSQL: fail loudly if absent)

    with postgres.fresh_database("prefect_test") as (user, prefect_db), \
            postgres.fresh_database("claimwatch_deploy") as (_, claimwatch_db):
        claimwatch_url = postgres.url(user, claimwatch_db)
        yield postgres.url(user, prefect_db, driver="asyncpg"), claimwatch_url
        engine = engine_for(claimwatch_url)
        engine.dispose()


def _site(server: SiteServer) -> list[str]:
    for path, body, title in ARTICLES:
        server.routes[path] = Route(fixture_page(body, title, "2026-02-03", server.url(path),
                                                 body_file=body))
    feeds = []
    for i in range(FEEDS):
        listed = [ARTICLES[i % len(ARTICLES)], ARTICLES[(i + 1) % len(ARTICLES)]]
        entries = [FeedEntry(title, server.url(path), f"feed{i}-{path}") for path, _, title in listed]
        feeds.append(f"/feeds/{i}.xml")
        server.routes[feeds[-1]] = Route(rss(f"Feed {i}", server.base_url, entries),
                                         "application/rss+xml")
    return feeds


def _wait_healthy(api: str, processes: Processes) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the Prefect server did not come up in 90 s\n{processes.logs()}")


def _trigger(api: str, sources: Path) -> list[str]:
    deployment = httpx.get(f"{api}/deployments/name/{DEPLOYMENT}", timeout=10).json()
    ids = []
    for k in range(1, SHARDS + 1):
        parameters = {"shard": f"{k}/{SHARDS}", "sources_path": str(sources), "alerts_path": ""}
        run = httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run",
                         json={"parameters": parameters}, timeout=10)
        assert run.status_code == 201, run.text
        ids.append(run.json()["id"])
    return ids


def _wait_finished(api: str, ids: list[str], processes: Processes) -> dict[str, str]:
    deadline = time.monotonic() + 120
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        for run_id in ids:
            state = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["state"]
            states[run_id] = state["type"]
        if all(s in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"} for s in states.values()):
            return states
        time.sleep(1)
    pytest.fail(f"flow runs unfinished after 120 s: {states}\n{processes.logs()}")


def _ran(worker_log: str, ids: list[str]) -> list[str]:
    """The flow runs a worker submitted and kept (two workers may race for one; one aborts)."""
    return [i for i in ids if f"submitting flow run '{i}'" in worker_log
            and f"Aborted submission of flow run '{i}'" not in worker_log]


def _duplicates(url: str) -> dict[str, int]:
    checks = {
        "articles": "SELECT url FROM article GROUP BY url HAVING count(*) > 1",
        "versions": "SELECT article_id, version FROM article_version"
                    " GROUP BY article_id, version HAVING count(*) > 1",
        "matches": 'SELECT claim_id, article_version_id FROM "match"'
                   " GROUP BY claim_id, article_version_id HAVING count(*) > 1",
        "developments": "SELECT claim_id, relation, CAST(facts AS TEXT) FROM development"
                        " GROUP BY claim_id, relation, CAST(facts AS TEXT) HAVING count(*) > 1",
        "alerts": "SELECT subject, channel FROM alert GROUP BY subject, channel"
                  " HAVING count(*) > 1",
    }
    with engine_for(url).connect() as conn:
        return {name: len(conn.execute(text(sql)).all()) for name, sql in checks.items()}


def _counts(url: str) -> dict[str, int]:
    with engine_for(url).connect() as conn:
        def one(sql: str) -> int:
            return int(conn.execute(text(sql)).scalar_one())

        return {
            "runs ok": one("SELECT count(*) FROM run WHERE status = 'ok'"),
            "sources polled": one("SELECT count(*) FROM source WHERE last_polled_at IS NOT NULL"),
            "sources": one("SELECT count(*) FROM source"),
            "articles": one("SELECT count(*) FROM article"),
            "matches": one('SELECT count(*) FROM "match"'),
        }


def test_sharded_runs_on_two_workers_process_every_source_once_and_store_nothing_twice(
        tmp_path: Path, databases: tuple[str, str]) -> None:
    prefect_db, claimwatch_db = databases
    api = f"http://127.0.0.1:{_free_port()}/api"
    env = {**os.environ,
           "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_API_URL": api,
           "PREFECT_API_DATABASE_CONNECTION_URL": prefect_db,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false",
           "PREFECT_LOGGING_LEVEL": "INFO",  # workers log which flow runs they took
           "PREFECT_WORKER_QUERY_SECONDS": "1",
           "PREFECT_WORKER_HEARTBEAT_SECONDS": "5",
           "CLAIMWATCH_DATABASE_URL": claimwatch_db,
           "CLAIMWATCH_EXTRACT_WORKERS": "1"}
    processes = Processes(tmp_path, env)
    try:
        with SiteServer() as server:
            feeds = _site(server)
            sources = write_sources(tmp_path / "sources.toml", server, feeds)
            processes.start("server", "server", "start", "--host", "127.0.0.1",
                            "--port", api.rsplit(":", 1)[1].split("/")[0])
            _wait_healthy(api, processes)
            processes.run("work-pool", "create", "claimwatch", "--type", "process")
            workers = {name: processes.start(name, "worker", "start", "--pool", "claimwatch",
                                             "--name", name, "--limit", "1")
                       for name in ("worker-a", "worker-b")}
            processes.run("--no-prompt", "deploy", "--prefect-file", "deploy/prefect.yaml",
                          "--name", "monitor-sharded")
            ids = _trigger(api, sources)
            states = _wait_finished(api, ids, processes)
            feed_hits = {feed: len(server.hits(feed)) for feed in feeds}
        ran_by = {name: _ran(log.read_text(), ids) for name, log in workers.items()}
        assert set(states.values()) == {"COMPLETED"}, f"{states}\n{processes.logs()}"
        assert feed_hits == dict.fromkeys(feeds, 1)  # every source polled once, by one shard
        assert all(ran_by.values()), f"a worker ran nothing: {ran_by}"
        assert sorted(i for found in ran_by.values() for i in found) == sorted(ids)
        counts = _counts(claimwatch_db)
        assert counts["runs ok"] == SHARDS and counts["sources polled"] == counts["sources"] == FEEDS
        assert counts["articles"] == len(ARTICLES) and counts["matches"] > 0, counts
        assert _duplicates(claimwatch_db) == dict.fromkeys(
            ["articles", "versions", "matches", "developments", "alerts"], 0)
    finally:
        processes.stop_all()
