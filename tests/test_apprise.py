"""The Apprise channel kind against a real local endpoint (Apprise's json:// and form://
targets): how its answers map to sent / retry / failed, the outbox's guarantees through real
cycles, and its URL kept out of every log record, the CLI's output and the database."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claimwatch.flows.alerts import apprise
from claimwatch.flows.alerts import config as alert_config
from claimwatch.flows.alerts import secrets as alert_secrets
from claimwatch.flows.alerts.config import AlertsConfigError
from claimwatch.flows.alerts.policy import Channel
from claimwatch.flows.alerts.secrets import Credentials
from claimwatch.flows.app import cli
from claimwatch.flows.settings import DEFAULT_CLAIMS
from claimwatch.storage.models import Alert
from tests.alert_site import alert_rows, run_cycle, serve_round, sources_file
from tests.apprise_target import PASSWORD, TOKEN, AppriseTarget, Reply
from tests.conftest import ROOT
from tests.servers import SiteServer
from tests.smtp import free_port
from tests.test_secrets import prefect_database_bytes

ENV = "CW_TEST_APPRISE_URL"
SECRETS = (TOKEN, PASSWORD)


def _alerts(folder: Path, inline_wait_s: float = 5, extra: str = "") -> Path:
    path = folder / "alerts.toml"
    path.write_text("\n".join([
        "[delivery]", "retry_s = [60, 300]", "lease_s = 0", f"inline_wait_s = {inline_wait_s}", "",
        "[[channels]]", 'name = "desk"', 'kind = "apprise"', f'url_env = "{ENV}"',
        'immediate = ["updates", "contradicts"]', 'digest = ["confirms"]', "min_interval_s = 0",
        "timeout_s = 2", extra, ""]))
    return path


@pytest.fixture()
def target() -> Iterator[AppriseTarget]:
    with AppriseTarget() as server:
        yield server


# ---------------------------------------------------------------- configuration


def test_an_apprise_channel_names_where_its_url_lives(tmp_path: Path) -> None:
    config = alert_config.load(_alerts(tmp_path))
    (desk,) = config.channels
    assert (desk.kind, desk.url_env, desk.timeout_s) == ("apprise", ENV, 2)
    bare = '[[channels]]\nname = "a"\nkind = "apprise"\n'
    (tmp_path / "bad.toml").write_text(bare)
    with pytest.raises(AlertsConfigError, match="channel 'a': set url_env"):
        alert_config.load(tmp_path / "bad.toml")
    (tmp_path / "bad.toml").write_text(bare + 'url = "json://x"\n')
    with pytest.raises(AlertsConfigError, match=r"unknown key\(s\) url;"):
        alert_config.load(tmp_path / "bad.toml")


@pytest.mark.parametrize(("value", "problem"), [
    (None, f"unconfigured: set ${ENV}"),
    ("nonsense-without-a-scheme", "misconfigured: Apprise does not understand the URL"),
    ("json://127.0.0.1/a json://127.0.0.1/b", "misconfigured: it holds 2 Apprise URLs"),
])
def test_an_unusable_url_leaves_the_channel_waiting_and_is_never_quoted(
        monkeypatch: pytest.MonkeyPatch, value: str | None, problem: str) -> None:
    if value is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, value)
    said = alert_secrets.credentials(Channel("desk", "apprise", url_env=ENV))
    assert isinstance(said, str) and said.startswith(problem)
    assert value is None or (value not in said and "127.0.0.1" not in said)


def test_mass_mentions_are_defused_in_title_and_body() -> None:
    note = apprise.message("[claimwatch] Updated x @everyone", "see <!channel> and <@U123> @here")
    assert note.title == "Updated x @\u2060everyone"
    assert "@here" not in note.body and "<!channel>" not in note.body and "<@U123>" not in note.body
    assert "@\u2060here" in note.body


# ---------------------------------------------------------------- answers -> outcomes


@pytest.mark.slow
@pytest.mark.parametrize(("scheme", "service"), [("json", "JSON"), ("form", "Form")])
@pytest.mark.parametrize(("reply", "outcome"), [
    (Reply(200), "sent"), (Reply(204), "sent"), (Reply(500), "retry"), (Reply(503), "retry"),
    (Reply(429, headers={"Retry-After": "1"}), "retry"), (Reply(408), "retry"),
    (Reply(400), "failed"), (Reply(401), "failed"), (Reply(404), "failed")])
def test_answers_map_to_sent_retry_or_failed(target: AppriseTarget, scheme: str, service: str,
                                             reply: Reply, outcome: str) -> None:
    target.script = [reply]
    sent = apprise.send_apprise(target.url(scheme), apprise.message("Title", "Body"), "key-1")
    assert sent.outcome == outcome, sent
    assert sent.unreachable is False
    if outcome != "sent":
        assert sent.error == f"Apprise ({service}) answered HTTP {reply.status}"
    (received,) = target.requests
    assert received.key == "key-1"  # the idempotency key rides as a header
    assert (received.fields["title"], received.fields["message"]) == ("Title", "Body")


@pytest.mark.slow
def test_a_timeout_and_a_closed_port_are_retried_as_unreachable(target: AppriseTarget) -> None:
    target.script = [Reply(200, stall_s=3)]
    slow = apprise.send_apprise(target.url(), apprise.message("t", "b"), "k", timeout_s=1)
    closed = apprise.send_apprise(f"json://127.0.0.1:{free_port()}/hooks/{TOKEN}",
                                  apprise.message("t", "b"), "k", timeout_s=1)
    for sent in (slow, closed):
        assert (sent.outcome, sent.unreachable) == ("retry", True)
        assert sent.error.startswith("Apprise (JSON) could not be reached")
        assert TOKEN not in sent.error


@pytest.mark.slow
def test_no_record_apprise_or_urllib3_makes_reaches_another_handler(
        target: AppriseTarget, caplog: pytest.LogCaptureFixture) -> None:
    """Prefect attaches its API handler to loggers named in PREFECT_LOGGING_EXTRA_LOGGERS:
    handlers on Apprise's and urllib3's own loggers must not see the URL either."""
    caplog.set_level(logging.DEBUG)
    direct = [logging.getLogger(n) for n in ("apprise", "urllib3.connectionpool")]
    for logger in direct:
        logger.addHandler(caplog.handler)
    try:
        target.script = [Reply(500), Reply(200)]
        first = apprise.send_apprise(target.url(), apprise.message("t", "b"), "k1")
        second = apprise.send_apprise(target.url("form"), apprise.message("t", "b"), "k2")
        logging.getLogger("urllib3.connectionpool").debug("after %s", "the send")
    finally:
        for logger in direct:
            logger.removeHandler(caplog.handler)
    assert (first.outcome, second.outcome) == ("retry", "sent") and len(target.requests) == 2
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert [s for s in SECRETS if s in logged] == []
    assert "urllib3.connectionpool after the send" in logged  # the loggers work again after
    assert logging.getLogger("apprise").propagate and logging.getLogger("urllib3").propagate


@pytest.mark.slow
def test_the_url_can_come_from_a_prefect_secret_block(target: AppriseTarget,
                                                      prefect_api: str) -> None:
    from prefect.blocks.system import Secret

    Secret(value=target.url()).save("cw-test-apprise", overwrite=True)
    channel = Channel("desk", "apprise", url_secret="cw-test-apprise")
    assert alert_secrets.credentials(channel) == Credentials(apprise_url=target.url())
    assert TOKEN not in repr(alert_secrets.credentials(channel))


# ---------------------------------------------------------------- through real cycles


@pytest.fixture()
def site() -> Iterator[SiteServer]:
    with SiteServer() as server:
        serve_round(server, 1)
        yield server


def _run(tmp_path: Path, site: SiteServer, db_url: str, alerts: Path) -> dict:
    return run_cycle(sources_file(tmp_path, site), db_url, alerts)


def _rows(db_url: str) -> list[Alert]:
    return alert_rows(db_url)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_a_development_reaches_apprise_once_with_its_evidence_after_a_500(
        tmp_path: Path, db_url: str, site: SiteServer, target: AppriseTarget,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, target.url())
    alerts = _alerts(tmp_path)
    _run(tmp_path, site, db_url, alerts)  # the baseline: a digest
    before = len(target.requests)
    target.script = [Reply(500)]
    serve_round(site, 2)
    result = _run(tmp_path, site, db_url, alerts)
    again = _run(tmp_path, site, db_url, alerts)
    tries = [r for r in target.requests[before:] if r.fields["title"].startswith("Updated")]
    assert [r.status for r in tries] == [500, 200] and tries[0].key == tries[1].key
    assert result["alerts"]["pending"] == 0 and again["alerts"]["sent"] == 0
    (row,) = [a for a in _rows(db_url) if a.kind == "development"]
    assert (row.status, row.attempts, row.idempotency_key) == ("sent", 2, tries[1].key)
    title, body = tries[1].fields["title"], tries[1].fields["message"]
    assert title.startswith("Updated abu-dhabi-talks: ") and "status: scheduled → postponed" in title
    assert "Evidence:" in body and site.url("/world/talks-postponed.html") in body
    assert f"ref {row.idempotency_key}" in body
    assert len(target.messages()) == len({r.key for r in target.accepted()})


@pytest.mark.slow
def test_apprise_secrets_stay_out_of_logs_cli_output_and_the_database(
        tmp_path: Path, db_url: str, site: SiteServer, target: AppriseTarget,
        prefect_api: str) -> None:
    """Every log on, Apprise's and urllib3's records shipped to Prefect, the target failing
    with 500 then down: the URL's token and password appear nowhere."""
    target.script = [Reply(500)] * 100
    alerts = _alerts(tmp_path, inline_wait_s=1)
    env = {**os.environ, "PREFECT_API_URL": prefect_api, ENV: target.url(),
           "PREFECT_LOGGING_LEVEL": "DEBUG", "PREFECT_LOGGING_ROOT_LEVEL": "DEBUG",
           "PREFECT_LOGGING_EXTRA_LOGGERS": "apprise,urllib3,requests,httpx"}
    output = []
    for round_number in (1, 2):
        serve_round(site, round_number)
        done = subprocess.run(
            [sys.executable, "-m", "claimwatch.flows.app.cli", "run", "--claims",
             str(DEFAULT_CLAIMS), "--sources", str(sources_file(tmp_path, site)), "--db", db_url,
             "--alerts", str(alerts)], env=env, cwd=ROOT, capture_output=True, text=True,
            timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        output.append(done.stdout + done.stderr)
    assert "alert retrying" in output[-1] and "Apprise (JSON) answered HTTP 500" in output[-1]
    assert len(target.requests) >= 2
    down = {**env, ENV: f"json://claimwatch:{PASSWORD}@127.0.0.1:{free_port()}/hooks/{TOKEN}"}
    done = subprocess.run(
        [sys.executable, "-m", "claimwatch.flows.app.cli", "alerts", "retry", "--db", db_url,
         "--alerts", str(alerts)], env=down, cwd=ROOT, capture_output=True, text=True,
        timeout=300, check=False)
    assert done.returncode == 1 and "could not be reached" in done.stdout, done.stdout
    output.append(done.stdout + done.stderr)
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        stored = "\n".join(repr(row) for row in conn.execute("SELECT * FROM alert"))
    assert "Apprise (JSON)" in stored  # the failures were recorded
    for text in (*output, stored):
        assert [s for s in SECRETS if s in text] == []
    raw = prefect_database_bytes()
    assert raw and [s for s in SECRETS if s.encode() in raw] == []


@pytest.mark.slow
def test_alerts_test_command_reaches_an_apprise_channel(
        tmp_path: Path, target: AppriseTarget, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(ENV, target.url("form"))
    assert cli.main(["alerts", "test", "desk", "--alerts", str(_alerts(tmp_path))]) == 0
    assert "test message to desk: sent" in capsys.readouterr().out
    (received,) = target.requests
    assert received.fields["message"].startswith("claimwatch test message for channel desk")
    assert received.key and received.key.startswith("test-")
