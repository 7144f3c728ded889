"""The cycle as Prefect flows: thin tasks around the stages of flows/cycle.py, run in the same order
by the same function. One of the few modules that import prefect (1.4 s): `serve`, deployments,
and `claimwatch run` when a Prefect server is configured or asked for come through here.

What Prefect shows of a run says what happened: the run is named for what it covers, its state
is Failed when no due source answered and Completed otherwise, with the counts (or the
failures) as the state's message; claimwatch's own log records join the run's logs; the artifact
credits each development to the sources (and shards) that found it; the Run row keeps the
flow run's id. Nothing secret is ever a parameter: the database URL is read from settings.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, runtime, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.logging.handlers import APILogHandler
from prefect.states import Completed, Failed, State

from claimwatch.flows import cycle as stages
from claimwatch.flows import settings
from claimwatch.flows.alerts import config as alert_config
from claimwatch.flows.cycle import CycleSummary, EverySourceFailed, verdict
from claimwatch.flows.report import markdown
from claimwatch.flows.seeds import load_claims, load_sources

# Tasks pass ids, paths and small frozen values; never clients, sessions or HTML
# (Prefect hashes task inputs, PrefectHQ/prefect#16557). Results are not persisted: the
# database is the record, and nothing secret can leak into a result store.
TASK_OPTIONS: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}

prepare = task(name="prepare", **TASK_OPTIONS)(stages.prepare)
poll_feeds = task(name="poll feeds", **TASK_OPTIONS)(stages.poll_feeds)
read_articles = task(name="read articles", **TASK_OPTIONS)(stages.read_articles)
match_claims = task(name="match claims", **TASK_OPTIONS)(stages.match_claims)
deliver_alerts = task(name="deliver alerts", **TASK_OPTIONS)(stages.deliver_alerts)


@task(name="finish", **TASK_OPTIONS)
def finish(summary: CycleSummary) -> CycleSummary:
    """Record the run's summary and publish it as an artifact for the Prefect UI."""
    done = stages.finish(summary)
    create_markdown_artifact(markdown.cycle(done), key="claimwatch-cycle",
                             description="What this claimwatch cycle found")
    return done


TASKS = stages.Stages(prepare, poll_feeds, read_articles, match_claims, deliver_alerts, finish)


class _StampRun(logging.Filter):
    """Tags a record with the flow run it belongs to, whichever thread logged it (Prefect's own
    context does not reach the fetch threads, so its handler would drop their records)."""

    def __init__(self, flow_run_id: str) -> None:
        super().__init__()
        self.flow_run_id = flow_run_id

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "flow_run_id", None):
            record.flow_run_id = self.flow_run_id
        return True


@contextmanager
def logs_to_ui(flow_run_id: str) -> Iterator[None]:
    """claimwatch.* log records -> this flow run's logs, for as long as the run lasts."""
    handler = APILogHandler()
    handler.addFilter(_StampRun(flow_run_id))
    logger = logging.getLogger("claimwatch")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def run_name() -> str:
    """The flow run's name: what it covers and when ("cycle shard 2/4, 2026-02-04 07:15 UTC")."""
    parameters = runtime.flow_run.parameters
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if parameters.get("shard"):
        return f"cycle shard {str(parameters['shard']).strip()}, {when}"
    if parameters.get("shards"):
        return f"cycle in {parameters['shards']} shards, {when}"
    return f"cycle, {when}"


def _state(result: dict[str, Any]) -> State[Any]:
    """Failed when no due source answered, Completed otherwise; the message says why."""
    found = verdict(result)
    logger = get_run_logger()
    if found.failed:
        logger.error(found.message)
        return Failed(message=found.message, data=EverySourceFailed(found.message, result))
    (logger.warning if found.partial else logger.info)(found.message)
    return Completed(message=found.message, data=result)


def outcome(state: State[Any]) -> dict[str, Any]:
    """A finished cycle's result from its state, a failed cycle's too; other failures raise."""
    found = state.result(raise_on_failure=False)
    if isinstance(found, EverySourceFailed):
        return found.result
    if isinstance(found, BaseException):
        raise found
    return dict(found)


