"""Secrets never appear in logs, printed output, Prefect parameters, artifacts or stored results.

Webhook URLs and SMTP passwords: real cycles make a development; a Slack stand-in answers 500,
other webhooks point at a host that cannot be resolved, a port that is closed or a malformed URL,
an Apprise json:// target (password and token in its URL) answers 500, and a real SMTP server
(STARTTLS + AUTH) refuses the password.

A database password and feed credentials (issue 14 part 1): cycles through the CLI and a
Prefect server write to a real PostgreSQL database whose URL holds a password (given in
$CLAIMWATCH_DATABASE_URL and as --db), and poll a feed behind basic auth configured as
http://user:secret@host/feed.xml, and another such feed that keeps failing.

Then everything a person or a log shipper could read is searched for the secrets: log records,
the CLI's output, what the Prefect server holds about the runs (parameters, task runs,
artifacts, logs, its database file) and every column of our database.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from claimwatch.flows import cycle as plain
from claimwatch.flows import settings
from claimwatch.flows.app.runner import summary_text
from claimwatch.flows.fetch.http import fetch, make_client
from claimwatch.flows.fetch.urls import credentials, without_userinfo
from claimwatch.flows.monitor import cycle
from claimwatch.flows.settings import DEFAULT_CLAIMS
from tests import postgres
from tests.alert_site import FEED, serve_round, sources_file
from tests.apprise_target import PASSWORD as APPRISE_PASSWORD
from tests.apprise_target import TOKEN as APPRISE_TOKEN
from tests.apprise_target import AppriseTarget, Reply
from tests.conftest import ROOT
from tests.servers import Route, SiteServer, send
from tests.sites import fixture_page
from tests.slack import WEBHOOK_PATH, Answer, SlackStandIn
from tests.smtp import SMTPStandIn, free_port

SLACK_TOKEN = WEBHOOK_PATH.rsplit("/", 1)[-1]  # the secret part of the stand-in's webhook URL
UNRESOLVABLE_TOKEN = "cw-webhook-token-unresolvable-Zq81"
CLOSED_TOKEN = "cw-webhook-token-closed-port-Hh27"
MALFORMED_TOKEN = "cw-webhook-token-malformed-Pd55"
SMTP_PASSWORD = "cw-smtp-password-Wr0ng-x9"
SMTP_RIGHT_PASSWORD = "cw-the-right-one-Tt4"  # the server's; never sent by us, never matters
ENV = {"slack": "CW_TEST_SLACK_500", "unresolvable": "CW_TEST_SLACK_UNRESOLVABLE",
       "closed": "CW_TEST_SLACK_CLOSED", "malformed": "CW_TEST_SLACK_MALFORMED",
       "password": "CW_TEST_SMTP_PASSWORD", "user": "CW_TEST_SMTP_USER",
       "apprise": "CW_TEST_APPRISE_500"}


def _slack_channel(name: str, env: str) -> list[str]:
    return ["[[channels]]", f'name = "{name}"', 'kind = "slack"', f'webhook_url_env = "{env}"',
            'immediate = ["updates", "contradicts"]', 'digest = ["confirms"]',
            "min_interval_s = 0", "timeout_s = 2", ""]


def _alerts(folder: Path, smtp: SMTPStandIn, webhooks: Iterable[str]) -> Path:
    lines = ["[delivery]", "retry_s = [0]", "lease_s = 0", "inline_wait_s = 0", ""]
    for which in webhooks:
        lines += _slack_channel(which, ENV[which])
    lines += ["[[channels]]", 'name = "apprise"', 'kind = "apprise"', f'url_env = "{ENV["apprise"]}"',
              'immediate = ["updates", "contradicts"]', 'digest = ["confirms"]',
              "min_interval_s = 0", "timeout_s = 2", ""]
    lines += ["[[channels]]", 'name = "editors"', 'kind = "email"', 'smtp_host = "127.0.0.1"',
              f"smtp_port = {smtp.port}", 'security = "starttls"', f'ca_file = "{smtp.cert}"',
              f'username_env = "{ENV["user"]}"', f'password_env = "{ENV["password"]}"',
              'sender = "claimwatch@example.org"', 'recipients = ["desk@example.org"]',
              'immediate = ["updates", "contradicts"]', 'digest = ["confirms"]', "timeout_s = 5"]
    path = folder / "alerts.toml"
    path.write_text("\n".join(lines))
    return path


@pytest.fixture()
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as stand_in:
        stand_in.script = [Answer(500, "internal_error")] * 100
        yield stand_in


@pytest.fixture()
def apprise_target() -> Iterator[AppriseTarget]:
    with AppriseTarget() as target:  # Apprise logs its URLs: json://user:password@host/token
        target.script = [Reply(500)] * 100
        yield target


@pytest.fixture()
def smtp(tmp_path: Path) -> Iterator[SMTPStandIn]:
    with SMTPStandIn(tmp_path, security="starttls", login=("cw-user", SMTP_RIGHT_PASSWORD)) as s:
        yield s


@pytest.fixture()
def site() -> Iterator[SiteServer]:
    with SiteServer() as server:
        serve_round(server, 1)
        yield server


def _webhooks(slack: SlackStandIn) -> dict[str, str]:
    return {"slack": slack.url,
            "unresolvable": f"http://cw-no-such-host.invalid/services/T1/B1/{UNRESOLVABLE_TOKEN}",
            "closed": f"http://127.0.0.1:{free_port()}/services/T1/B1/{CLOSED_TOKEN}",
            "malformed": f"http://127.0.0.1:notaport/services/T1/B1/{MALFORMED_TOKEN}"}


def _secrets(slack: SlackStandIn, apprise_target: AppriseTarget) -> list[str]:
    return [slack.url, SLACK_TOKEN, UNRESOLVABLE_TOKEN, CLOSED_TOKEN, MALFORMED_TOKEN,
            SMTP_PASSWORD, apprise_target.url(), APPRISE_TOKEN, APPRISE_PASSWORD]


def _leaks(text: str, secrets: Iterable[str]) -> list[str]:
    return [s for s in secrets if s in text]


# ---------------------------------------------------------------- where a secret could end up


def database_text(db_file: Path) -> str:
    """Every column of every row of every table, as text (Run.summary, Alert.last_error ...)."""
    with sqlite3.connect(db_file) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert {"run", "alert", "development"} <= set(tables)
        return "\n".join(repr(row) for table in tables
                         for row in conn.execute(f'SELECT * FROM "{table}"'))


def prefect_text(since: datetime) -> tuple[str, int]:
    """All the Prefect server holds on the cycles started since `since`, and how many there were."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterStartTime,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()  # logs of in-process runs go out in batches
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["claimwatch-cycle"])),
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since)))
        ids: list[UUID] = [r.id for r in runs]
        by_run = FlowRunFilter(id=FlowRunFilterId(any_=ids))
        found: list[Any] = [*runs, *client.read_task_runs(flow_run_filter=by_run),
                            *client.read_artifacts(flow_run_filter=by_run),
                            *client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)))]
    return "\n".join(json.dumps(x.model_dump(mode="json")) for x in found), len(runs)


