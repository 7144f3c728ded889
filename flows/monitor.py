"""One monitoring cycle as a Prefect flow. The one module that imports prefect; reads like the diagram:

    sources -poll-> items -fetch+extract-> articles -match-> matches -decide-> developments
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from claimwatch.flows import crashpoints, settings, shards
from claimwatch.flows.alerts import config as alert_config
from claimwatch.flows.alerts import delivery
from claimwatch.flows.alerts.outbox import DeliverySummary
from claimwatch.flows.cycle import CycleSummary
from claimwatch.flows.fetch.http import make_client
from claimwatch.flows.fetch.polling import FeedRequest, parse_in, poll_all
from claimwatch.flows.fetch.reading import MatchAhead, read_all
from claimwatch.flows.progress import reporter
from claimwatch.flows.report import markdown, publish
from claimwatch.flows.seeds import load_claims, load_sources
from claimwatch.flows.stages.matching import MatchSummary, match_pending
from claimwatch.flows.stages.polls import PollPlan, PollSummary, plan_polls, store_poll
from claimwatch.flows.stages.prematch import Prematches
from claimwatch.flows.stages.reads import ReadSummary, batches, plan_reads, store_reads
from claimwatch.flows.workers import WorkerPool
from claimwatch.storage import claims as records
from claimwatch.storage import db, leases, runs
from claimwatch.storage.models import Development, Run

# Tasks pass ids, paths and small frozen values; never clients, sessions or HTML
# (Prefect hashes task inputs, PrefectHQ/prefect#16557). Results are not persisted: the
# database is the record, and nothing secret can leak into a result store.
TASK_OPTIONS: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}


def _engine(db_url: str | None) -> Any:
    return db.engine_for(settings.database_url(db_url))


@task(name="prepare", **TASK_OPTIONS)
def prepare(sources_path: str, db_url: str | None, respect_backoff: bool,
            shard: str | None = None) -> tuple[int, PollPlan]:
    """Validate the seeds, sync this shard's sources into the database, open a run."""
    engine = _engine(db_url)
    now = datetime.now(UTC)
    sources = shards.select(load_sources(Path(sources_path)).sources, shards.parse(shard))
    with db.session(engine) as s:
        run_id = runs.start_run(s, now).id
    return run_id, plan_polls(engine, sources, now, respect_backoff)  # type: ignore[return-value]


def _allow_private(sources_path: str) -> bool:
    return settings.allow_private_networks(load_sources(Path(sources_path)).allow_private_networks)


@task(name="poll feeds", **TASK_OPTIONS)
def poll_feeds(requests: tuple[FeedRequest, ...], sources_path: str, db_url: str | None,
               alerts_path: str | None = None) -> PollSummary:
    """Poll every due feed in parallel; store each feed's items as its answer arrives."""
    engine, limits, now = _engine(db_url), settings.fetch_limits(), datetime.now(UTC)
    alerts = alert_config.resolve(alerts_path)  # a source turning unhealthy is alerted once
    summary = PollSummary()
    progress = reporter()
    progress.start("polling feeds", len(requests))
    # Feeds are parsed in the extraction pool; its workers start only if a feed has changed.
    with make_client(limits, _allow_private(sources_path)) as client, \
            WorkerPool(settings.extract_workers() if len(requests) > 4 else 1) as pool:
        for poll in poll_all(client, requests, limits, now,
                             on_done=lambda _p: progress.advance("polling feeds"),
                             parse=parse_in(pool)):
            store_poll(engine, poll, now, summary, alerts)  # one writer: this thread
            crashpoints.reached("mid-polling")
    crashpoints.reached("after-polling")
    progress.finish("polling feeds")
    return summary


def _match_ahead(claims_path: str | None) -> MatchAhead | None:
    """The claims, for assessing pages as they are read."""
    return MatchAhead(load_claims(Path(claims_path))) if claims_path else None


@task(name="read articles", **TASK_OPTIONS)
def read_articles(plan: PollPlan, sources_path: str, db_url: str | None,
                  alerts_path: str | None = None, claims_path: str | None = None
                  ) -> tuple[ReadSummary, Prematches]:
    """Fetch every pending item's page, extract it in a process pool, store new texts.

    With `claims_path`, each page is matched in the pool too: the answers are returned for
    the match stage to reuse.
    """
    engine, limits, now = _engine(db_url), settings.fetch_limits(), datetime.now(UTC)
    alerts = alert_config.resolve(alerts_path)  # a watched page turning unhealthy is alerted once
    requests = plan_reads(engine, [f.source_id for f in plan.feeds], plan.page_source_ids, now)
    ahead = _match_ahead(claims_path)
    summary, answers = ReadSummary(), Prematches()
    progress = reporter()
    progress.start("reading articles", len(requests))
    with make_client(limits, _allow_private(sources_path)) as client, \
            WorkerPool(settings.extract_workers() if len(requests) > 4 else 1) as extractor:
        # One transaction per batch of what is ready (stages/reads.py: the writer bounds the cycle)
        for batch in batches(read_all(client, requests, limits, extractor, ahead)):
            store_reads(engine, batch, now, summary, alerts)
            for result in batch:
                if result.prematched is not None:
                    answers.put(result.prematched)
            crashpoints.reached("mid-extraction")
            progress.advance("reading articles", len(batch))
    progress.finish("reading articles")
    return summary, answers


