"""Transient failures are retried within the run before an alert waits for a later one, and
`claimwatch alerts retry` sends what is owed now. Real cycles, a real SQLite file, a Slack
stand-in and a real SMTP server."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from claimwatch.flows.alerts import config as alert_config
from claimwatch.flows.alerts import delivery
from claimwatch.flows.app import cli
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Alert, ClaimRecord, Development
from tests.alert_site import alert_rows, alerts_file, run_cycle, serve_round, sources_file
from tests.servers import SiteServer
from tests.slack import WEBHOOK_PATH, Answer, SlackStandIn
from tests.smtp import SMTPStandIn, free_port

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
SLACK_ENV = "CLAIMWATCH_TEST_SLACK_WEBHOOK"


@pytest.fixture()
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackStandIn]:
    with SlackStandIn() as stand_in:
        monkeypatch.setenv(SLACK_ENV, stand_in.url)
        yield stand_in


@pytest.fixture()
def site() -> Iterator[SiteServer]:
    with SiteServer() as server:
        serve_round(server, 1)
        yield server


def _run(tmp_path: Path, site: SiteServer, db_url: str, alerts: Path) -> dict:
    return run_cycle(sources_file(tmp_path, site), db_url, alerts)


def _rows(db_url: str) -> list[Alert]:
    return alert_rows(db_url)


def _development_rows(db_url: str) -> list[Alert]:
    return [a for a in _rows(db_url) if a.kind == "development"]


def _updated(posted: list) -> list:
    return [p for p in posted if "Updated abu-dhabi-talks" in p.payload["text"]]


def test_slack_500_then_200_is_delivered_in_the_same_run(
        tmp_path: Path, db_url: str, site: SiteServer, slack: SlackStandIn) -> None:
    alerts = alerts_file(tmp_path, SLACK_ENV)  # inline_wait_s = 5
    _run(tmp_path, site, db_url, alerts)
    before = len(slack.requests)
    slack.script = [Answer(500, "internal_error")]
    serve_round(site, 2)
    result = _run(tmp_path, site, db_url, alerts)
    tries = _updated(slack.requests[before:])
    assert [p.status for p in tries] == [500, 200]
    assert tries[0].key == tries[1].key  # the same message, the same idempotency key
    assert result["alerts"]["retrying"] == [] and result["alerts"]["pending"] == 0
    (row,) = _development_rows(db_url)
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_slack_timeout_is_retried_in_the_same_run(
        tmp_path: Path, db_url: str, site: SiteServer, slack: SlackStandIn) -> None:
    alerts = alerts_file(tmp_path, SLACK_ENV)
    alerts.write_text(alerts.read_text().replace("timeout_s = 5", "timeout_s = 1"))
    _run(tmp_path, site, db_url, alerts)
    before = len(slack.requests)
    slack.script = [Answer(503, "stalled", stall_s=3)]  # longer than the 1 s timeout
    serve_round(site, 2)
    result = _run(tmp_path, site, db_url, alerts)
    tries = _updated(slack.requests[before:])
    assert [p.status for p in tries] == [503, 200]  # the first one timed out on our side
    assert result["alerts"]["pending"] == 0 and result["alerts"]["retrying"] == []
    (row,) = _development_rows(db_url)
    assert (row.status, row.attempts) == ("sent", 2)


def test_server_errors_past_the_in_run_budget_wait_a_minute_for_a_later_run(
        tmp_path: Path, db_url: str, site: SiteServer, slack: SlackStandIn) -> None:
    alerts = alerts_file(tmp_path, SLACK_ENV)  # inline_wait_s = 5: 0.5 + 1 + 2 s of waits
    _run(tmp_path, site, db_url, alerts)
    before = len(slack.requests)
    slack.script = [Answer(503, "busy")] * 50
    serve_round(site, 2)
    started = datetime.now(UTC)
    result = _run(tmp_path, site, db_url, alerts)
    tries = _updated(slack.requests[before:])
    assert len(tries) == 4 and {p.status for p in tries} == {503}  # 1 + 3 retries in the run
    (line,) = [r for r in result["alerts"]["retrying"] if "abu-dhabi-talks" in r]
    assert "HTTP 503 busy" in line and "(next in 60 s)" in line
    (row,) = _development_rows(db_url)
    assert (row.status, row.attempts) == ("pending", 4)
    assert row.next_attempt_at is not None
    # A minute from the last try, not an hour: tries within a run do not climb the schedule.
    assert timedelta(seconds=50) < row.next_attempt_at - started < timedelta(seconds=90)


def _owed_development(db_url: str, next_attempt_at: datetime, channel: str) -> None:
    """A stored development and its alert to `channel`, next tried at that time."""
    start = datetime.now(UTC)
    with session(engine_for(db_url)) as s:
        s.add(ClaimRecord(id="c1", statement="A claim.", added_at=start))
        dev = Development(claim_id="c1", relation="updates", summary="status: a → b",
                          changes={"status": ["a", "b"]}, first_seen_at=start)
        s.add(dev)
        s.flush()
        s.add(Alert(channel=channel, subject=f"development:{dev.id}", kind="development",
                    development_id=dev.id, claim_id="c1", relation="updates", mode="immediate",
                    idempotency_key=f"key-{channel}", created_at=start,
                    next_attempt_at=next_attempt_at))


def test_smtp_down_is_retried_in_the_run_and_delivered_once_it_is_up(
        tmp_path: Path, db_url: str) -> None:
    port = free_port()  # nothing listens: the mail server is down
    _owed_development(db_url, datetime.now(UTC), "editors")
    config = alert_config.load(alerts_file(tmp_path, smtp_port=port))  # inline_wait_s = 5
    smtp = SMTPStandIn(tmp_path, port=port)
    pauses: list[float] = []

    def sleep(seconds: float) -> None:  # the server comes up while delivery waits to retry
        if not pauses:
            smtp.__enter__()
        pauses.append(seconds)
        time.sleep(seconds)

    try:
        summary = delivery.deliver(engine_for(db_url), config, sleep=sleep)
        received = smtp.messages
    finally:
        smtp.__exit__(None, None, None)
    assert pauses == [0.5]  # refused once, retried half a second later
    assert (summary.sent, summary.retrying, summary.pending) == (1, [], 0)
    (mail,) = received
    assert mail["X-Claimwatch-Key"] == "key-editors" and "Updated c1" in mail["Subject"]
    (row,) = [a for a in _rows(db_url) if a.channel == "editors"]
    assert (row.status, row.attempts) == ("sent", 2)


# ---------------------------------------------------------------- `claimwatch alerts retry`


def test_alerts_retry_sends_what_is_owed_after_both_channels_were_down(
        tmp_path: Path, db_url: str, site: SiteServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    slack_port, smtp_port = free_port(), free_port()  # nothing listens: both channels are down
    monkeypatch.setenv(SLACK_ENV, f"http://127.0.0.1:{slack_port}{WEBHOOK_PATH}")
    alerts = alerts_file(tmp_path, SLACK_ENV, smtp_port, retry_s="[600]")
    _run(tmp_path, site, db_url, alerts)
    serve_round(site, 2)
    down = _run(tmp_path, site, db_url, alerts)
    assert len(down["match"]["developments"]) == 1
    assert down["alerts"]["sent"] == 0 and down["alerts"]["pending"] >= 2
    owed = [a for a in _rows(db_url) if a.mode == "immediate" and a.digest_id is None]
    tried = [a for a in owed if a.attempts]  # a digest made this cycle may wait untried
    assert {a.kind for a in tried} >= {"development"} and {a.status for a in owed} == {"pending"}
    assert all(a.next_attempt_at is not None
               and a.next_attempt_at > datetime.now(UTC) + timedelta(minutes=5) for a in tried)
    # Both are back; the schedule would wait ten minutes more. `retry` means now.
    with SlackStandIn(port=slack_port) as slack, SMTPStandIn(tmp_path, port=smtp_port) as smtp:
        code = cli.main(["alerts", "retry", "--db", db_url, "--alerts", str(alerts)])
        said = capsys.readouterr().out
        assert code == 0, said
        assert f"Sending what is owed now: {len(owed)} pending and 0 failed alert(s)." in said
        sent = re.findall(r"^sent (alert #\d+ to \w+ \(.*\))$", said, re.M)
        assert len(sent) == len(owed)
        assert any("to newsroom (updates abu-dhabi-talks)" in s for s in sent)
        assert any("to editors (updates abu-dhabi-talks)" in s for s in sent)
        assert "still owed: 0" in said
        assert len(_updated(slack.messages())) == 1
        assert sum("Updated abu-dhabi-talks" in m["Subject"] for m in smtp.unique()) == 1
        again = cli.main(["alerts", "retry", "--db", db_url, "--alerts", str(alerts)])
        assert again == 0 and "Nothing was owed." in capsys.readouterr().out
        assert len(_updated(slack.accepted())) == 1  # nothing sent twice
    assert {a.status for a in _rows(db_url) if a.mode == "immediate"} == {"sent"}


def test_alerts_retry_still_owed_exits_1_and_says_why(
        tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _owed_development(db_url, datetime.now(UTC) + timedelta(hours=1), "newsroom")
    monkeypatch.setenv(SLACK_ENV, f"http://127.0.0.1:{free_port()}/services/T/B/still-down")
    alerts = alerts_file(tmp_path, SLACK_ENV, retry_s="[60]")
    config = alert_config.load(alerts)
    assert delivery.deliver(engine_for(db_url), config).sent == 0  # not due: nothing tried
    assert cli.main(["alerts", "retry", "--db", db_url, "--alerts", str(alerts)]) == 1
    said = capsys.readouterr().out
    assert "Sending what is owed now: 1 pending and 0 failed alert(s)." in said
    assert re.search(r"^alert retrying alert #\d+ to newsroom \(updates c1\): Slack unreachable",
                     said, re.M), said
    assert "still owed: 1" in said and "still-down" not in said