def _fan_out(count: int, parameters: dict[str, Any]) -> State[Any]:
    """One flow run per shard. Under a deployment each is a run of that deployment, taken by
    whichever worker is free; called in-process, the shards run here one after another."""
    logger, deployment_id, me = get_run_logger(), runtime.deployment.id, runtime.flow_run.id
    started, failed = [], []
    for k in range(1, count + 1):
        shard = {**parameters, "shard": f"{k}/{count}", "shards": None}
        if deployment_id is None:
            # Every shard runs, whatever became of the one before; the parent fails if any did.
            state = cycle(**shard, return_state=True)
            started.append(f"{k}/{count}")
            if not state.is_completed():
                failed.append(f"{k}/{count}: {state.message or state.type.value.lower()}")
            continue
        # Not waited for: a parent holding a worker slot while its shards queue for one can
        # starve a pool whose workers take one run each. The key makes a retry start none twice.
        # A sync flow: run_deployment returns the FlowRun itself, not a coroutine.
        child: FlowRun = run_deployment(  # type: ignore[assignment]
            deployment_id, parameters=shard, timeout=0,
            idempotency_key=f"{me}-shard-{k}-of-{count}")
        logger.info("started shard %s/%s as flow run %r (%s)", k, count, child.name, child.id)
        started.append(f"{k}/{count} ({child.name})")
    if failed:
        return Failed(message=f"{len(failed)} of {count} shards failed: {'; '.join(failed)}",
                      data={"shards": started, "failed": failed})
    return Completed(message=f"{count} shards: {', '.join(started)}",
                     data={"shards": started})


@flow(name="claimwatch-cycle", flow_run_name=run_name, persist_result=False, log_prints=False)
def cycle(
    claims_path: str | None = None,
    sources_path: str | None = None,
    respect_backoff: bool = True,
    alerts_path: str | None = None,
    shard: str | None = None,
    shards: int | None = None,
) -> State[Any]:
    """Poll, read, match and record one cycle (flows/cycle.py:run, as Prefect tasks).

    claims_path / sources_path None: the seeds shipped with claimwatch; a relative path is
    relative to the working directory (a deployment's: see `enter_workdir`).
    alerts_path None: seeds/alerts.toml when it exists; "" turns alerts off.
    shard "2/4": only the second quarter of the sources (flows/shards.py).
    shards 4 (and no shard): every shard, each as a flow run of its own (`_fan_out`).
    The database is $CLAIMWATCH_DATABASE_URL, else SQLite in $CLAIMWATCH_HOME: never a parameter.
    """
    claims = claims_path or str(settings.DEFAULT_CLAIMS)
    sources = sources_path or str(settings.DEFAULT_SOURCES)
    if shards is not None and not shard:
        if shards < 1:
            raise ValueError(f"shards {shards}: must be 1 or more")
        load_claims(Path(claims))  # bad seeds fail the parent once, not every shard
        load_sources(Path(sources))
        alert_config.resolve(alerts_path)
        return _fan_out(shards, {"claims_path": claims_path, "sources_path": sources_path,
                                 "respect_backoff": respect_backoff, "alerts_path": alerts_path})
    with logs_to_ui(str(runtime.flow_run.id)):
        result = stages.run(TASKS, claims, sources, respect_backoff, alerts_path, shard,
                            flow_run_id=str(runtime.flow_run.id))
    return _state(result)


@flow(name="claimwatch-digest", persist_result=False, log_prints=False)
def digest(alerts_path: str | None = None) -> dict[str, Any]:
    """Send what the outbox owes now, without polling: digests whose hour has come, retries due.

    Deployed daily (deploy/prefect.yaml, `claimwatch serve --digest-cron`), so a daily digest
    goes out at its hour even when no cycle happens to run then.
    """
    with logs_to_ui(str(runtime.flow_run.id)):
        alerts = deliver_alerts(alerts_path)
    return {"alerts": asdict(alerts) if alerts is not None else None}


def enter_workdir() -> dict[str, str]:
    """A deployment's pull step (deploy/prefect.yaml): work in this worker's claimwatch folder.

    $CLAIMWATCH_WORKDIR when set, else the installed claimwatch (which ships seeds/), so
    relative seed paths resolve on the worker, wherever `prefect deploy` was run from.
    """
    directory = settings.worker_directory()
    os.chdir(directory)
    return {"directory": str(directory)}


def start_local_server() -> str | None:
    """Start Prefect's temporary server now, before a cycle needs it; None when it would not
    start in time (PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS), with it stopped again."""
    from prefect.server.api.server import SubprocessASGIServer  # only when no server is configured

    server = SubprocessASGIServer()
    try:
        server.start()
    except RuntimeError:
        server.stop()
        return None
    return str(server.api_url)