@task(name="match claims", **TASK_OPTIONS)
def match_claims(claims_path: str, db_url: str | None, alerts_path: str | None = None,
                 ahead: Prematches | None = None) -> MatchSummary:
    """Compare every new article version with every claim and record developments."""
    claims = load_claims(Path(claims_path))
    engine = _engine(db_url)
    with db.session(engine) as s:
        records.sync_claims(s, claims, datetime.now(UTC))
    # The extraction pool again: claims.match runs there, decisions stay in this one thread.
    with WorkerPool(settings.extract_workers()) as pool:
        return match_pending(engine, claims, datetime.now(UTC), alert_config.resolve(alerts_path),
                             pool, ahead)


@task(name="deliver alerts", **TASK_OPTIONS)
def deliver_alerts(alerts_path: str | None, db_url: str | None) -> DeliverySummary | None:
    """Send the alerts that are due (the outbox); secrets are read here, never passed in."""
    config = alert_config.resolve(alerts_path)
    if config is None:
        return None
    return delivery.deliver(_engine(db_url), config)


def _developments_table(engine: Any, ids: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with db.session(engine) as s:
        for development_id in ids:
            dev = s.get(Development, development_id)
            if dev is None:
                continue
            sources = records.sources_of(s, development_id)
            rows.append({"id": dev.id, "claim": dev.claim_id, "relation": dev.relation,
                         "summary": dev.summary, "urls": [a.url for _, _, a in sources],
                         "outlets": [a.outlet for _, _, a in sources]})
    return rows


@task(name="finish", **TASK_OPTIONS)
def finish(summary: CycleSummary, db_url: str | None) -> None:
    """Record the run's summary and publish it as an artifact for the Prefect UI."""
    engine = _engine(db_url)
    summary.developments = _developments_table(engine, summary.match.developments)
    with db.session(engine) as s:
        run = s.get(Run, summary.run_id)
        if run is not None:
            run.finished_at = datetime.now(UTC)
            run.status = "failed sources" if summary.failed else "ok"
            run.summary = summary.as_dict()
    create_markdown_artifact(markdown.cycle(summary), key="claimwatch-cycle",
                             description="What this claimwatch cycle found")
    publish.after_cycle(engine)  # the report and its feed, where CLAIMWATCH_REPORT_DIR says


@flow(name="claimwatch-cycle", persist_result=False, log_prints=False)
def cycle(
    claims_path: str = str(settings.DEFAULT_CLAIMS),
    sources_path: str = str(settings.DEFAULT_SOURCES),
    db_url: str | None = None,
    respect_backoff: bool = True,
    alerts_path: str | None = None,
    shard: str | None = None,
) -> dict[str, Any]:
    """Poll, read, match and record one cycle. db_url None: $CLAIMWATCH_DATABASE_URL or SQLite.

    alerts_path None: seeds/alerts.toml when it exists; "" turns alerts off.
    shard "2/4": only the second quarter of the sources (flows/shards.py); None: all of them.
    Another cycle running on the same sources: returns {"busy": why} having done nothing.
    """
    load_claims(Path(claims_path))  # bad seeds fail here, before anything is written
    alert_config.resolve(alerts_path)  # and so does a bad alerts.toml
    shards.parse(shard)  # and so does a bad shard
    with leases.hold(_engine(db_url), leases.name_for(shard)) as lease:
        if isinstance(lease, leases.Busy):  # ends cleanly, and says so (deploy/README.md)
            get_run_logger().warning(lease.message())
            return {"busy": lease.message()}
        run_id, plan = prepare(sources_path, db_url, respect_backoff, shard)
        poll = poll_feeds(plan.feeds, sources_path, db_url, alerts_path)
        poll.backing_off, poll.resting = list(plan.backing_off), list(plan.resting)
        read, answers = read_articles(plan, sources_path, db_url, alerts_path, claims_path)
        matched = match_claims(claims_path, db_url, alerts_path, answers)
        alerts = deliver_alerts(alerts_path, db_url)
        summary = CycleSummary(run_id, poll, read, matched, alerts=alerts)
        finish(summary, db_url)
        return summary.as_dict()


@flow(name="claimwatch-digest", persist_result=False, log_prints=False)
def digest(alerts_path: str | None = None, db_url: str | None = None) -> dict[str, Any]:
    """Send what the outbox owes now, without polling: digests whose hour has come, retries due.

    Deployed daily (deploy/prefect.yaml, `claimwatch serve --digest-cron`), so a daily digest
    goes out at its hour even when no cycle happens to run then.
    """
    alerts = deliver_alerts(alerts_path, db_url)
    return {"alerts": asdict(alerts) if alerts is not None else None}
