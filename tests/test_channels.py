"""alerts.toml, secrets and the two senders, against a real SMTP server and a Slack stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from claimwatch.flows.alerts import config as alert_config
from claimwatch.flows.alerts import delivery, gathering, mail, outbox, policy
from claimwatch.flows.alerts import render as alerts
from claimwatch.flows.alerts import secrets as alert_secrets
from claimwatch.flows.alerts import slack as slack_sender
from claimwatch.flows.alerts.config import AlertsConfigError
from claimwatch.flows.alerts.policy import Channel
from claimwatch.flows.alerts.secrets import Credentials
from tests.slack import Answer, SlackStandIn
from tests.smtp import SMTPStandIn, free_port

NOW = datetime(2026, 2, 3, 9, 30, tzinfo=UTC)
ISSUE_EXAMPLE = """
[[channels]]
name = "newsroom"
kind = "slack"
webhook_url_env = "CLAIMWATCH_SLACK_WEBHOOK"   # the variable that holds the webhook URL
immediate = ["updates", "contradicts"]
digest = ["confirms"]
[[channels]]
name = "editors"
kind = "email"
smtp_host = "smtp.example.org"
smtp_port = 587
security = "starttls"                          # or "tls" or "none"
username_env = "CLAIMWATCH_SMTP_USER"
password_env = "CLAIMWATCH_SMTP_PASSWORD"
sender = "claimwatch@example.org"
recipients = ["desk@example.org"]
"""


def _load(tmp_path: Path, text: str) -> policy.AlertsConfig:
    path = tmp_path / "alerts.toml"
    path.write_text(text)
    return alert_config.load(path)


def test_the_issue_example_loads_with_default_policy(tmp_path: Path) -> None:
    config = _load(tmp_path, ISSUE_EXAMPLE)
    slack, email = config.channels
    assert (slack.kind, slack.webhook_url_env) == ("slack", "CLAIMWATCH_SLACK_WEBHOOK")
    assert slack.mode("any", "updates") == "immediate" and slack.mode("any", "confirms") == "digest"
    assert slack.mode("any", "mentions") is None
    assert (email.smtp_host, email.smtp_port, email.security) == ("smtp.example.org", 587,
                                                                  "starttls")
    assert email.recipients == ("desk@example.org",)
    assert config.delivery.retry_s == (60, 300, 900, 3600, 10800, 21600)


def test_the_bundled_seed_loads_and_reports_channels_unconfigured(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLAIMWATCH_SLACK_WEBHOOK", "CLAIMWATCH_SMTP_USER", "CLAIMWATCH_SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    config = alert_config.resolve(None)
    assert config is not None and [c.name for c in config.channels] == ["newsroom", "editors"]
    assert set(alert_secrets.unconfigured(config)) == {"newsroom", "editors"}
    editors = config.channel("editors")
    assert editors is not None and editors.mode("abu-dhabi-talks", "confirms") == "immediate"
    assert editors.mode("other", "confirms") == "digest"
    assert alert_config.resolve("") is None


@pytest.mark.parametrize(("snippet", "problem"), [
    ('immediate = ["mentions"]', "mentions never alert"),
    ('immediate = ["updates"]\ndigest = ["updates"]', "both immediate and digest"),
    ('webhook_url = "https://hooks.slack.com/x"', "unknown key(s) webhook_url"),
    ('digest_at = "8am"', 'digest_at must be "run" or "HH:MM"'),
    ('digest_timezone = "Mars/Olympus"', "unknown digest_timezone"),
])
def test_bad_settings_are_refused_with_the_channel_and_key(tmp_path: Path, snippet: str,
                                                          problem: str) -> None:
    text = f'[[channels]]\nname = "n"\nkind = "slack"\nwebhook_url_env = "X"\n{snippet}\n'
    with pytest.raises(AlertsConfigError, match="channel 'n'") as error:
        _load(tmp_path, text)
    assert problem in str(error.value)


def test_email_channel_needs_recipients_and_a_clean_sender(tmp_path: Path) -> None:
    base = '[[channels]]\nname = "e"\nkind = "email"\nsmtp_host = "h"\n'
    with pytest.raises(AlertsConfigError, match="recipients"):
        _load(tmp_path, base + 'sender = "a@b.example"\n')
    with pytest.raises(AlertsConfigError, match="sender"):
        _load(tmp_path, base + 'sender = "a@b.example\\r\\nBcc: x@y"\nrecipients = ["d@e.example"]')


def test_duplicate_channel_names_are_refused(tmp_path: Path) -> None:
    one = '[[channels]]\nname = "n"\nkind = "slack"\nwebhook_url_env = "X"\n'
    with pytest.raises(AlertsConfigError, match="unique: n"):
        _load(tmp_path, one + one)


def test_retry_schedule_follows_reliability_and_honours_retry_after() -> None:
    schedule = policy.Delivery()
    # Tried when due, each wait is the schedule's next step: 1 m, 5 m, 15 m, 1 h, 3 h, 6 h, 6 h.
    age, waits = 0.0, []
    for _ in range(8):
        waits.append(delivery.backoff(age, None, schedule))
        age += waits[-1]
    assert waits == [60, 300, 900, 3600, 10800, 21600, 21600, 21600]
    # The age picks the step, however many tries a run made: a young alert waits a minute.
    assert delivery.backoff(5, None, schedule) == 60
    assert delivery.backoff(15 * 60, None, schedule) == 900  # 15 min old: the third step
    assert 30 <= delivery.backoff(1, 30, schedule) <= 33
    assert delivery.backoff(1, 10**9, schedule) <= 86400 * 1.1


def test_in_run_retries_wait_half_a_second_then_double_or_honour_retry_after() -> None:
    assert [delivery.inline_wait(n, None) for n in range(5)] == [0.5, 1, 2, 4, 8]
    assert delivery.inline_wait(0, 3) == 3 and delivery.inline_wait(3, 1) == 4


def test_backlog_rules() -> None:
    fresh = outbox.Provenance(1, NOW, datetime(2026, 1, 1, tzinfo=UTC), False,
                              datetime(2026, 1, 1, tzinfo=UTC))
    assert outbox.backlog_reason(fresh, 7, NOW) is None
    first = outbox.Provenance(1, NOW, None, True, None)
    assert outbox.backlog_reason(first, 7, NOW) == "backlog: first poll of the source"
    early = outbox.Provenance(1, datetime(2025, 12, 1, tzinfo=UTC),
                              datetime(2026, 1, 1, tzinfo=UTC), False, None)
    assert outbox.backlog_reason(early, 0, NOW) == "backlog: published before the source was added"
    old = outbox.Provenance(1, datetime(2026, 1, 20, tzinfo=UTC), None, False, None)
    assert outbox.backlog_reason(old, 7, NOW) == "backlog: published more than 7 days ago"
    assert outbox.backlog_reason(old, 0, NOW) is None
    edited = outbox.Provenance(2, datetime(2025, 1, 1, tzinfo=UTC), None, True, None)
    assert outbox.backlog_reason(edited, 7, NOW) is None
    assert outbox.freshest(["backlog: x", None]) is None
    assert outbox.freshest(["backlog: x", "backlog: y"]) == "backlog: x"


def test_daily_digest_is_due_once_after_its_hour() -> None:
    channel = Channel("e", "email", digest_at="08:00", digest_timezone="Europe/London")
    morning = datetime(2026, 2, 3, 8, 5, tzinfo=UTC)
    assert gathering.digest_due(channel, None, morning)
    assert gathering.digest_due(channel, datetime(2026, 2, 2, 8, 1, tzinfo=UTC), morning)
    assert not gathering.digest_due(channel, datetime(2026, 2, 3, 8, 1, tzinfo=UTC), morning)
    assert not gathering.digest_due(channel, datetime(2026, 2, 3, 8, 1, tzinfo=UTC),
                                 datetime(2026, 2, 4, 7, 59, tzinfo=UTC))
    assert gathering.digest_due(Channel("s", "slack"), NOW, NOW)  # "run": every run


# ---------------------------------------------------------------- Slack over a real HTTP server


@pytest.fixture()
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as stand_in:
        yield stand_in


@pytest.mark.slow
@pytest.mark.parametrize(("answer", "outcome"), [
    (Answer(200), "sent"), (Answer(500, "oops"), "retry"), (Answer(408), "retry"),
    (Answer(404, "no_service"), "failed"), (Answer(400, "invalid_payload"), "failed")])
def test_slack_answers_are_classified(slack: SlackStandIn, answer: Answer, outcome: str) -> None:
    slack.script = [answer]
    sent = slack_sender.send_slack(slack.url, {"text": "hi"}, "key-1")
    assert sent.outcome == outcome
    assert slack.requests[0].key == "key-1" and slack.requests[0].payload == {"text": "hi"}


@pytest.mark.slow
def test_slack_429_carries_retry_after(slack: SlackStandIn) -> None:
    slack.script = [Answer(429, "rate_limited", {"Retry-After": "7"})]
    sent = slack_sender.send_slack(slack.url, {"text": "hi"}, "k")
    assert (sent.outcome, sent.retry_after_s) == ("retry", 7.0)


@pytest.mark.slow
def test_unreachable_webhook_is_retried_and_its_url_never_shown() -> None:
    url = f"http://127.0.0.1:{free_port()}/services/T1/B1/very-secret-token"
    sent = slack_sender.send_slack(url, {"text": "hi"}, "k", timeout_s=2)
    assert (sent.outcome, sent.unreachable) == ("retry", True)
    assert "very-secret-token" not in sent.error and "127.0.0.1" not in sent.error


@pytest.mark.slow
def test_alerts_test_command_posts_to_the_channel(
        slack: SlackStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from claimwatch.flows.app import cli

    monkeypatch.setenv("CW_TEST_HOOK", slack.url)
    path = tmp_path / "alerts.toml"
    path.write_text('[[channels]]\nname = "n"\nkind = "slack"\nwebhook_url_env = "CW_TEST_HOOK"\n')
    assert cli.main(["alerts", "test", "n", "--alerts", str(path)]) == 0
    assert "test message to n: sent" in capsys.readouterr().out
    assert "claimwatch test message for channel n" in slack.accepted()[0].payload["text"]
    assert slack.url not in capsys.readouterr().out
    assert cli.main(["alerts", "test", "nope", "--alerts", str(path)]) == 1
    monkeypatch.delenv("CW_TEST_HOOK")
    assert cli.main(["alerts", "test", "n", "--alerts", str(path)]) == 1
    assert "unconfigured: set $CW_TEST_HOOK" in capsys.readouterr().out


# ---------------------------------------------------------------- email over a real SMTP server


def _email_channel(port: int, security: str = "none", ca_file: Path | None = None,
                   login: bool = False) -> Channel:
    return Channel("editors", "email", smtp_host="127.0.0.1", smtp_port=port, security=security,
                   sender="claimwatch@example.org", recipients=("desk@example.org",),
                   ca_file=str(ca_file) if ca_file else None, timeout_s=5,
                   username_env="CW_SMTP_USER" if login else None,
                   password_env="CW_SMTP_PASSWORD" if login else None)


def _content() -> mail.EmailContent:
    return mail.EmailContent("[claimwatch] Updated x", "plain body", "<p>html body</p>")


def _send(channel: Channel, creds: Credentials | None = None, key: str = "k1") -> policy.Sent:
    message = mail.email_message(channel, _content(), key, NOW)
    return mail.send_email(channel, creds or Credentials(), message)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # implicit TLS
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_email_over_tls_with_auth_arrives_with_both_parts(
        tmp_path: Path, security: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CW_SMTP_USER", "desk")
    monkeypatch.setenv("CW_SMTP_PASSWORD", "s3cret")
    with SMTPStandIn(tmp_path, security, login=("desk", "s3cret")) as smtp:
        channel = _email_channel(smtp.port, security, smtp.cert, login=True)
        creds = alert_secrets.credentials(channel)
        assert isinstance(creds, Credentials)
        sent = _send(channel, creds)
        assert sent.outcome == "sent", sent.error
        (mail,) = smtp.messages
    assert mail["Subject"] == "[claimwatch] Updated x"
    assert mail["Message-ID"] == "<claimwatch.k1@example.org>"
    assert mail.get_body(("plain",)).get_content().strip() == "plain body"
    assert mail.get_body(("html",)).get_content().strip() == "<p>html body</p>"
    assert smtp.inbox.envelopes == [("claimwatch@example.org", ["desk@example.org"])]


@pytest.mark.slow
def test_wrong_smtp_password_fails_for_good(tmp_path: Path) -> None:
    with SMTPStandIn(tmp_path, "starttls", login=("desk", "s3cret")) as smtp:
        channel = _email_channel(smtp.port, "starttls", smtp.cert, login=True)
        sent = _send(channel, Credentials(username="desk", password="wrong"))
        assert smtp.messages == []
    assert sent.outcome == "failed" and sent.error.startswith("SMTP 535")
    assert "wrong" not in sent.error


@pytest.mark.slow
def test_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    with SMTPStandIn(tmp_path, "starttls") as smtp:
        sent = _send(_email_channel(smtp.port, "starttls"))  # no ca_file: the cert is unknown
    assert sent.outcome == "failed" and "certificate" in sent.error


@pytest.mark.slow
def test_smtp_server_down_is_retried() -> None:
    sent = _send(_email_channel(free_port()))
    assert (sent.outcome, sent.unreachable) == ("retry", True)


@pytest.mark.slow
def test_cr_lf_in_untrusted_text_never_reaches_an_email_header(tmp_path: Path) -> None:
    view = alerts.AlertView(
        "k\r\nBcc: key@evil.example", "claim\r\nBcc: victim@evil.example", "statement",
        "contradicts", "status: a → b\nX-Injected: 1", {"status": ("a", "b")},
        (alerts.Evidence("s", "t", "Outlet\r\nBcc: outlet@evil.example", "https://x.example/",
                         "contradicts"),), 1, NOW)
    with SMTPStandIn(tmp_path) as smtp:
        channel = _email_channel(smtp.port)
        message = mail.email_message(channel, mail.email(view), view.key, NOW)
        assert mail.send_email(channel, Credentials(), message).outcome == "sent"
        (received,) = smtp.messages
    assert received["Bcc"] is None and received["X-Injected"] is None
    assert smtp.inbox.envelopes == [("claimwatch@example.org", ["desk@example.org"])]
    assert "\n" not in received["Subject"] and "Bcc: victim@evil.example" in received["Subject"]


@pytest.mark.slow
def test_secret_can_come_from_a_prefect_secret_block(prefect_api: str) -> None:
    from prefect.blocks.system import Secret

    Secret(value="https://hooks.example/from-block").save("cw-test-hook", overwrite=True)
    channel = Channel("n", "slack", webhook_url_secret="cw-test-hook")
    assert alert_secrets.credentials(channel) == Credentials(
        webhook_url="https://hooks.example/from-block")
    assert alert_secrets.secret(None, "no-such-block") is None
