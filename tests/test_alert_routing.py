"""What goes where: a claim's confirmations folded into one line (or one message) listing the
sources that just confirmed it, and channels with only_tags hearing about their own sources'
news only. Real cycles against sites on 127.0.0.1, a Slack stand-in and a real SMTP server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from claimwatch.flows.alerts import config as alert_config
from claimwatch.flows.alerts import outbox
from claimwatch.flows.alerts.config import AlertsConfigError
from claimwatch.flows.app import cli
from claimwatch.flows.fetch.health import Notice
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Alert, Match, Source
from tests.alert_site import alert_rows, run_cycle
from tests.servers import FeedEntry, Route, SiteServer, rss
from tests.sites import fixture_page
from tests.slack import SlackStandIn, texts
from tests.smtp import SMTPStandIn

SLACK_ENV = "CLAIMWATCH_TEST_SLACK_WEBHOOK"
FEEDS = {"world": "/feeds/world.xml", "desk": "/feeds/desk.xml", "wire": "/feeds/wire.xml"}
TAGS = {"world": ["world"], "desk": ["desk-x", "congress"], "wire": ["world"]}
SCHEDULE = "/world/talks-set.html"  # confirms abu-dhabi-talks as the seed states it


class Desks:
    """Three feeds on one site; each round says which articles each feed lists."""

    def __init__(self, server: SiteServer) -> None:
        self.server = server
        self.entries: dict[str, list[FeedEntry]] = {name: [] for name in FEEDS}

    def article(self, feed: str, path: str, title: str, body: str) -> str:
        """Publish an article now and list it in `feed`; its URL."""
        now = datetime.now(UTC)
        url = self.server.url(path)
        self.server.routes[path] = Route(fixture_page(body, title, now.date().isoformat(), url))
        # Whole seconds in a feed: round up, or the news looks older than the claim (backlog).
        published = now.replace(microsecond=0) + timedelta(seconds=1)
        self.entries[feed].insert(0, FeedEntry(title, url, path, published=published))
        self.publish()
        return url

    def publish(self) -> None:
        for name, path in FEEDS.items():
            self.server.routes[path] = Route(rss(f"{name.title()} Wire", self.server.base_url,
                                                 self.entries[name]), "application/rss+xml")

    def sources(self, folder: Path) -> Path:
        lines = ["allow_private_networks = true", ""]
        for name, path in FEEDS.items():
            lines += ["[[feeds]]", f'name = "{name.title()} Wire"',
                      f'url = "{self.server.url(path)}"', f"tags = {TAGS[name]}", ""]
        target = folder / "sources.toml"
        target.write_text("\n".join(lines))
        return target


@pytest.fixture()
def desks() -> Iterator[Desks]:
    with SiteServer() as server:
        site = Desks(server)
        url = site.article("world", SCHEDULE, "Talks set for Abu Dhabi", "schedule")
        for feed in ("desk", "wire"):  # the same story on every feed: one article, three items
            site.entries[feed].append(FeedEntry("Talks set for Abu Dhabi", url, SCHEDULE))
        site.publish()
        yield site


@pytest.fixture()
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackStandIn]:
    with SlackStandIn() as stand_in:
        monkeypatch.setenv(SLACK_ENV, stand_in.url)
        yield stand_in


def _alerts(folder: Path, smtp_port: int, slack_extra: str = "", mail_extra: str = "") -> Path:
    path = folder / "alerts.toml"
    path.write_text("\n".join([
        "[delivery]", "retry_s = [60]", "lease_s = 0", "inline_wait_s = 5", "",
        "[[channels]]", 'name = "newsroom"', 'kind = "slack"', f'webhook_url_env = "{SLACK_ENV}"',
        "min_interval_s = 0", slack_extra, "",
        "[[channels]]", 'name = "editors"', 'kind = "email"', 'smtp_host = "127.0.0.1"',
        f"smtp_port = {smtp_port}", 'security = "none"', 'sender = "claimwatch@example.org"',
        'recipients = ["desk@example.org"]', mail_extra, ""]))
    return path


def _run(folder: Path, desks: Desks, db_url: str, alerts: Path) -> dict:
    return run_cycle(desks.sources(folder), db_url, alerts)


def _rows(db_url: str) -> list[Alert]:
    return alert_rows(db_url)


# ---------------------------------------------------------------- confirmations, folded


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_a_claims_confirmations_fold_into_one_line_and_one_message(
        tmp_path: Path, db_url: str, desks: Desks, slack: SlackStandIn) -> None:
    per_claim = ('[channels.claims."abu-dhabi-talks"]\n'
                 'immediate = ["updates", "contradicts", "confirms"]\ndigest = []')
    with SMTPStandIn(tmp_path) as smtp:
        alerts = _alerts(tmp_path, smtp.port, mail_extra=per_claim)
        _run(tmp_path, desks, db_url, alerts)  # round 1: the baseline, one article on 3 feeds
        first_slack, first_mail = len(slack.accepted()), len(smtp.messages)
        new = [desks.article(feed, f"/{feed}/talks-set-again.html",
                             f"Talks set for Abu Dhabi, officials tell {feed.title()} Wire",
                             "schedule") for feed in FEEDS]
        result = _run(tmp_path, desks, db_url, alerts)
        mails = smtp.messages[first_mail:]
    assert result["match"]["developments"] == []
    # The schedule article also confirms that the first round was held (another claim): only
    # abu-dhabi-talks is followed here.
    confirmations = [a for a in _rows(db_url) if a.kind == "confirmation"
                     and a.claim_id == "abu-dhabi-talks"]
    assert len([a for a in confirmations if a.channel == "newsroom"]) == 4  # round 1's and 3 new
    # Slack: one digest, one line for the claim, linking each new source and not the old one.
    (digest,) = slack.accepted()[first_slack:]
    lines = [t for t in texts(digest.payload) if "confirm abu-dhabi-talks" in t]
    assert len(lines) == 1 and lines[0].startswith("• 3 more sources confirm abu-dhabi-talks: ")
    assert all(url in lines[0] for url in new) and desks.server.url(SCHEDULE) not in lines[0]
    assert len(re.findall(r"<http[^|>]+\|[^>]+>", lines[0])) == 3  # each link named by its outlet
    # Email, where this claim's confirmations are immediate: one message quoting each of them.
    (mail,) = [m for m in mails if "digest" not in m["Subject"]]  # the other claim's: a digest
    assert mail["Subject"] == "[claimwatch] 3 more sources confirm abu-dhabi-talks"
    plain = mail.get_body(("plain",)).get_content()
    assert all(url in plain for url in new) and desks.server.url(SCHEDULE) not in plain
    assert plain.count('\n  "') == 3  # three evidence sentences quoted
    (carrier,) = [a for a in _rows(db_url) if a.kind == "confirmations"]
    assert (carrier.channel, carrier.status, carrier.claim_id) == ("editors", "sent",
                                                                  "abu-dhabi-talks")
    carried = [a for a in confirmations if a.digest_id == carrier.id]
    assert len(carried) == 3 and {a.status for a in carried} == {"sent"}
    assert outbox.listing(engine_for(db_url), "pending") == []


# ---------------------------------------------------------------- only_tags


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_a_desk_hears_of_a_development_when_one_of_its_sources_has_it(
        tmp_path: Path, db_url: str, desks: Desks, slack: SlackStandIn) -> None:
    with SMTPStandIn(tmp_path) as smtp:
        alerts = _alerts(tmp_path, smtp.port, mail_extra='only_tags = ["desk-x"]')
        _run(tmp_path, desks, db_url, alerts)
        # Round 2: the news breaks on the world feed only; the desk's channel hears nothing.
        desks.article("world", "/world/talks-postponed.html", "Abu Dhabi talks postponed",
                      "postponed")
        second = _run(tmp_path, desks, db_url, alerts)
        after_second = [m["Subject"] for m in smtp.messages]
        # Round 3: the desk's own feed confirms the new state: now the desk hears of it.
        copy = desks.article("desk", "/desk/talks-postponed.html", "Talks in Abu Dhabi delayed",
                             "postponed")
        _run(tmp_path, desks, db_url, alerts)
        after_third = [m["Subject"] for m in smtp.messages]
        # Round 4: another desk source repeats it, within 48 hours: one more source of the
        # development (tests/scoreboard/FORMAT.md), so nobody hears of it again.
        desks.article("desk", "/desk/talks-postponed-2.html", "Abu Dhabi meeting pushed back",
                      "postponed")
        _run(tmp_path, desks, db_url, alerts)
        final = list(smtp.messages)
    assert len(second["match"]["developments"]) == 1
    updated = [p for p in slack.accepted() if "Updated abu-dhabi-talks" in p.payload["text"]]
    assert len(updated) == 1  # the general channel heard it once, in round 2
    assert not any("Updated abu-dhabi-talks" in s for s in after_second)
    (desk_mail,) = [m for m in final if "Updated abu-dhabi-talks" in m["Subject"]]
    assert desk_mail["Subject"] in after_third
    assert copy in desk_mail.get_body(("plain",)).get_content()  # its source is listed
    rows = [a for a in _rows(db_url) if a.kind == "development"]
    assert sorted(a.channel for a in rows) == ["editors", "newsroom"]
    confirmed = [a for a in _rows(db_url) if a.kind == "confirmation" and a.claim_id ==
                 "abu-dhabi-talks" and a.created_at and a.created_at > rows[0].created_at]
    # Rounds 3 and 4 repeat news less than 48 hours old: sources of the development, never
    # confirmations, so the general channel is not told twice and the desk once (round 3).
    assert confirmed == []
    with session(engine_for(db_url)) as s:
        sources = s.exec(select(Match).where(Match.development_id == rows[0].development_id)).all()
    assert len(sources) == 3  # the world feed's article and the desk's two


def test_only_tags_must_name_tags_and_a_tag_no_source_carries_is_flagged(tmp_path: Path) -> None:
    base = '[[channels]]\nname = "d"\nkind = "slack"\nwebhook_url_env = "X"\n'
    path = tmp_path / "alerts.toml"
    for bad in ("only_tags = []", 'only_tags = "desk-x"', 'only_tags = [""]'):
        path.write_text(base + bad + "\n")
        with pytest.raises(AlertsConfigError, match="channel 'd': only_tags must be a non-empty"):
            alert_config.load(path)
    path.write_text(base + 'only_tags = ["desk-y", "desk-z"]\n')
    config = alert_config.load(path)
    assert alert_config.unmatched_tags(config, ["world", "desk-x"]) == {"d": ["desk-y", "desk-z"]}
    assert alert_config.unmatched_tags(config, ["desk-z"]) == {}


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_run_warns_when_a_channels_only_tags_match_no_source(
        tmp_path: Path, db_url: str, desks: Desks, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "alerts.toml"
    path.write_text('[[channels]]\nname = "d"\nkind = "slack"\nwebhook_url_env = "CW_UNSET_HOOK"\n'
                    'only_tags = ["desk-typo"]\n')
    code = cli.main(["run", "--db", db_url, "--sources", str(desks.sources(tmp_path)),
                     "--alerts", str(path)])
    err = capsys.readouterr().err
    assert code == 0
    assert (f"warning: alert channel 'd' has only_tags desk-typo, which no source in "
            f"{tmp_path / 'sources.toml'} carries: it will hear about nothing") in err


def test_source_health_notices_go_to_channels_that_hear_the_source(
        tmp_path: Path, db_url: str) -> None:
    """Decision: a channel with only_tags hears about its own sources' health only, so an
    untagged source's notices go to the channels without only_tags (and the run summary)."""
    path = tmp_path / "alerts.toml"
    path.write_text("\n".join(
        f'[[channels]]\nname = "{name}"\nkind = "slack"\nwebhook_url_env = "X"\n{extra}\n'
        for name, extra in [("all", ""), ("desk", 'only_tags = ["desk-x"]'),
                            ("quiet", 'only_tags = ["desk-x"]\nops = false')]))
    config = alert_config.load(path)
    now = datetime.now(UTC)
    with session(engine_for(db_url)) as s:
        for name, tags in (("Tagged", ["desk-x"]), ("Untagged", []), ("Other", ["world"])):
            s.add(Source(kind="feed", name=name, url=f"https://{name.lower()}.example/rss",
                         tags=tags, added_at=now))
    heard = {}
    for name in ("Tagged", "Untagged", "Other"):
        notice = Notice("unhealthy", name, f"https://{name.lower()}.example/rss", "HTTP 503", now)
        with session(engine_for(db_url)) as s:
            outbox.enqueue_notice(s, config, notice)
            outbox.enqueue_notice(s, config, notice)  # twice: still one row per channel
        heard[name] = sorted(a.channel for a in _rows(db_url) if a.subject == notice.key)
    assert heard == {"Tagged": ["all", "desk"], "Untagged": ["all"], "Other": ["all"]}
