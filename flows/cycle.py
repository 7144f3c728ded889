"""One monitoring cycle, free of Prefect: its stages, the one function that runs them in order,
and what it did. It reads like the diagram:

    sources -poll-> items -fetch+extract-> articles -match-> matches -decide-> developments

`run(PLAIN, ...)` is a one-off `claimwatch run` or `demo`; flows/monitor.py hands `run` the same
stages wrapped as Prefect tasks. Stages take paths, ids and small frozen values, never a client,
a session or anything secret: the database URL is read from settings where it is needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claimwatch.flows import crashpoints, settings, shards
from claimwatch.flows.alerts import config as alert_config
from claimwatch.flows.alerts import delivery
from claimwatch.flows.alerts.outbox import DeliverySummary
from claimwatch.flows.fetch.http import make_client
from claimwatch.flows.fetch.polling import FeedRequest, parse_in, poll_all
from claimwatch.flows.fetch.reading import MatchAhead, read_all
from claimwatch.flows.fetch.urls import without_userinfo
from claimwatch.flows.progress import reporter
from claimwatch.flows.report import publish
from claimwatch.flows.seeds import load_claims, load_sources
from claimwatch.flows.stages.matching import MatchSummary, match_pending
from claimwatch.flows.stages.polls import PollPlan, PollSummary, plan_polls, store_poll
from claimwatch.flows.stages.prematch import Prematches
from claimwatch.flows.stages.reads import ReadSummary, batches, plan_reads, store_reads
from claimwatch.flows.workers import WorkerPool
from claimwatch.storage import claims as records
from claimwatch.storage import db, leases, runs
from claimwatch.storage import sources as source_rows
from claimwatch.storage.models import Development

log = logging.getLogger("claimwatch.cycle")


@dataclass(slots=True)
class CycleSummary:
    """What one cycle did, as the CLI prints it and the artifact shows it."""

    run_id: int
    poll: PollSummary
    read: ReadSummary
    match: MatchSummary
    developments: list[dict[str, Any]] = field(default_factory=list)
    alerts: DeliverySummary | None = None
    due: int = 0  # sources due this cycle: feeds polled and watched pages read
    shard: str | None = None  # "2/4" when the cycle ran one shard of the sources

    @property
    def failed(self) -> bool:
        return bool(self.poll.failed or self.read.failed_pages)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _engine() -> Any:
    # Read here, in the stage, never passed in: a URL may hold a password (issue 14).
    return db.engine_for(settings.database_url())


def prepare(sources_path: str, respect_backoff: bool, shard: str | None = None,
            flow_run_id: str | None = None) -> tuple[int, PollPlan]:
    """Validate the seeds, sync this shard's sources into the database, open a run."""
    engine = _engine()
    now = datetime.now(UTC)
    sources = shards.select(load_sources(Path(sources_path)).sources, shards.parse(shard))
    with db.session(engine) as s:
        run_id = runs.start_run(s, now, flow_run_id).id
    return run_id, plan_polls(engine, sources, now, respect_backoff)  # type: ignore[return-value]


def _allow_private(sources_path: str) -> bool:
    return settings.allow_private_networks(load_sources(Path(sources_path)).allow_private_networks)


def _pool(workers: int) -> WorkerPool:
    """The process pool, told where the engine's knowledge is (its workers never load settings)."""
    return WorkerPool(workers, knowledge_folder=settings.cache_dir())


