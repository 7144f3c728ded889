"""The `claimwatch` command end to end on the offline demo site and a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from claimwatch.flows.app.cli import main
from claimwatch.flows.app.commands import EXIT_FAILED_SOURCES, EXIT_OK
from claimwatch.flows.app.demo_site import DemoSite
from tests.conftest import ROOT

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