def prefect_database_bytes() -> bytes:
    """The Prefect server's own SQLite files, raw: events and anything else it keeps."""
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value() or ""
    path = Path(url.split("///", 1)[-1])
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())


def _assert_nowhere(secrets: list[str], db_file: Path, since: datetime, *texts: str) -> None:
    stored = database_text(db_file)
    assert "internal_error" in stored and "SMTP 535" in stored  # the failures were recorded
    assert _leaks(stored, secrets) == [], "a secret is stored in our database"
    held, runs = prefect_text(since)
    assert runs >= 2 and '"claims_path"' in held  # we read the runs' parameters back
    assert _leaks(held, secrets) == [], "a secret reached Prefect"
    raw = prefect_database_bytes()
    assert raw and [s for s in secrets if s.encode() in raw] == []
    for text in texts:
        assert _leaks(text, secrets) == []


# ---------------------------------------------------------------- the tests


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_failed_deliveries_in_process_leak_no_secret(
        tmp_path: Path, db_url: str, site: SiteServer, slack: SlackStandIn, smtp: SMTPStandIn,
        apprise_target: AppriseTarget, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # httpx logs every request's URL at INFO
    hooks = _webhooks(slack)
    for which, url in hooks.items():
        monkeypatch.setenv(ENV[which], url)
    monkeypatch.setenv(ENV["apprise"], apprise_target.url())
    monkeypatch.setenv(ENV["user"], "cw-user")
    monkeypatch.setenv(ENV["password"], SMTP_PASSWORD)
    alerts = _alerts(tmp_path, smtp, hooks)
    since = datetime.now(UTC)
    states = []
    for round_number in (1, 2):
        serve_round(site, round_number)
        with settings.database(db_url):
            states.append(cycle(claims_path=str(DEFAULT_CLAIMS),
                                sources_path=str(sources_file(tmp_path, site)),
                                alerts_path=str(alerts), return_state=True))
    errors = [repr(s.result(raise_on_failure=False)) for s in states if not s.is_completed()]
    assert errors == []  # a broken channel fails its alerts, never the cycle
    result = states[-1].result()
    assert len(result["match"]["developments"]) == 1
    assert result["alerts"]["sent"] == 0 and result["alerts"]["pending"] >= 1
    failures = " ".join(result["alerts"]["failed"] + result["alerts"]["retrying"])
    for what in ("HTTP 500", "SMTP 535", "Slack unreachable", "Apprise (JSON) answered HTTP 500"):
        assert what in failures
    assert result["alerts"]["unconfigured"] == {"malformed": (
        "misconfigured: the webhook URL is not a well-formed http(s) URL "
        f"(set ${ENV['malformed']})")}
    assert len(slack.requests) >= 2 and smtp.messages == [] and len(apprise_target.requests) >= 2
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "HTTP Request: POST" in logged  # the records that would carry a URL were captured
    _assert_nowhere(_secrets(slack, apprise_target), Path(db_url.removeprefix("sqlite:///")),
                    since, logged, json.dumps(result, default=str))


@pytest.mark.slow
def test_failed_deliveries_through_the_cli_leak_no_secret(
        tmp_path: Path, db_url: str, site: SiteServer, slack: SlackStandIn, smtp: SMTPStandIn,
        apprise_target: AppriseTarget, prefect_api: str) -> None:
    hooks = {k: v for k, v in _webhooks(slack).items() if k in {"slack", "closed"}}
    alerts = _alerts(tmp_path, smtp, hooks)
    env = {**os.environ, "PREFECT_API_URL": prefect_api, ENV["user"]: "cw-user",
           ENV["password"]: SMTP_PASSWORD, **{ENV[k]: v for k, v in hooks.items()},
           ENV["apprise"]: apprise_target.url(),
           # Everything logged; httpx's, httpcore's, Apprise's and urllib3's records shipped to
           # the Prefect API (its handler then sits on those loggers themselves).
           "PREFECT_LOGGING_LEVEL": "DEBUG", "PREFECT_LOGGING_ROOT_LEVEL": "DEBUG",
           "PREFECT_LOGGING_EXTRA_LOGGERS": "httpx,httpcore,flows,apprise,urllib3"}
    since = datetime.now(UTC)
    output = []
    for round_number in (1, 2):
        serve_round(site, round_number)
        done = subprocess.run(
            [sys.executable, "-m", "claimwatch.flows.app.cli", "run", "--claims", str(DEFAULT_CLAIMS),
             "--sources", str(sources_file(tmp_path, site)), "--db", db_url, "--alerts",
             str(alerts)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
            check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        output.append(done.stdout + done.stderr)
    assert "developments: 1" in output[-1] and "alert retrying" in output[-1]
    assert "HTTP Request: POST" in output[-1]  # httpx's request log was on, and was seen
    assert "Apprise (JSON) answered HTTP 500" in output[-1] and len(apprise_target.requests) >= 2
    _assert_nowhere(_secrets(slack, apprise_target), Path(db_url.removeprefix("sqlite:///")),
                    since, *output)


# ---------------------------------------------------------------- a database password, feed logins

DB_PASSWORD = "cw-db-password-Kq93x"
FEED_LOGIN = ("cw-reader", "cw-feed-secret-Jx42")
PRIVATE_FEED = "/private/world.xml"


def test_urls_are_shown_without_their_user_info() -> None:
    assert without_userinfo("https://u:s3cr@t@host.example:8443/f.xml?a=1") == \
        "https://host.example:8443/f.xml?a=1"
    assert without_userinfo("http://[::1:notaport/x") == "http://[::1:notaport/x"  # unparseable
    assert without_userinfo("ftp://user:pw@files/x") == "ftp://files/x"
    assert without_userinfo("https://host/a@b") == "https://host/a@b"  # an @ in the path stays
    assert credentials("https://a%40b:p%3Aw@h/f") == ("https://h/f", ("a@b", "p:w"))
    assert credentials("https://h/f") == ("https://h/f", None)
    assert credentials("http://u:p@[::1/x") == ("http://[::1/x", None)


def _login_header() -> str:
    return "Basic " + base64.b64encode(":".join(FEED_LOGIN).encode()).decode()


def _login_route(server: SiteServer, path: str, logins: list[str | None],
                 answer: Callable[[Any], None]) -> None:
    """`path` answers with `answer` only when FEED_LOGIN is sent; every Authorization header
    sent (or None) is kept in `logins`."""
    def private(handler: Any) -> None:
        logins.append(handler.headers.get("Authorization"))
        if handler.headers.get("Authorization") != _login_header():
            send(handler, 401, b"login required", "text/plain",
                 {"WWW-Authenticate": 'Basic realm="private"'})
            return
        answer(handler)
    server.routes[path] = private


def _behind_login(server: SiteServer, logins: list[str | None]) -> None:
    """PRIVATE_FEED answers only with the login; ISO-8859-1 bytes in it make claimwatch log a
    warning naming the feed's URL."""
    def feed(handler: Any) -> None:
        route = server.routes[FEED]
        assert isinstance(route, Route)
        send(handler, 200, route.body.replace(b"test feed", b"caf\xe9 feed"),
             "application/rss+xml")
    _login_route(server, PRIVATE_FEED, logins, feed)


def test_the_login_goes_to_the_feed_and_never_across_a_redirect(site: SiteServer) -> None:
    logins: list[str | None] = []
    _behind_login(site, logins)
    with SiteServer("127.0.0.2") as other:
        other.routes["/moved.xml"] = lambda h: send(h, 301, b"", "text/plain",
                                                    {"Location": site.url(PRIVATE_FEED)})
        limits = settings.FetchLimits()
        user, password = FEED_LOGIN
        with make_client(limits, allow_private=True) as client:
            direct = fetch(client, site.url(PRIVATE_FEED).replace("//", f"//{user}:{password}@"),
                           max_bytes=limits.max_feed_bytes, deadline_s=10)
            moved = fetch(client, other.url("/moved.xml").replace("//", f"//{user}:{password}@"),
                          max_bytes=limits.max_feed_bytes, deadline_s=10)
    assert direct.status == 200 and b"caf" in direct.body
    assert direct.url == site.url(PRIVATE_FEED)  # what is kept and shown has no user-info
    assert moved.error == "HTTP 401"  # the login stayed with the host it was given for
    assert logins == [_login_header(), None]


PRIVATE_PAGE = "/private/briefing.html"


def test_a_watched_page_behind_a_login_is_read_and_its_login_stays_out_of_sight(
        tmp_path: Path, site: SiteServer) -> None:
    logins: list[str | None] = []
    page = fixture_page("schedule", "Talks set for Abu Dhabi", "2026-01-26", site.url(PRIVATE_PAGE))
    _login_route(site, PRIVATE_PAGE, logins,
                 lambda handler: send(handler, 200, page, "text/html; charset=utf-8"))
    user, password = FEED_LOGIN
    sources = tmp_path / "sources.toml"
    sources.write_text("allow_private_networks = true\n[[pages]]\nname = \"Private briefing\"\n"
                       f'url = "{site.base_url.replace("//", f"//{user}:{password}@")}'
                       f'{PRIVATE_PAGE}"\n')
    db = tmp_path / "claimwatch.db"
    with settings.database(f"sqlite:///{db}"):
        result = plain.run(plain.PLAIN, str(DEFAULT_CLAIMS), str(sources), alerts_path="")
    printed = summary_text(result)
    assert logins == [_login_header()], printed  # the login went with the page's request
    assert "watched pages read: 1  failed: 0" in printed and "new articles: 1" in printed, printed
    assert _leaks(printed, [password, f"{user}:"]) == []
    stored = database_text(db)
    assert stored.count(password) == 1  # the source's own URL, which the next cycle fetches
    assert site.url(PRIVATE_PAGE) in stored  # the item and the article: without the login


def _private_sources(folder: Path, site: SiteServer) -> Path:
    user, password = FEED_LOGIN
    with_login = site.base_url.replace("//", f"//{user}:{password}@")
    path = folder / "private-sources.toml"
    path.write_text("\n".join([
        "allow_private_networks = true",
        "[[feeds]]", 'name = "Private wire"', f'url = "{with_login}{PRIVATE_FEED}"',
        "[[feeds]]", 'name = "Private dead"',
        f'url = "http://{user}:{password}@127.0.0.1:{free_port()}/feed.xml"', ""]))
    return path


def _postgres_text(url: str) -> tuple[str, str]:
    """Every row of claimwatch's PostgreSQL database as text: (the sources' own URLs, the rest)."""
    from sqlalchemy import inspect, text

    from claimwatch.storage.db import engine_for

    engine = engine_for(url)
    urls, rest = [], []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')).mappings():
                if table == "source":  # its URL as configured: what the next poll fetches
                    urls.append(str(row["url"]))
                    row = {k: v for k, v in row.items() if k != "url"}
                rest.append(repr(dict(row)))
    engine.dispose()
    return "\n".join(urls), "\n".join(rest)


@pytest.mark.slow
@pytest.mark.postgres
def test_a_database_password_and_feed_logins_reach_no_output_prefect_or_column(
        tmp_path: Path, site: SiteServer, prefect_api: str) -> None:
    logins: list[str | None] = []
    _behind_login(site, logins)
    sources = _private_sources(tmp_path, site)
    with postgres.fresh_database("claimwatch_secrets") as (user, name):
        db = postgres.url(user, name).replace(f"//{user}@", f"//{user}:{DB_PASSWORD}@")
        base = {**os.environ, "PREFECT_API_URL": prefect_api, "CLAIMWATCH_HOME": str(tmp_path),
                "PREFECT_LOGGING_LEVEL": "DEBUG", "PREFECT_LOGGING_ROOT_LEVEL": "DEBUG",
                "PREFECT_LOGGING_EXTRA_LOGGERS": "httpx,httpcore"}
        run = [sys.executable, "-m", "claimwatch.flows.app.cli", "run", "--sources", str(sources),
               "--alerts", "", "--all"]
        since = datetime.now(UTC)
        commands = [  # through Prefect: the password in the environment, then as --db
            (run, {**base, "CLAIMWATCH_DATABASE_URL": db}),
            ([*run, "--db", db], base),
            (run, {**base, "CLAIMWATCH_DATABASE_URL": db}),  # the third failure: a notice
            ([*run, "--no-prefect"], {**base, "CLAIMWATCH_DATABASE_URL": db}),
            ([*run[:3], "sources", "--db", db], base),
            ([*run[:3], "db", "version", "--db", db.replace(":5432", ":notaport")], base),
        ]
        output = []
        for command, env in commands:
            done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                                  timeout=300, check=False)
            output.append(done.stdout + done.stderr)
        stored_urls, stored = _postgres_text(postgres.url(user, name))
    printed = "\n".join(output)
    assert output[0].count("FAILED Private dead:") == 1 and "new articles: 1" in output[0], printed
    assert "UNHEALTHY Private dead is failing" in output[2], printed
    assert "Private wire [feed] " + site.url(PRIVATE_FEED) in output[4], printed
    assert "not a database URL" in output[5], printed
    assert _login_header() in logins  # the login was sent, so the feed was read
    secrets = [DB_PASSWORD, FEED_LOGIN[1], f"{FEED_LOGIN[0]}:"]
    assert _leaks(printed, secrets) == []
    held, runs = prefect_text(since)
    assert runs == 3 and '"sources_path"' in held  # the runs' parameters were read back
    assert "claimwatch.feeds" in held and site.url(PRIVATE_FEED) in held  # its log was shipped
    assert "HTTP Request: GET" in held  # and httpx's, which quotes every URL it requests
    assert _leaks(held, secrets) == [], "a secret reached Prefect"
    raw = prefect_database_bytes()
    assert raw and [s for s in secrets if s.encode() in raw] == []
    assert "UNHEALTHY" not in stored and "unhealthy" in stored  # the run summaries were read
    assert _leaks(stored, secrets) == [], "a secret is stored outside the sources' own URLs"
    assert FEED_LOGIN[1] in stored_urls  # kept where the next poll needs it, and only there
