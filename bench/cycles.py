"""Run claimwatch cycles against the bench site and time them: directly, or through Prefect.

"Direct" runs flows/cycle.py's plain sequence, as a one-off `claimwatch run` does; "prefect" runs
the same stages as the Prefect flow of flows/monitor.py. The difference is the orchestration
overhead. The database URL goes through the environment, as it does for the real commands.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.tree import TreeSampler
from claimwatch.flows import cycle, monitor, settings
from claimwatch.flows.fetch import reading

MB = 1024 * 1024


@dataclass(slots=True)
class Probes:
    """Time spent in the stages' parts, accumulated while a cycle runs."""

    stage_s: dict[str, float] = field(default_factory=dict)  # wall time of each task body
    store_s: dict[str, float] = field(default_factory=dict)  # ingest writes, serial, by function
    fetch_cpu_s: float = 0.0  # page fetches (HTTP, guards, decoding), CPU of the fetch threads


@dataclass(slots=True)
class CycleRun:
    """What one cycle did and cost."""

    mode: str  # "direct" | "prefect"
    wall_s: float
    summary: dict[str, Any]
    probes: Probes
    main_cpu_s: float
    children_cpu_s: float  # extraction workers (and Prefect's server in prefect mode)
    peak_rss_mb: float

    def figures(self) -> dict[str, Any]:
        read, poll = self.summary.get("read", {}), self.summary.get("poll", {})
        return {
            "mode": self.mode, "wall_s": round(self.wall_s, 3),
            "stages_s": {k: round(v, 3) for k, v in self.probes.stage_s.items()},
            "store_s": {k: round(v, 3) for k, v in self.probes.store_s.items()},
            "page_fetch_cpu_s": round(self.probes.fetch_cpu_s, 3),
            "main_process_cpu_s": round(self.main_cpu_s, 3),
            "child_processes_cpu_s": round(self.children_cpu_s, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "polled": poll.get("polled"), "not_modified": poll.get("not_modified"),
            "new_items": poll.get("new_items"), "failed_feeds": len(poll.get("failed", {})),
            "read": read.get("read"), "new_articles": read.get("new_articles"),
            "failed_pages": len(read.get("failed", {})),
            "matches": self.summary.get("match", {}).get("matches"),
        }


def _timed(fn: Callable[..., Any], seconds: dict[str, float], name: str) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start
    return run


def _cpu_timed(fn: Callable[..., Any], probes: Probes, attr: str) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            setattr(probes, attr, getattr(probes, attr) + time.thread_time() - start)
    return run


@contextmanager
def _patched(targets: list[tuple[Any, str, Any]]) -> Iterator[None]:
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in targets]
    for obj, name, value in targets:
        setattr(obj, name, value)
    try:
        yield
    finally:
        for obj, name, value in saved:
            setattr(obj, name, value)


def _probe_targets(probes: Probes, direct: bool) -> list[tuple[Any, str, Any]]:
    # Feeds are parsed in the extraction pool (flows/fetch/polling.parse_in): their CPU is the
    # children's. Only the inline parser (one worker) runs here, in the polling threads.
    targets: list[tuple[Any, str, Any]] = [
        (reading.pages, "get", _cpu_timed(reading.pages.get, probes, "fetch_cpu_s")),
    ]
    for name in ("store_poll", "store_read", "store_reads"):
        if hasattr(cycle, name):
            targets.append((cycle, name, _timed(getattr(cycle, name), probes.store_s, name)))
    return targets


def _timed_stages(probes: Probes) -> cycle.Stages:
    """The plain stages, each timed under the name its Prefect task carries."""
    names = {"prepare": "prepare", "poll_feeds": "poll feeds", "read_articles": "read articles",
             "match_claims": "match claims", "deliver_alerts": "deliver alerts",
             "finish": "finish"}
    return cycle.Stages(**{field: _timed(getattr(cycle.PLAIN, field), probes.stage_s, shown)
                           for field, shown in names.items()})


def run_cycle(mode: str, sources: Path, db_url: str, exclude_pids: tuple[int, ...],
              claims: Path = settings.DEFAULT_CLAIMS) -> CycleRun:
    """One cycle over `sources` into `db_url`, sampled for CPU and memory."""
    probes = Probes()
    targets = _probe_targets(probes, direct=mode == "direct")
    with settings.database(db_url), _patched(targets), TreeSampler(exclude=exclude_pids) as tree:
        start = time.perf_counter()
        if mode == "direct":
            summary = cycle.run(_timed_stages(probes), str(claims), str(sources), alerts_path="")
        else:
            summary = monitor.cycle(claims_path=str(claims), sources_path=str(sources),
                                    alerts_path="")
        wall = time.perf_counter() - start
    return CycleRun(mode, wall, summary, probes, tree.main_cpu_s, tree.children_cpu_s,
                    tree.peak_rss_bytes / MB)


def run_polls(sources: Path, db_url: str, exclude_pids: tuple[int, ...]) -> CycleRun:
    """Only the polling half of a cycle (prepare + poll feeds + store items), directly."""
    probes = Probes()
    targets = _probe_targets(probes, direct=True)
    with settings.database(db_url), _patched(targets), TreeSampler(exclude=exclude_pids) as tree:
        start = time.perf_counter()
        run_id, plan = cycle.prepare(str(sources), True)
        poll = cycle.poll_feeds(plan.feeds, str(sources))
        wall = time.perf_counter() - start
    summary = {"run_id": run_id, "poll": {"polled": poll.polled, "not_modified": poll.not_modified,
                                          "new_items": poll.new_items, "failed": poll.failed}}
    return CycleRun("direct", wall, summary, probes, tree.main_cpu_s, tree.children_cpu_s,
                    tree.peak_rss_bytes / MB)


def mark_items_read(db_url: str) -> None:
    """Benchmark set-up: every stored item counts as read, so the next cycle has nothing to fetch."""
    from sqlalchemy import text

    from claimwatch.storage import db

    with db.engine_for(db_url).begin() as connection:
        connection.execute(text("UPDATE item SET pending = :no"), {"no": False})
