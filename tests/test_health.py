"""Source health: score, backoff, the once-only unhealthy/recovered notices, and where they show."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from claimwatch.flows import settings
from claimwatch.flows.alerts import config as alert_config
from claimwatch.flows.alerts import outbox
from claimwatch.flows.app.cli import main
from claimwatch.flows.fetch import health
from claimwatch.flows.fetch.health import Health, after_failure, after_success, backoff
from claimwatch.flows.report import exports
from claimwatch.flows.seeds import SourceSpec
from claimwatch.flows.settings import DEFAULT_CLAIMS
from claimwatch.flows.stages.polls import record_failure, record_success
from claimwatch.storage import sources
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Run, Source
from tests import faultserver as fs
from tests.servers import FeedEntry, rss

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _fail(state: Health, times: int, soft: bool = False, retry_after_s: float | None = None
          ) -> tuple[Health, list[str | None]]:
    kinds = []
    for i in range(times):
        state, kind = after_failure(state, "HTTP 500", soft, retry_after_s, NOW + i * HOUR)
        kinds.append(kind)
    return state, kinds


# --- pure decisions ---------------------------------------------------------------------------

@pytest.mark.parametrize(("score", "retry_after_s", "wait"), [
    (0.5, None, timedelta(minutes=7.5)),  # one soft error
    (1.0, None, timedelta(minutes=15)),  # one hard error
    (4.0, None, timedelta(hours=1)),
    (500.0, None, timedelta(hours=24)),  # capped
    (0.5, 3600.0, timedelta(hours=1)),  # Retry-After longer than the score's wait: it wins
    (8.0, 60.0, timedelta(hours=2)),  # shorter: the score's wait stands
    (0.5, 10 * 86400.0, timedelta(hours=24)),  # an absurd Retry-After is capped too
])
def test_backoff_is_linear_in_the_score_capped_and_honours_retry_after(
    score: float, retry_after_s: float | None, wait: timedelta
) -> None:
    assert backoff(score, retry_after_s) == wait


def test_soft_errors_weigh_half_a_hard_error() -> None:
    soft, _ = _fail(Health(), 2, soft=True)
    hard, _ = _fail(Health(), 1, soft=False)
    assert soft.error_score == hard.error_score == 1.0


def test_third_failure_in_a_row_is_reported_once() -> None:
    state, kinds = _fail(Health(), 6)
    assert kinds == [None, None, "unhealthy", None, None, None]
    assert state.unhealthy_reported and state.consecutive_failures == 6


def test_recovery_is_reported_once_and_resets_everything() -> None:
    state, _ = _fail(Health(), 4)
    state, kind = after_success(state, "ok", NOW + 5 * HOUR)
    assert kind == "recovered"
    assert state == Health(last_status="ok", last_polled_at=NOW + 5 * HOUR,
                           last_success_at=NOW + 5 * HOUR)
    _, again = after_success(state, "not modified", NOW + 6 * HOUR)
    assert again is None


def test_a_blip_that_recovers_before_three_failures_says_nothing() -> None:
    state, kinds = _fail(Health(), 2)
    state, kind = after_success(state, "ok", NOW)
    assert kinds == [None, None] and kind is None
    _, kinds = _fail(state, 2)
    assert kinds == [None, None]  # the count started again from zero


def test_backing_off_source_is_due_again_only_when_its_time_comes() -> None:
    state, _ = _fail(Health(), 1, retry_after_s=7200)
    assert not health.due(state, NOW + HOUR) and health.due(state, NOW + 2 * HOUR)


def test_notice_text_and_key_are_stable() -> None:
    notice = health.Notice("unhealthy", "Harbor Wire", "https://harbor.example/rss", "HTTP 500",
                           NOW)
    assert notice.key == health.Notice("unhealthy", "Harbor Wire", "https://harbor.example/rss",
                                       "HTTP 410", NOW).key
    assert len(notice.key) <= 80 and notice.key.startswith("source-unhealthy:")
    assert "Harbor Wire is failing (3 polls in a row): HTTP 500" in notice.text()
    assert "never removed" in notice.text()


# --- stored on the Source row -------------------------------------------------------------------

def test_health_is_stored_on_the_source_and_the_source_is_never_deleted(db_url: str) -> None:
    engine = engine_for(db_url)
    spec = SourceSpec("feed", "Flaky", "http://127.0.0.1:9/feed.xml")
    notices = []
    for i in range(40):  # far past any "give up" threshold
        with session(engine) as s:
            (source,) = sources.sync_sources(s, [spec], NOW)
            notices.append(record_failure(source, "HTTP 503", True, None, NOW + i * HOUR))
    with session(engine) as s:
        (source,) = sources.sync_sources(s, [spec], NOW)
        recovered = record_success(source, "ok", NOW + 50 * HOUR)
    assert [n.kind for n in notices if n] == ["unhealthy"] and notices[2] is not None
    assert recovered is not None and recovered.kind == "recovered"
    with session(engine) as s:
        (row,) = s.exec(select(Source)).all()
        assert (row.error_score, row.consecutive_failures, row.unhealthy_reported) == (0, 0, False)
        assert row.last_success_at == NOW + 50 * HOUR


# --- through the cycle and the CLI --------------------------------------------------------------

@pytest.fixture()
def flaky_site(tmp_path: Path) -> Iterator[tuple[fs.FaultServer, Path]]:
    with fs.FaultServer() as server:
        feed = rss("Good", server.base_url, [FeedEntry("Talks", server.url("/none.html"), "g")])
        server.routes["/good.xml"] = fs.static(feed, "application/rss+xml")
        server.routes["/flaky.xml"] = fs.fail_then_recover(3, feed, status=503)
        sources = tmp_path / "sources.toml"
        sources.write_text(
            "allow_private_networks = true\n"
            f'[[feeds]]\nname = "Good"\nurl = "{server.url("/good.xml")}"\n'
            f'[[feeds]]\nname = "Flaky"\nurl = "{server.url("/flaky.xml")}"\n')
        yield server, sources


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_cycle_and_cli_report_unhealthy_once_and_recovered_once(
    flaky_site: tuple[fs.FaultServer, Path], db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _server, sources = flaky_site
    outputs = []
    for _ in range(5):  # --all: poll the flaky feed every cycle despite its backoff
        main(["run", "--claims", str(DEFAULT_CLAIMS), "--sources", str(sources), "--db", db_url,
              "--all"])
        outputs.append(capsys.readouterr().out)
    unhealthy = [i for i, out in enumerate(outputs) if "UNHEALTHY Flaky is failing" in out]
    recovered = [i for i, out in enumerate(outputs) if "RECOVERED Flaky has recovered" in out]
    assert unhealthy == [2] and recovered == [3]
    assert all("Good" not in out.split("UNHEALTHY")[-1] for out in outputs)

    engine = engine_for(db_url)
    with session(engine) as s:
        runs = [r.summary for r in s.exec(select(Run).order_by(Run.id)).all()]  # type: ignore[arg-type]
    kinds = [[n["kind"] for n in run["poll"]["notices"]] for run in runs]
    assert kinds == [[], [], ["unhealthy"], ["recovered"], []]

    main(["sources", "--db", db_url])
    listing = capsys.readouterr().out
    assert "Flaky [feed]" in listing and "last status: ok; error score 0.0" in listing
    assert exports.sources_text(engine) == listing.rstrip("\n")


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_sources_command_shows_status_score_last_success_and_next_poll(
    flaky_site: tuple[fs.FaultServer, Path], db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _server, sources = flaky_site
    main(["run", "--claims", str(DEFAULT_CLAIMS), "--sources", str(sources), "--db", db_url])
    capsys.readouterr()
    main(["sources", "--db", db_url])
    listing = capsys.readouterr().out
    flaky = listing[listing.index("Flaky [feed]"):]
    assert "last status: HTTP 503; error score 0.5 (1 failure(s) in a row)" in flaky
    assert "last success: never; next poll: 20" in flaky  # an ISO time, 7.5 minutes on
    good = listing[listing.index("Good [feed]"):listing.index("Flaky [feed]")]
    assert "last status: ok; error score 0.0" in good and "next poll: next cycle" in good
    assert "last success: never" not in good


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_unhealthy_and_recovered_are_each_alerted_once_to_channels_taking_ops_notices(
    flaky_site: tuple[fs.FaultServer, Path], db_url: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from claimwatch.flows.monitor import cycle
    from tests.slack import SlackStandIn, texts

    _server, sources = flaky_site
    alerts = tmp_path / "alerts.toml"
    alerts.write_text("\n".join(
        f'[[channels]]\nname = "{name}"\nkind = "slack"\nwebhook_url_env = "CW_TEST_{name}"\n'
        f"min_interval_s = 0\n{extra}\n" for name, extra in [("ops", ""), ("desk", "ops = false")]))
    with SlackStandIn() as ops, SlackStandIn() as desk:
        monkeypatch.setenv("CW_TEST_ops", ops.url)
        monkeypatch.setenv("CW_TEST_desk", desk.url)
        per_cycle = []
        for _ in range(6):  # fails 3 times, recovers, then stays well
            before = len(ops.requests)
            with settings.database(db_url):  # its one source failing: Failed runs, not raised
                cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources),
                      respect_backoff=False, alerts_path=str(alerts), return_state=True)
            per_cycle.append([p.payload for p in ops.requests[before:]])
        desk_requests = list(desk.requests)
    heads = [[payload["text"] for payload in sent] for sent in per_cycle]
    assert heads[:2] == [[], []] and heads[4:] == [[], []]
    (unhealthy,), (recovered,) = per_cycle[2], per_cycle[3]
    assert unhealthy["text"].startswith("Source failing: Flaky is failing (3 polls in a row)")
    assert "HTTP 503" in "\n".join(texts(unhealthy))
    assert recovered["text"].startswith("Source recovered: Flaky has recovered")
    assert desk_requests == []  # `ops = false`: this channel hears about claims only
    assert len(ops.messages()) == 2 == len(ops.requests)  # each sent once, none resent


def test_a_notice_enqueued_twice_is_one_alert_per_channel_taking_ops_notices(
        db_url: str, tmp_path: Path) -> None:
    from claimwatch.storage.models import Alert

    path = tmp_path / "alerts.toml"
    config = alert_config.parse({"channels": [
        {"name": "ops", "kind": "slack", "webhook_url_env": "X"},
        {"name": "desk", "kind": "slack", "webhook_url_env": "Y", "ops": False}]}, path)
    notice = health.Notice("unhealthy", "Flaky", "http://127.0.0.1:9/f.xml", "HTTP 503", NOW)
    engine = engine_for(db_url)
    added = []
    for _ in range(2):
        with session(engine) as s:
            added.append(outbox.enqueue_notice(s, config, notice))
    with session(engine) as s:
        rows = s.exec(select(Alert)).all()
        assert [(a.channel, a.kind, a.relation, a.subject) for a in rows] == [
            ("ops", "ops", "unhealthy", notice.key)]
    assert added == [1, 0]
    with pytest.raises(alert_config.AlertsConfigError, match="ops must be true or false"):
        alert_config.parse({"channels": [{"name": "a", "kind": "slack", "webhook_url_env": "X",
                                      "ops": "yes"}]}, path)
