"""Scale-out for real: a Prefect server on PostgreSQL, a process work pool, two workers, the
deployments of deploy/prefect.yaml deployed from a "laptop checkout" that is gone before any
run, and the sharded deployment triggered by hand over fixture sources on 127.0.0.1.

Then a run in which every source fails: its state is Failed with the reason, and the
Automation of deploy/automation.yaml tells a webhook stand-in on 127.0.0.1 about it.

Everything started here runs in its own process group and is killed in teardown; both
PostgreSQL databases are dropped. Server and worker output goes to files in tmp_path (shown
only when the test fails), so nobody sees the server's shutdown tracebacks.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from claimwatch.flows import shards
from claimwatch.storage.db import engine_for
from tests import postgres
from tests.servers import FeedEntry, Route, SiteServer, rss
from tests.sites import fixture_page, write_sources
from tests.slack import SlackStandIn

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PREFECT = [sys.executable, "-m", "prefect"]
SHARDS = 4  # deploy/prefect.yaml's monitor-sharded
FEEDS = 8
ARTICLES = [  # (path, fixture body, title); each listed by two feeds, so shards race for it
    ("/world/schedule.html", "schedule", "Talks set for Abu Dhabi"),
    ("/world/postponed.html", "postponed", "Abu Dhabi talks postponed"),
    ("/world/postponed-corrected.html", "postponed_edited", "Abu Dhabi talks moved again"),
    ("/wire/schedule.html", "schedule", "Envoys to meet in Abu Dhabi"),
]
DEPLOYMENT = "claimwatch-cycle/monitor-sharded"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Processes:
    """Processes started by this test, each in its own group, output in a file."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, *args: str, cwd: Path = ROOT) -> Path:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([*PREFECT, *args], cwd=cwd, env=self.env, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append((process, log))
        return log

    def run(self, *args: str, cwd: Path = ROOT, program: list[str] = PREFECT) -> str:
        done = subprocess.run([*program, *args], cwd=cwd, env=self.env, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
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
        body = rss(f"Feed {i}", server.base_url, entries)
        if i == 0:  # ISO-8859-1 bytes in a UTF-8 feed: kept, with a warning claimwatch logs
            body = body.replace(b"test feed", b"caf\xe9 feed")
        server.routes[feeds[-1]] = Route(body, "application/rss+xml")
    return feeds


def _wait_healthy(api: str, processes: Processes) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the Prefect server did not come up in 120 s\n{processes.logs()}")


def _deploy_from_a_laptop(tmp_path: Path, processes: Processes) -> None:
    """Deploy from a folder holding only deploy/prefect.yaml, then remove it: a worker must
    never need the directory `prefect deploy` ran in (the pull step)."""
    laptop = tmp_path / "laptop-checkout"
    (laptop / "deploy").mkdir(parents=True)
    shutil.copy(ROOT / "deploy" / "prefect.yaml", laptop / "deploy" / "prefect.yaml")
    processes.run("--no-prompt", "deploy", "--prefect-file", "deploy/prefect.yaml", "--all",
                  cwd=laptop)
    shutil.rmtree(laptop)


def _trigger(api: str, parameters: dict[str, Any]) -> str:
    """`prefect deployment run claimwatch-cycle/monitor-sharded`, through the API."""
    deployment = httpx.get(f"{api}/deployments/name/{DEPLOYMENT}", timeout=10).json()
    run = httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run",
                     json={"parameters": parameters}, timeout=10)
    assert run.status_code == 201, run.text
    return str(run.json()["id"])


def _runs_of_deployment(api: str) -> list[dict[str, Any]]:
    deployment = httpx.get(f"{api}/deployments/name/{DEPLOYMENT}", timeout=10).json()
    found = httpx.post(f"{api}/flow_runs/filter", timeout=10, json={
        "deployments": {"id": {"any_": [deployment["id"]]}}})
    return list(found.json())


def _wait_for(api: str, count: int, processes: Processes, within_s: float = 240
              ) -> list[dict[str, Any]]:
    """The deployment's flow runs once `count` of them exist and all have finished."""
    deadline = time.monotonic() + within_s
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        runs = _runs_of_deployment(api)
        if len(runs) >= count and all(r["state"]["type"] in FINAL for r in runs):
            return runs
        time.sleep(1)
    states = [(r["name"], r["state"]["type"]) for r in runs]
    pytest.fail(f"flow runs unfinished after {within_s:.0f} s: {states}\n{processes.logs()}")


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


def _runs_recorded(url: str) -> dict[str, tuple[str, Any]]:
    """claimwatch's run rows by Prefect flow run id: (status, summary)."""
    with engine_for(url).connect() as conn:
        rows = conn.execute(text("SELECT prefect_flow_run_id, status, summary FROM run")).all()
    return {str(r[0]): (r[1], r[2]) for r in rows}


def _expected_finders(server: SiteServer, feeds: list[str], url: str) -> list[str]:
    """Who found an article: the feeds listing it, each with the shard its URL hashes to."""
    path = url.removeprefix(server.base_url)
    listing = [i for i in range(FEEDS) if path in {ARTICLES[i % len(ARTICLES)][0],
                                                    ARTICLES[(i + 1) % len(ARTICLES)][0]}]
    return sorted(f"Test feed {i} (shard {shards.of(server.url(feeds[i]), SHARDS)}/{SHARDS})"
                  for i in listing)


def _logs(api: str, flow_run_id: str) -> list[dict[str, Any]]:
    found = httpx.post(f"{api}/logs/filter", timeout=10,
                       json={"logs": {"flow_run_id": {"any_": [flow_run_id]}}})
    return list(found.json())


