"""The command line as a user meets it: errors that name the problem, exit codes, times for
people, help with examples, export into a pipe that closes early (real SQLite files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from claimwatch.flows.app import runner
from claimwatch.flows.app.cli import EXIT_PIPE_CLOSED, main
from claimwatch.flows.app.commands import EXIT_BAD_INPUT, EXIT_OK
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Item, Source
from tests.conftest import ROOT
from tests.test_report import Builder, at, build_fixture

READ_COMMANDS = [["developments"], ["claims"], ["export"], ["export", "--json"], ["sources"],
                 ["report", "--out", "REPORT"], ["alerts"], ["db", "version"]]


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("command", READ_COMMANDS, ids=[" ".join(c) for c in READ_COMMANDS])
def test_a_read_command_on_a_missing_database_names_it_and_creates_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    missing = tmp_path / "no-such-folder" / "claimwatch.db"
    args = [str(tmp_path / "site") if a == "REPORT" else a for a in command]
    code, out, err = _cli(capsys, *args, "--db", f"sqlite:///{missing}")
    assert code == EXIT_BAD_INPUT
    assert err == f"error: no claimwatch database at {missing} (nothing was created)" + (
        "" if command == ["db", "version"] else ": check --db or $CLAIMWATCH_DATABASE_URL, "
        "or create it with `claimwatch run`") + "\n"
    assert out == "" and sorted(p.name for p in tmp_path.iterdir()) == []


def test_db_upgrade_creates_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "new" / "claimwatch.db"
    code, out, _ = _cli(capsys, "db", "upgrade", "--db", f"sqlite:///{path}")
    assert code == EXIT_OK and path.is_file() and "schema version" in out


@pytest.mark.parametrize("command", [["developments"], ["report", "--out", "REPORT"]])
def test_an_unknown_claim_is_said_with_the_known_ids(
        db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    build_fixture(db_url)
    args = [str(tmp_path / "site") if a == "REPORT" else a for a in command]
    code, out, err = _cli(capsys, *args, "--claim", "nosuchclaim", "--db", db_url)
    assert code == EXIT_BAD_INPUT and out == ""
    assert err == "error: unknown claim 'nosuchclaim'; known claims: deal, quiet, talks\n"
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("command", [["report", "--out", "REPORT"], ["developments"]])
def test_a_bad_since_exits_2_and_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        command: list[str]) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("CLAIMWATCH_HOME", str(home))  # the default database would live here
    args = [str(tmp_path / "site") if a == "REPORT" else a for a in command]
    code, out, err = _cli(capsys, *args, "--since", "notadate")
    assert code == EXIT_BAD_INPUT and out == ""
    assert err == ("error: --since 'notadate' is not a date: use ISO 8601, e.g. 2026-02-01 "
                   "or 2026-02-01T09:30\n")
    assert not home.exists() and not (tmp_path / "site").exists()


def _with_listed_url(db_url: str) -> None:
    """The first article reached through a feed link that is not its canonical URL."""
    with session(engine_for(db_url)) as s:
        source = Source(kind="feed", name="Wire", url="https://wire.example/rss", added_at=at(1))
        s.add(source)
        s.flush()
        s.add(Item(source_id=source.id, key="guid:1", url="https://news.example/1?utm_source=rss",
                   title="t", first_seen_at=at(1), article_id=1, pending=False))


def test_export_writes_json_without_a_flag_with_the_stored_articles(
        db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    build_fixture(db_url)
    _with_listed_url(db_url)
    code, out, _ = _cli(capsys, "export", "--db", db_url)
    assert code == EXIT_OK
    data = json.loads(out)
    assert list(data) == ["claims", "matches", "developments", "articles"]
    assert _cli(capsys, "export", "--json", "--db", db_url)[1] == out  # old scripts still work
    articles = data["articles"]
    assert len(articles) == 8 and all(len(a["versions"]) == 1 for a in articles)
    first = articles[0]
    assert first == {
        "url": "https://news.example/1?utm_source=rss", "canonical_url": "https://news.example/1",
        "listed_urls": ["https://news.example/1?utm_source=rss"],
        "title": "Abu Dhabi talks delayed to February 7", "outlet": "Harbor Wire",
        "published_at": "2026-02-01T09:00:00+00:00", "first_seen_at": "2026-02-01T10:00:00+00:00",
        "versions": [{"version": 1, "title": "Abu Dhabi talks delayed to February 7",
                      "fetched_at": "2026-02-01T10:00:00+00:00", "text_hash": "1"}]}
    assert articles[1]["url"] == articles[1]["canonical_url"] == "https://news.example/2"


def test_times_are_shown_to_people_in_utc_minutes_and_kept_iso_in_json(
        db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    build_fixture(db_url)
    _, text, _ = _cli(capsys, "developments", "--claim", "talks", "--db", db_url)
    assert "reported 2026-02-01, first seen 2026-02-01 12:00 UTC; 2 source(s)" in text
    assert "+00:00" not in text and "T12:00" not in text
    _, raw, _ = _cli(capsys, "developments", "--claim", "talks", "--json", "--db", db_url)
    assert json.loads(raw)[0]["first_seen_at"] == "2026-02-01T12:00:00+00:00"
    _, claims, _ = _cli(capsys, "claims", "--db", db_url)
    assert "  2026-02-01  updates" in claims and "+00:00" not in claims


def test_export_into_a_pipe_closed_early_ends_without_a_traceback(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'big.db'}"
    build_fixture(db_url)
    with session(engine_for(db_url)) as s:  # an export far larger than a pipe's buffer
        b = Builder(s)
        for n in range(1500):
            b.article(f"Archived story number {n} with a longish title", 3, url=f"https://a.example/{n}")
    shell = (f"set -o pipefail; {sys.executable} -m claimwatch.flows.app.cli export --db {db_url}"
             " | head -c 3000 > /dev/null")
    proc = subprocess.run(["bash", "-c", shell], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.stderr == ""
    assert proc.returncode == EXIT_PIPE_CLOSED  # as any Unix tool whose reader stopped early


def test_help_is_written_for_users_with_an_example_per_command(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    text = capsys.readouterr().out
    assert done.value.code == 0
    assert "argument parsing" not in text and "examples:" in text and "exit codes:" in text
    commands = ["run", "serve", "demo", "developments", "claims", "export", "report", "sources",
                "alerts", "db"]
    for command in commands:
        assert f"\n    {command} " in text or f"\n    {command}\n" in text, command
        with pytest.raises(SystemExit):
            main([command, "--help"])
        page = capsys.readouterr().out
        assert "example" in page and f"claimwatch {command}" in page, command


def test_a_cycle_where_every_source_failed_says_so_first() -> None:
    result = {"run_id": 3, "developments": [],
              "poll": {"polled": 15, "not_modified": 0, "warnings": {}, "backing_off": [],
                       "failed": {f"Feed {i}": "refused: no DNS" for i in range(15)}},
              "read": {"new_articles": 0, "new_versions": 0, "failed": {"P1": "x", "P2": "x"},
                       "failed_pages": {"P1": "x", "P2": "x"}, "pages_read": 0},
              "match": {"matches": 0, "developments": []}}
    lines = runner.summary_text(result).splitlines()
    assert lines[1].startswith("  EVERY SOURCE FAILED: none of the 17 source(s) could be read")
    result["poll"]["failed"] = {"Feed 1": "HTTP 500"}
    assert runner.summary_text(result).splitlines()[1] == (
        "  3 of 17 sources failed (reasons below); the others were read.")


def test_sources_shows_which_are_disabled_or_polled_less_often_in_utc_minutes(
        db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with session(engine_for(db_url)) as s:
        s.add(Source(kind="feed", name="Wire", url="https://wire.example/rss", added_at=at(1),
                     last_status="ok", last_success_at=at(3, 14)))
        s.add(Source(kind="feed", name="Dropped", url="https://gone.example/rss", added_at=at(1)))
    listed = tmp_path / "sources.toml"
    listed.write_text('[[feeds]]\nname = "Wire"\nurl = "https://wire.example/rss"\ninterval = 60\n'
                      '[[feeds]]\nname = "Off"\nurl = "https://off.example/rss"\nenabled = false\n')
    code, out, _ = _cli(capsys, "sources", "--sources", str(listed), "--db", db_url)
    assert code == EXIT_OK
    assert out.splitlines() == [
        "Off [feed] https://off.example/rss",
        "  disabled in the sources file (enabled = false): not polled",
        "Wire [feed] https://wire.example/rss",
        "  polled every 60 minutes at most",
        "  last status: ok; error score 0.0 (0 failure(s) in a row)",
        "  last success: 2026-02-03 14:00 UTC; next poll: next cycle",
        "Dropped [feed] https://gone.example/rss",
        "  not in the sources file any more: never polled again",
        "  last status: never polled; error score 0.0 (0 failure(s) in a row)",
        "  last success: never; next poll: next cycle"]