def poll_feeds(requests: tuple[FeedRequest, ...], sources_path: str,
               alerts_path: str | None = None) -> PollSummary:
    """Poll every due feed in parallel; store each feed's items as its answer arrives."""
    engine, limits, now = _engine(), settings.fetch_limits(), datetime.now(UTC)
    alerts = alert_config.resolve(alerts_path)  # a source turning unhealthy is alerted once
    summary = PollSummary()
    progress = reporter()
    progress.start("polling feeds", len(requests))
    # Feeds are parsed in the extraction pool; its workers start only if a feed has changed.
    with make_client(limits, _allow_private(sources_path)) as client, \
            _pool(settings.extract_workers() if len(requests) > 4 else 1) as pool:
        for poll in poll_all(client, requests, limits, now,
                             on_done=lambda _p: progress.advance("polling feeds"),
                             parse=parse_in(pool)):
            store_poll(engine, poll, now, summary, alerts)  # one writer: this thread
            crashpoints.reached("mid-polling")
    crashpoints.reached("after-polling")
    progress.finish("polling feeds")
    return summary


def _match_ahead(claims_path: str | None) -> MatchAhead | None:
    """The claims, for assessing pages as they are read (an assessment needs no state)."""
    return MatchAhead(load_claims(Path(claims_path))) if claims_path else None


def read_articles(plan: PollPlan, sources_path: str, alerts_path: str | None = None,
                  claims_path: str | None = None) -> tuple[ReadSummary, Prematches]:
    """Fetch every pending item's page, extract it in a process pool, store new texts.

    With `claims_path`, each page is matched in the pool too: the answers are returned for
    the match stage to reuse.
    """
    engine, limits, now = _engine(), settings.fetch_limits(), datetime.now(UTC)
    alerts = alert_config.resolve(alerts_path)  # a watched page turning unhealthy is alerted once
    requests = plan_reads(engine, [f.source_id for f in plan.feeds], plan.page_source_ids, now)
    ahead = _match_ahead(claims_path)
    summary, answers = ReadSummary(), Prematches()
    progress = reporter()
    progress.start("reading articles", len(requests))
    with make_client(limits, _allow_private(sources_path)) as client, \
            _pool(settings.extract_workers() if len(requests) > 4 else 1) as extractor:
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


def match_claims(claims_path: str, alerts_path: str | None = None,
                 ahead: Prematches | None = None) -> MatchSummary:
    """Compare every new article version with every claim and record developments."""
    claims = load_claims(Path(claims_path))
    engine = _engine()
    with db.session(engine) as s:
        records.sync_claims(s, claims, datetime.now(UTC))
    # The extraction pool again: claims.match runs there, decisions stay in this one thread.
    with _pool(settings.extract_workers()) as pool:
        return match_pending(engine, claims, datetime.now(UTC), alert_config.resolve(alerts_path),
                             pool, ahead)


def deliver_alerts(alerts_path: str | None) -> DeliverySummary | None:
    """Send the alerts that are due (the outbox); secrets are read here, never passed in."""
    config = alert_config.resolve(alerts_path)
    if config is None:
        return None
    return delivery.deliver(_engine(), config)


def _found_by(source: Any, shard: str | None) -> str:
    """A source as the artifact credits it: its name, and its shard when the run had one."""
    parsed = shards.parse(shard)
    if parsed is None:
        return str(source.name)
    return f"{source.name} (shard {shards.of(source.url, parsed.count)}/{parsed.count})"