def _artifact(api: str, flow_run_id: str) -> str:
    found = httpx.post(f"{api}/artifacts/filter", timeout=10,
                       json={"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}}).json()
    return "\n".join(str(a.get("data") or "") for a in found)


def _automation(tmp_path: Path, processes: Processes, webhook: str) -> None:
    """deploy/README.md's steps: a webhook notification block, then deploy/automation.yaml."""
    make_block = (
        "from prefect.blocks.notifications import CustomWebhookNotificationBlock as B\n"
        f"b = B(name='claimwatch-ops', url={webhook!r},"
        " json_data={'text': '{{subject}}', 'body': '{{body}}'})\n"
        "print(b.save('claimwatch-ops', overwrite=True))\n")
    block_id = processes.run("-c", make_block, program=[sys.executable]).strip()
    filled = tmp_path / "automation.yaml"
    filled.write_text((ROOT / "deploy" / "automation.yaml").read_text()
                      .replace("BLOCK_DOCUMENT_ID", block_id))
    processes.run("automation", "create", "--from-file", str(filled))


def test_sharded_deployment_run_by_hand_runs_every_shard_on_two_workers(
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
        with SiteServer() as server, SlackStandIn() as ops:
            feeds = _site(server)
            sources = write_sources(tmp_path / "sources.toml", server, feeds)
            processes.start("server", "server", "start", "--host", "127.0.0.1",
                            "--port", api.rsplit(":", 1)[1].split("/")[0])
            _wait_healthy(api, processes)
            processes.run("work-pool", "create", "claimwatch", "--type", "process")
            workers = {}
            for name in ("worker-a", "worker-b"):  # claimwatch "installed elsewhere": their cwd
                (tmp_path / name).mkdir()
                workers[name] = processes.start(name, "worker", "start", "--pool", "claimwatch",
                                                "--name", name, "--limit", "1",
                                                cwd=tmp_path / name)
            _deploy_from_a_laptop(tmp_path, processes)
            _automation(tmp_path, processes, ops.url)

            parent = _trigger(api, {"sources_path": str(sources), "alerts_path": ""})
            runs = _wait_for(api, 1 + SHARDS, processes)
            feed_hits = {feed: len(server.hits(feed)) for feed in feeds}

            dead = tmp_path / "dead.toml"  # every source refused: a Failed run, and a message
            dead.write_text('allow_private_networks = true\n[[feeds]]\nname = "Gone"\n'
                            'url = "http://127.0.0.1:9/rss.xml"\n')
            failed_id = _trigger(api, {"sources_path": str(dead), "alerts_path": "",
                                       "shards": None})
            everything = _wait_for(api, 2 + SHARDS, processes)
            deadline = time.monotonic() + 90
            while not ops.requests and time.monotonic() < deadline:
                time.sleep(1)
            notified = [p.payload for p in ops.requests]

        children = [r for r in runs if r["id"] != parent]
        by_id = {r["id"]: r for r in everything}
        # The hand-triggered run started every shard, each a run of its own, all Completed.
        assert by_id[parent]["state"]["type"] == "COMPLETED", processes.logs()
        assert sorted(r["parameters"]["shard"] for r in children) == [
            f"{k}/{SHARDS}" for k in range(1, SHARDS + 1)], processes.logs()
        assert {r["state"]["type"] for r in children} == {"COMPLETED"}, processes.logs()
        assert sorted(r["name"].split(",")[0] for r in children) == [
            f"cycle shard {k}/{SHARDS}" for k in range(1, SHARDS + 1)]
        assert by_id[parent]["name"].startswith(f"cycle in {SHARDS} shards")
        assert feed_hits == dict.fromkeys(feeds, 1)  # every source polled once, by one shard
        ran_by = {name: _ran(log.read_text(), [r["id"] for r in runs])
                  for name, log in workers.items()}
        assert all(ran_by.values()), f"a worker ran nothing: {ran_by}"
        assert sorted(i for found in ran_by.values() for i in found) == sorted(
            r["id"] for r in runs)
        # Each shard's Run row names its flow run; together they polled every source once.
        recorded = _runs_recorded(claimwatch_db)
        assert {i: recorded[i][0] for i in (r["id"] for r in children)} == {
            r["id"]: "ok" for r in children}
        assert _duplicates(claimwatch_db) == dict.fromkeys(
            ["articles", "versions", "matches", "developments", "alerts"], 0)
        # Developments are credited to the feeds (and shards) that had found their articles
        # when the run recorded them, whichever shard's run matched them.
        credited = [d for r in children for d in recorded[r["id"]][1]["developments"]]
        assert credited, "the fixture pages move a claim: some shard must record a development"
        for dev in credited:
            finders = {f for u in dev["urls"] for f in _expected_finders(server, feeds, u)}
            assert dev["found_by"] and set(dev["found_by"]) <= finders, (dev, finders)
        assert any("| found by |" in _artifact(api, r["id"]) for r in children)
        # claimwatch's own records (a polling thread's warning) reach the shard run's logs.
        warned = [log for r in children for log in _logs(api, r["id"])
                  if log["name"] == "claimwatch.feeds"]
        assert warned and "/feeds/0.xml" in warned[0]["message"], processes.logs()
        # A run in which every source failed is Failed, says why, and is notified.
        failed = by_id[failed_id]
        assert failed["state"]["type"] == "FAILED"
        assert failed["state"]["message"].startswith("every source failed (1 of 1): Gone:")
        assert recorded[failed_id][0] == "failed sources"
        assert notified and any(failed["name"] in str(p) for p in notified), notified
    finally:
        processes.stop_all()
