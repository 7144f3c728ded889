"""The `claimwatch` command end to end on the offline demo site and a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from claimwatch.flows.app.cli import main
from claimwatch.flows.app.commands import EXIT_BAD_INPUT, EXIT_FAILED_SOURCES, EXIT_OK
from claimwatch.flows.app.demo_site import DemoSite
from tests.conftest import ROOT
from tests.smtp import free_port

pytestmark = pytest.mark.usefixtures("prefect_api")


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_run_twice_on_the_same_sources_adds_nothing_the_second_time(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with DemoSite(round=2) as site:
        sources = tmp_path / "sources.toml"
        site.write_sources(sources)
        code, first = _cli(capsys, "run", "--sources", str(sources), "--db", db_url)
        assert code == EXIT_OK, first
        code, second = _cli(capsys, "run", "--sources", str(sources), "--db", db_url)
    assert "matches: 0  developments: 0" not in first
    assert "new articles: 0  new versions: 0" in second
    assert "matches: 0  developments: 0" in second


def test_export_has_the_documented_shape(tmp_path: Path, db_url: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    with DemoSite(round=2) as site:
        sources = tmp_path / "sources.toml"
        site.write_sources(sources)
        _cli(capsys, "run", "--sources", str(sources), "--db", db_url)
    code, out = _cli(capsys, "export", "--json", "--db", db_url)
    data = json.loads(out)
    assert code == EXIT_OK and set(data) == {"claims", "matches", "developments", "articles"}
    assert {"id", "statement", "facts", "state"} == set(data["claims"][0])
    assert data["matches"], "the demo's round 2 moves claims: there must be matches"
    match_keys = {"claim", "url", "title", "published_at", "relation", "evidence", "facts",
                  "version", "development_id"}
    assert all(set(m) == match_keys for m in data["matches"])
    assert {m["relation"] for m in data["matches"]} <= {"confirms", "updates", "contradicts", "mentions"}
    dev_keys = {"id", "claim", "relation", "summary", "facts", "first_seen_at", "urls"}
    assert all(set(d) == dev_keys for d in data["developments"])
    dev_ids = {d["id"] for d in data["developments"]}
    assert all(m["development_id"] in dev_ids for m in data["matches"] if m["development_id"])
    assert all(m["evidence"] and m["url"].startswith("http") for m in data["matches"])


def test_developments_show_evidence_and_facts(tmp_path: Path, db_url: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with DemoSite(round=1) as site:
        sources = tmp_path / "sources.toml"
        site.write_sources(sources)
        _cli(capsys, "run", "--sources", str(sources), "--db", db_url)
        site.set_round(2)
        _cli(capsys, "run", "--sources", str(sources), "--db", db_url)
    code, out = _cli(capsys, "developments", "--claim", "abu-dhabi-talks", "--db", db_url)
    assert code == EXIT_OK
    assert "[abu-dhabi-talks] UPDATES" in out
    assert "facts: " in out and '- "' in out
    code, out = _cli(capsys, "developments", "--json", "--db", db_url)
    rows = json.loads(out)
    assert rows and all(r["evidence"] and r["evidence"][0]["sentence"] for r in rows)
    code, out = _cli(capsys, "claims", "--db", db_url)
    assert "abu-dhabi-talks  (updated)" in out


def test_unreachable_sources_are_named_with_the_reason_and_no_traceback(
    tmp_path: Path, prefect_api: str
) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[feeds]]\nname = "Loopback feed"\nurl = "http://127.0.0.1:9/rss.xml"\n'
        '[[pages]]\nname = "Private page"\nurl = "http://10.0.0.1/page"\n'
    )
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "CLAIMWATCH_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "claimwatch.flows.app.cli", "run", "--sources", str(sources)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == EXIT_FAILED_SOURCES, proc.stderr
    assert proc.stdout.splitlines()[1] == (
        "  EVERY SOURCE FAILED: none of the 2 source(s) could be read, so nothing new was stored."
        " The reasons are below; with no network at all, every source fails this way.")
    assert "FAILED Loopback feed: refused: 127.0.0.1 resolves to non-public address" in proc.stdout
    assert "FAILED Private page: refused: 10.0.0.1" in proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout
    assert (tmp_path / "claimwatch.db").exists()


def test_run_with_report_rewrites_the_report_and_its_feed_after_the_cycle(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    site_dir = tmp_path / "site"
    with DemoSite(round=1) as site:
        sources = tmp_path / "sources.toml"
        site.write_sources(sources)
        _cli(capsys, "run", "--sources", str(sources), "--db", db_url, "--report", str(site_dir))
        first = feedparser.parse((site_dir / "developments.xml").read_bytes())
        site.set_round(2)
        code, out = _cli(capsys, "run", "--sources", str(sources), "--db", db_url,
                         "--report", str(site_dir))
    assert code == EXIT_OK, out
    assert f"  report: {site_dir / 'index.html'} and {site_dir / 'developments.xml'}" in out
    assert "CLAIMWATCH_REPORT_DIR" not in os.environ  # --report lasts for its own run only
    feed = feedparser.parse((site_dir / "developments.xml").read_bytes())
    developments = json.loads(_cli(capsys, "developments", "--json", "--db", db_url)[1])
    assert feed.bozo == 0 and len(feed.entries) == len(developments) > len(first.entries)
    assert {e.title.split(" ")[0] for e in feed.entries} == {d["claim"] for d in developments}
    assert 'id="claim-abu-dhabi-talks"' in (site_dir / "index.html").read_text()


# ---------------------------------------------------------------- with Prefect, or without


def _fresh_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A new user's environment: an empty HOME, no claimwatch or Prefect home of its own yet."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"CLAIMWATCH_HOME", "PREFECT_HOME", "PREFECT_API_URL"}}
    (tmp_path / "home").mkdir(exist_ok=True)
    return {**env, "HOME": str(tmp_path / "home"), **extra}


def _claimwatch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The README's command: .venv/bin/claimwatch (this interpreter's console script)."""
    command = [str(Path(sys.executable).with_name("claimwatch")), *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def test_a_one_off_run_is_plain_python_without_prefect(tmp_path: Path) -> None:
    script = ("import sys\nfrom claimwatch.flows.app.cli import main\ncode = main(sys.argv[1:])\n"
              "print('prefect imported' if 'prefect' in sys.modules else 'no prefect', code)\n")
    with DemoSite(round=2) as site:
        sources = tmp_path / "sources.toml"
        site.write_sources(sources)
        done = subprocess.run([sys.executable, "-c", script, "run", "--sources", str(sources),
                               "--alerts", ""], cwd=ROOT, env=_fresh_env(tmp_path),
                              capture_output=True, text=True, timeout=300, check=False)
    assert done.stdout.rstrip().endswith("no prefect 0"), done.stdout + done.stderr
    assert "new articles: 0" not in done.stdout  # it did the work
    assert not (tmp_path / "home" / ".prefect").exists()  # and started no Prefect server


def test_a_prefect_server_that_does_not_answer_leaves_a_plain_run_and_a_line(
        tmp_path: Path) -> None:
    with DemoSite(round=1) as site:
        sources = tmp_path / "sources.toml"
        site.write_sources(sources)
        api = f"http://user:cw-api-secret@127.0.0.1:{free_port()}/api"
        done = _claimwatch(_fresh_env(tmp_path, PREFECT_API_URL=api), "run", "--sources",
                           str(sources), "--alerts", "")
    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    assert (f"the Prefect server at http://127.0.0.1:{api.rsplit(':', 1)[1]} does not answer;"
            " this cycle runs without Prefect") in done.stderr
    assert "claimwatch cycle 1" in done.stdout and "cw-api-secret" not in done.stderr


def test_a_bad_shard_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--shard", "5/4", "--db", f"sqlite:///{tmp_path / 'x.db'}"]) == \
        EXIT_BAD_INPUT
    assert "error: --shard: shard '5/4': the part must be between 1 and 4" in \
        capsys.readouterr().err


@pytest.fixture()
def saturated_cpus() -> Iterator[int]:
    """Every core busy and a queue behind them (load about 5 on 2 cores), for the test's length."""
    count = (os.cpu_count() or 1) + 3
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield count
    finally:
        for loop in loops:  # only the processes started just above, by their own handles
            loop.kill()
            loop.wait()


@pytest.mark.slow
def test_the_readme_command_on_a_saturated_machine_with_a_fresh_home_never_prints_a_traceback(
        tmp_path: Path, saturated_cpus: int) -> None:
    with DemoSite(round=2) as site:
        sources = tmp_path / "sources.toml"
        site.write_sources(sources)
        plain = _claimwatch(_fresh_env(tmp_path), "run", "--sources", str(sources))
        # The Prefect path on request, its temporary server given too little time to start:
        # the cycle still runs, and a line says so.
        prefect = _claimwatch(_fresh_env(tmp_path, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS
                                         ="1"), "run", "--sources", str(sources), "--prefect")
    for done in (plain, prefect):
        assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
        assert done.returncode == EXIT_OK, done.stdout + done.stderr
    assert "new articles: 0" not in plain.stdout
    assert (tmp_path / "home" / ".claimwatch" / "claimwatch.db").exists()
    assert "Prefect's temporary server did not start within 1 s" in prefect.stderr
    assert "new articles: 0  new versions: 0" in prefect.stdout  # the same sources, done already