def _developments_table(engine: Any, ids: list[int], shard: str | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with db.session(engine) as s:
        for development_id in ids:
            dev = s.get(Development, development_id)
            if dev is None:
                continue
            supporting = records.sources_of(s, development_id)
            finders = source_rows.sources_of_articles(s, [a.id for _, _, a in supporting])
            rows.append({"id": dev.id, "claim": dev.claim_id, "relation": dev.relation,
                         "summary": dev.summary,
                         "urls": [without_userinfo(a.url) for _, _, a in supporting],
                         "outlets": [a.outlet for _, _, a in supporting],
                         "found_by": sorted({_found_by(src, shard) for found in finders.values()
                                             for src in found})})
    return rows


def finish(summary: CycleSummary) -> CycleSummary:
    """Record the run's summary and its developments' table; the summary, completed."""
    engine = _engine()
    summary.developments = _developments_table(engine, summary.match.developments, summary.shard)
    with db.session(engine) as s:
        runs.finish_run(s, summary.run_id, datetime.now(UTC),
                        "failed sources" if summary.failed else "ok", summary.as_dict())
    publish.after_cycle(engine)  # the report and its feed, where CLAIMWATCH_REPORT_DIR says
    return summary


@dataclass(frozen=True, slots=True)
class Stages:
    """The stages run() calls in order: the plain functions, or the same ones as Prefect tasks."""

    prepare: Callable[..., tuple[int, PollPlan]]
    poll_feeds: Callable[..., PollSummary]
    read_articles: Callable[..., tuple[ReadSummary, Prematches]]
    match_claims: Callable[..., MatchSummary]
    deliver_alerts: Callable[..., DeliverySummary | None]
    finish: Callable[[CycleSummary], CycleSummary]


PLAIN = Stages(prepare, poll_feeds, read_articles, match_claims, deliver_alerts, finish)


def run(stages: Stages, claims_path: str, sources_path: str, respect_backoff: bool = True,
        alerts_path: str | None = None, shard: str | None = None,
        flow_run_id: str | None = None) -> dict[str, Any]:
    """Poll, read, match and record one cycle; what it did, as a dict (CycleSummary.as_dict).

    alerts_path None: seeds/alerts.toml when it exists; "" turns alerts off.
    shard "2/4": only the second quarter of the sources (flows/shards.py); None: all of them.
    Another cycle running on the same sources: returns {"busy": why} having done nothing.
    """
    load_claims(Path(claims_path))  # bad seeds fail here, before anything is written
    alert_config.resolve(alerts_path)  # and so does a bad alerts.toml
    shards.parse(shard)  # and so does a bad shard
    with leases.hold(_engine(), leases.name_for(shard)) as lease:
        if isinstance(lease, leases.Busy):  # ends cleanly, and says so (deploy/README.md)
            log.warning(lease.message())
            return {"busy": lease.message()}
        run_id, plan = stages.prepare(sources_path, respect_backoff, shard, flow_run_id)
        poll = stages.poll_feeds(plan.feeds, sources_path, alerts_path)
        poll.backing_off, poll.resting = list(plan.backing_off), list(plan.resting)
        read, answers = stages.read_articles(plan, sources_path, alerts_path, claims_path)
        matched = stages.match_claims(claims_path, alerts_path, answers)
        alerts = stages.deliver_alerts(alerts_path)
        summary = CycleSummary(run_id, poll, read, matched, alerts=alerts,
                               due=len(plan.feeds) + len(plan.page_source_ids), shard=shard)
        return stages.finish(summary).as_dict()


class EverySourceFailed(RuntimeError):
    """A cycle in which no due source answered: the message says why, `result` what it did."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a cycle ended, in a line: failed only when no due source answered."""

    failed: bool
    message: str
    partial: bool = False  # some due sources failed, not all


def verdict(result: Mapping[str, Any]) -> Verdict:
    """A cycle's result -> its verdict (the Prefect state and its message show it)."""
    if "busy" in result:
        return Verdict(False, str(result["busy"]))
    failures = {**result["poll"]["failed"], **result["read"]["failed_pages"]}
    due, developments = int(result.get("due", 0)), len(result["match"]["developments"])
    counts = (f"{result['read']['new_articles']} new articles, {result['match']['matches']}"
              f" matches, {developments} developments")
    if not due:
        return Verdict(False, f"no source was due (backing off after errors); {counts}")
    if not failures:
        return Verdict(False, f"{due} sources answered; {counts}")
    reasons = "; ".join(f"{name}: {why}" for name, why in sorted(failures.items())[:5])
    more = f"; and {len(failures) - 5} more" if len(failures) > 5 else ""
    if len(failures) >= due:
        return Verdict(True, f"every source failed ({len(failures)} of {due}): {reasons}{more}")
    return Verdict(False, f"{len(failures)} of {due} sources failed ({reasons}{more}); {counts}",
                   partial=True)
