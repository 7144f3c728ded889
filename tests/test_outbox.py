"""The outbox end to end: real cycles, a real SQLite file, a real SMTP server and a Slack stand-in."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from claimwatch.flows import settings
from claimwatch.flows.alerts import config as alert_config
from claimwatch.flows.alerts import delivery, outbox, policy, views
from claimwatch.flows.app import cli
from claimwatch.flows.app.demo_site import DemoSite
from claimwatch.flows.monitor import cycle
from claimwatch.flows.settings import DEFAULT_CLAIMS
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Alert, ClaimRecord, Development, Match
from tests.alert_site import alerts_file, run_cycle, serve_round, sources_file
from tests.conftest import ROOT
from tests.servers import SiteServer
from tests.slack import Answer, SlackStandIn, texts
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


def _alerts(db_url: str) -> list[Alert]:
    with session(engine_for(db_url)) as s:
        return list(s.exec(select(Alert).order_by(Alert.id)).all())


def _evidence(db_url: str, development_id: int) -> list[str]:
    with session(engine_for(db_url)) as s:
        return [m.evidence for m in s.exec(select(Match).where(
            Match.development_id == development_id)).all()]


def _developments(db_url: str) -> list[Development]:
    with session(engine_for(db_url)) as s:
        return list(s.exec(select(Development)).all())


def test_development_reaches_slack_and_email_with_its_evidence(
        tmp_path: Path, db_url: str, site: SiteServer, slack: SlackStandIn) -> None:
    with SMTPStandIn(tmp_path) as smtp:
        alerts = alerts_file(tmp_path, SLACK_ENV, smtp.port)
        _run(tmp_path, site, db_url, alerts)  # first poll: the baseline, digest only
        baseline_slack, baseline_mail = len(slack.accepted()), len(smtp.messages)
        serve_round(site, 2)
        result = _run(tmp_path, site, db_url, alerts)
    assert len(result["match"]["developments"]) == 1
    (posted,) = [p for p in slack.accepted()[baseline_slack:] if "digest" not in p.payload["text"]]
    (mail,) = [m for m in smtp.messages[baseline_mail:] if "digest" not in m["Subject"]]
    slack_text = "\n".join(texts(posted.payload))
    assert "Updated abu-dhabi-talks" in posted.payload["text"]
    assert "• status: scheduled → postponed" in slack_text and "• date: " in slack_text
    (evidence,) = _evidence(db_url, result["match"]["developments"][0])
    assert f"> {evidence}" in slack_text  # the sentence that decided it, quoted
    assert f"<{site.url('/world/talks-postponed.html')}|Abu Dhabi talks postponed>" in slack_text
    assert "1 source agrees" in slack_text and "first seen" in slack_text
    assert posted.key and f"ref {posted.key}" in slack_text
    assert mail["Subject"].startswith("[claimwatch] Updated abu-dhabi-talks: ")
    assert "status: scheduled → postponed" in mail["Subject"]
    plain = mail.get_body(("plain",)).get_content()
    rich = mail.get_body(("html",)).get_content()
    assert f'"{evidence}"' in plain and "Abu Dhabi talks postponed" in plain
    assert "What changed:" in plain and "status: scheduled → postponed" in plain
    assert f'<a href="{site.url("/world/talks-postponed.html")}">' in rich
    assert mail["Message-ID"].startswith("<claimwatch.") and mail["X-Claimwatch-Key"]
    rows = [a for a in _alerts(db_url) if a.kind == "development"]
    assert {(a.channel, a.status) for a in rows} == {("newsroom", "sent"), ("editors", "sent")}


def _messages(db_url: str) -> list[Alert]:
    return [a for a in _alerts(db_url) if a.mode == "immediate"]


def _two_rounds(tmp_path: Path, site: SiteServer, db_url: str, alerts: Path) -> dict:
    _run(tmp_path, site, db_url, alerts)
    serve_round(site, 2)
    return _run(tmp_path, site, db_url, alerts)


def test_smtp_down_during_a_cycle_delivers_on_the_next_cycle_once(
        tmp_path: Path, db_url: str, site: SiteServer) -> None:
    port = free_port()  # nothing listens here yet: the SMTP server is down
    alerts = alerts_file(tmp_path, smtp_port=port, retry_s="[0]")
    down = _two_rounds(tmp_path, site, db_url, alerts)
    assert len(down["match"]["developments"]) == 1
    assert down["alerts"]["sent"] == 0 and down["alerts"]["pending"] >= 1
    assert any("SMTP server unreachable" in line for line in down["alerts"]["retrying"])
    with SMTPStandIn(tmp_path, port=port) as smtp:
        up = _run(tmp_path, site, db_url, alerts)
        again = _run(tmp_path, site, db_url, alerts)
    assert up["alerts"]["sent"] == len(_messages(db_url)) and up["alerts"]["pending"] == 0
    assert again["alerts"]["sent"] == 0
    subjects = [m["Subject"] for m in smtp.messages]
    assert len(subjects) == len(smtp.unique()) == len(_messages(db_url))  # nothing doubled
    assert sum("Updated abu-dhabi-talks" in s for s in subjects) == 1  # nothing lost
    assert len(_developments(db_url)) == 1
    assert {a.status for a in _alerts(db_url)} == {"sent"}


def test_slack_429_with_retry_after_then_200_delivers_exactly_one(
        tmp_path: Path, db_url: str, site: SiteServer, slack: SlackStandIn) -> None:
    alerts = alerts_file(tmp_path, SLACK_ENV)
    _run(tmp_path, site, db_url, alerts)
    before = len(slack.requests)
    slack.script = [Answer(429, "rate_limited", {"Retry-After": "1"})]
    serve_round(site, 2)
    result = _run(tmp_path, site, db_url, alerts)
    requests = slack.requests[before:]
    updated = [r for r in requests if "Updated abu-dhabi-talks" in r.payload["text"]]
    assert [r.status for r in updated] == [429, 200]
    assert updated[0].key == updated[1].key
    assert result["alerts"]["pending"] == 0 and result["alerts"]["failed"] == []
    (row,) = [a for a in _messages(db_url) if a.kind == "development"]
    assert (row.status, row.attempts) == ("sent", 2)


def test_running_the_same_cycle_twice_sends_nothing_the_second_time(
        tmp_path: Path, db_url: str, site: SiteServer, slack: SlackStandIn) -> None:
    with SMTPStandIn(tmp_path) as smtp:
        alerts = alerts_file(tmp_path, SLACK_ENV, smtp.port)
        _two_rounds(tmp_path, site, db_url, alerts)
        sent = (len(slack.requests), len(smtp.messages))
        rows = len(_alerts(db_url))
        second = _run(tmp_path, site, db_url, alerts)
        assert (len(slack.requests), len(smtp.messages)) == sent
    assert sent[0] >= 2 and sent[1] >= 2  # round 1's digest and round 2's development, each
    assert second["alerts"]["sent"] == 0 and len(_alerts(db_url)) == rows


def test_untrusted_title_cannot_ping_forge_a_link_or_inject_markup(
        tmp_path: Path, db_url: str, site: SiteServer, slack: SlackStandIn) -> None:
    evil = "Abu Dhabi talks postponed <!channel> <https://evil.example|click> <script>alert(1)</script>"
    with SMTPStandIn(tmp_path) as smtp:
        alerts = alerts_file(tmp_path, SLACK_ENV, smtp.port)
        _run(tmp_path, site, db_url, alerts)
        serve_round(site, 2, postponed_title=evil)
        _run(tmp_path, site, db_url, alerts)
    (posted,) = [p for p in slack.accepted() if "Updated" in p.payload["text"]]
    every = "\n".join(texts(posted.payload))
    assert "&lt;!channel&gt;" in every and "<!channel>" not in every
    assert "<https://evil.example" not in every and "&lt;https://evil.example|click&gt;" in every
    links = re.findall(r"<([^>]*)>", every)  # every Slack link left is one we built
    assert links and all(link.startswith(site.url("/world/talks-postponed.html") + "|")
                         for link in links)
    (mail,) = [m for m in smtp.messages if "Updated" in m["Subject"]]
    rich = mail.get_body(("html",)).get_content()
    assert "<script>" not in rich and "&lt;script&gt;alert(1)&lt;/script&gt;" in rich
    assert 'href="https://evil.example' not in rich


def test_new_source_backlog_goes_to_the_digest_not_to_immediate_alerts(
        tmp_path: Path, db_url: str, slack: SlackStandIn) -> None:
    alerts = alerts_file(tmp_path, SLACK_ENV)
    sources = tmp_path / "demo-sources.toml"
    with DemoSite() as demo:
        demo.write_sources(sources)
        # Feeds only: a watched page whose text changes while we watch it is news, not backlog.
        text = sources.read_text()
        sources.write_text(text[:text.index("[[pages]]")] if "[[pages]]" in text else text)
        for n in (1, 2):  # round 2 moves claims, but with news older than the feed we added
            demo.set_round(n)
            with settings.database(db_url):
                result = cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources),
                               alerts_path=str(alerts))
    assert result["match"]["developments"], "the demo's round 2 should move a claim"
    rows = [a for a in _alerts(db_url) if a.kind == "development"]
    assert rows and all(a.mode == "digest" and a.reason.startswith("backlog") for a in rows), [
        (a.claim_id, a.mode, a.reason) for a in rows]
    assert all(p.payload["text"].startswith("claimwatch digest") for p in slack.accepted())
    digest_text = "\n".join(texts(slack.accepted()[-1].payload))
    for dev in result["developments"]:
        assert f"{dev['relation'].rstrip('s').title()}d {dev['claim']}" in digest_text
    assert "_backlog: published before the source was added_" in digest_text


def test_unconfigured_channel_is_reported_and_its_alerts_wait(
        tmp_path: Path, db_url: str, site: SiteServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAIMWATCH_SLACK_WEBHOOK", raising=False)
    monkeypatch.delenv("CLAIMWATCH_SMTP_USER", raising=False)
    monkeypatch.delenv("CLAIMWATCH_SMTP_PASSWORD", raising=False)
    result = _two_rounds(tmp_path, site, db_url, Path("seeds/alerts.toml").resolve())
    assert result["alerts"]["unconfigured"] == {
        "newsroom": "unconfigured: set $CLAIMWATCH_SLACK_WEBHOOK",
        "editors": "unconfigured: set $CLAIMWATCH_SMTP_USER and set $CLAIMWATCH_SMTP_PASSWORD"}
    assert result["alerts"]["pending"] >= 1  # owed, not dropped
    assert {a.status for a in _messages(db_url)} <= {"pending"}


def test_permanent_error_fails_the_alert_reports_it_and_retry_sends_it(
        tmp_path: Path, db_url: str, site: SiteServer, slack: SlackStandIn,
        capsys: pytest.CaptureFixture[str]) -> None:
    alerts = alerts_file(tmp_path, SLACK_ENV)
    _run(tmp_path, site, db_url, alerts)
    slack.script = [Answer(403, "invalid_token")]
    serve_round(site, 2)
    result = _run(tmp_path, site, db_url, alerts)
    (failure,) = result["alerts"]["failed"]
    assert "HTTP 403 invalid_token" in failure and "abu-dhabi-talks" in failure
    assert slack.url not in failure and "stand-in-secret-token" not in failure
    assert cli.main(["alerts", "--failed", "--db", db_url]) == 0
    listed = capsys.readouterr().out
    assert "[failed]" in listed and "invalid_token" in listed
    assert cli.main(["alerts", "retry", "--db", db_url, "--alerts", str(alerts)]) == 0
    said = capsys.readouterr().out
    assert "Sending what is owed now: 0 pending and 1 failed alert(s)." in said
    assert re.search(r"^sent alert #\d+ to newsroom \(updates abu-dhabi-talks\)$", said, re.M)
    updated = [p for p in slack.accepted() if "Updated abu-dhabi-talks" in p.payload["text"]]
    assert len(updated) == 1
    assert {a.status for a in _messages(db_url)} == {"sent"}


# ---------------------------------------------------------------- killed half-way (SIGKILL)

CRASH_POINTS = ["after-alert-enqueued", "after-development-stored", "before-alert-send",
                "after-alert-send", "after-alert-marked"]


@dataclass
class Baseline:
    """Round 1 already run once into a template database, reused by every crash test."""

    site: SiteServer
    folder: Path
    template: Path


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> Iterator[Baseline]:
    folder = tmp_path_factory.mktemp("crash-baseline")
    template = folder / "template.db"
    with SiteServer() as site, SlackStandIn() as slack, SMTPStandIn(folder) as smtp, \
            pytest.MonkeyPatch.context() as mp:
        mp.setenv(SLACK_ENV, slack.url)
        serve_round(site, 1)
        alerts = alerts_file(folder, SLACK_ENV, smtp.port)
        _run(folder, site, f"sqlite:///{template}", alerts)
        yield Baseline(site, folder, template)


def _copy_database(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _cli_run(sources: Path, alerts: Path, db_url: str, env: dict[str, str]) -> int:
    command = [sys.executable, "-m", "claimwatch.flows.app.cli", "run", "--claims", str(DEFAULT_CLAIMS),
               "--sources", str(sources), "--db", db_url, "--alerts", str(alerts)]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode in (-signal.SIGKILL, 0), done.stderr[-3000:]
    if done.returncode == 0:  # the summary says what delivery did
        assert "  alerts sent: " in done.stdout and "still owed: 0" in done.stdout, done.stdout
        assert env.get(SLACK_ENV, "-") not in done.stdout + done.stderr  # the secret stays out
    return done.returncode


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_killed_between_development_and_sent_loses_and_doubles_nothing(
        tmp_path: Path, baseline: Baseline, prefect_api: str, point: str) -> None:
    db_file = tmp_path / "claimwatch.db"
    _copy_database(baseline.template, db_file)
    db_url = f"sqlite:///{db_file}"
    serve_round(baseline.site, 2)
    sources = sources_file(tmp_path, baseline.site)
    with SlackStandIn() as slack, SMTPStandIn(tmp_path) as smtp:
        alerts = alerts_file(tmp_path, SLACK_ENV, smtp.port)
        env = {**os.environ, "PREFECT_API_URL": prefect_api, SLACK_ENV: slack.url}
        assert _cli_run(sources, alerts, db_url, {**env, "CLAIMWATCH_CRASH_AT": point}) \
            == -signal.SIGKILL, f"the crash point {point} was never reached"
        assert _cli_run(sources, alerts, db_url, env) == 0
        accepted, unique_slack = slack.accepted(), slack.messages()
        mails, unique_mails = smtp.messages, smtp.unique()
    (dev,) = _developments(db_url)  # not lost, not doubled
    assert (dev.claim_id, dev.relation) == ("abu-dhabi-talks", "updates")
    rows = [a for a in _alerts(db_url) if a.development_id == dev.id]
    assert sorted(a.channel for a in rows) == ["editors", "newsroom"]  # one row per channel
    new_messages = [a for a in _messages(db_url) if a.created_at and a.created_at >= dev.first_seen_at]
    assert all(a.status == "sent" for a in new_messages)
    slack_keys = {a.idempotency_key for a in new_messages if a.channel == "newsroom"}
    mail_keys = {a.idempotency_key for a in new_messages if a.channel == "editors"}
    assert sorted(p.key for p in unique_slack) == sorted(slack_keys)  # each alert arrived once
    assert sorted(m["X-Claimwatch-Key"] for m in unique_mails) == sorted(mail_keys)
    resent = len(accepted) + len(mails) - len(unique_slack) - len(unique_mails)
    # Killed after Slack took it and before we recorded it: the one in-doubt resend, same key.
    assert resent == (1 if point == "after-alert-send" else 0)


# ---------------------------------------------------------------- delivery rules on stored rows


def _stored_developments(db_url: str, count: int, at: datetime) -> None:
    with session(engine_for(db_url)) as s:
        s.add(ClaimRecord(id="c1", statement="A claim.", added_at=at))
        for i in range(count):
            dev = Development(claim_id="c1", relation="updates", summary=f"status: a → b{i}",
                              changes={"status": ["a", f"b{i}"]}, first_seen_at=at)
            s.add(dev)
            s.flush()
            s.add(Alert(channel="newsroom", subject=f"development:{dev.id}", kind="development",
                        development_id=dev.id, claim_id="c1", relation="updates",
                        mode="immediate", idempotency_key=f"key-{i}", created_at=at,
                        next_attempt_at=at))


def _config(tmp_path: Path, extra: str = "") -> policy.AlertsConfig:
    return alert_config.load(alerts_file(tmp_path, SLACK_ENV, extra=extra))


def test_server_errors_back_off_then_fail_after_24_hours_and_are_reported(
        tmp_path: Path, db_url: str, slack: SlackStandIn) -> None:
    start = datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
    _stored_developments(db_url, 1, start)
    config, engine = _config(tmp_path), engine_for(db_url)
    slack.script = [Answer(503, "busy")] * 3
    first = delivery.deliver(engine, config, clock=lambda: start)
    assert "HTTP 503" in first.retrying[0] and first.failed == []
    (row,) = _messages(db_url)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1,
                                                               start + timedelta(seconds=60))
    early = delivery.deliver(engine, config, clock=lambda: start + timedelta(seconds=30))
    assert early.retrying == [] and len(slack.requests) == 1  # not due yet: nothing sent
    late = start + timedelta(hours=25)
    last = delivery.deliver(engine, config, clock=lambda: late)
    (failure,) = last.failed
    assert "gave up after 2 attempts" in failure and last.failed_total == 1
    assert _messages(db_url)[0].status == "failed"
    assert any(line.startswith("ALERT FAILED") for line in outbox.report(last))


def test_a_flood_of_alerts_becomes_one_digest(tmp_path: Path, db_url: str,
                                              slack: SlackStandIn) -> None:
    now = datetime.now(UTC)
    _stored_developments(db_url, 5, now)
    config = _config(tmp_path, extra="[policy]\nmax_immediate_per_run = 3\n")
    summary = delivery.deliver(engine_for(db_url), config)
    (posted,) = slack.accepted()
    assert posted.payload["text"] == "claimwatch digest: 5 items for newsroom"
    assert summary.sent == 1 and summary.digests == 1
    assert {(a.mode, a.status) for a in _alerts(db_url) if a.kind == "development"} == {
        ("digest", "sent")}
    assert all(a.reason == "flood: 5 alerts at once" for a in _alerts(db_url)
               if a.kind == "development")


# ---------------------------------------------------------------- link to the report


def test_alerts_link_the_claims_section_of_the_report_when_its_location_is_set(
        tmp_path: Path, db_url: str, site: SiteServer, slack: SlackStandIn,
        monkeypatch: pytest.MonkeyPatch) -> None:
    report_url = "https://reports.example/claimwatch/index.html"
    monkeypatch.setenv("CLAIMWATCH_REPORT_URL", report_url)
    link = f"{report_url}#claim-abu-dhabi-talks"
    with SMTPStandIn(tmp_path) as smtp:
        _two_rounds(tmp_path, site, db_url, alerts_file(tmp_path, SLACK_ENV, smtp.port))
    (posted,) = [p for p in slack.accepted() if "Updated" in p.payload["text"]]
    assert f"<{link}|Claim timeline>" in posted.payload["text"]  # the fallback
    assert any(f"<{link}|Claim timeline>" in t for t in texts(posted.payload)[1:])  # a block
    (mail,) = [m for m in smtp.messages if "Updated" in m["Subject"]]
    assert f"Claim timeline: {link}" in mail.get_body(("plain",)).get_content()
    assert f'<a href="{link}">Claim timeline</a>' in mail.get_body(("html",)).get_content()
    # Unset: the same stored alert renders without a link (alerts are rendered at send time).
    monkeypatch.delenv("CLAIMWATCH_REPORT_URL")
    config = alert_config.load(alerts_file(tmp_path, SLACK_ENV, smtp.port))
    with session(engine_for(db_url)) as s:
        row = s.exec(select(Alert).where(Alert.kind == "development")).first()
        assert row is not None
        for channel in config.channels:
            rendered = views.render_message(s, row, channel)
            every = repr(rendered)
            assert "Updated abu-dhabi-talks" in every and "Claim timeline" not in every
            assert "reports.example" not in every


def test_digest_flow_sends_what_is_owed_without_polling(
        tmp_path: Path, db_url: str, site: SiteServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from claimwatch.flows.monitor import digest

    alerts = alerts_file(tmp_path, SLACK_ENV)
    monkeypatch.delenv(SLACK_ENV, raising=False)  # the channel is not configured yet
    _run(tmp_path, site, db_url, alerts)
    serve_round(site, 2)
    owed = _run(tmp_path, site, db_url, alerts)
    assert owed["alerts"]["sent"] == 0 and owed["alerts"]["unconfigured"]
    waiting = [a for a in _alerts(db_url) if a.status in ("pending", "sending")]
    assert waiting, "the cycle must have queued alerts for the unconfigured channel"
    site.requests.clear()
    with SlackStandIn() as stand_in:
        monkeypatch.setenv(SLACK_ENV, stand_in.url)
        with settings.database(db_url):
            result = digest(alerts_path=str(alerts))
    assert site.requests == []  # a digest run polls and reads nothing
    assert result["alerts"]["sent"] >= 1
    texts_sent = [r.payload["text"] for r in stand_in.accepted()]
    assert sum("Updated abu-dhabi-talks" in t for t in texts_sent) == 1
    assert any(t.startswith("claimwatch digest") for t in texts_sent)
    assert not [a for a in _alerts(db_url) if a.status in ("pending", "sending")]
