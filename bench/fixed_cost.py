"""The fixed cost of a cycle with nothing to do, as a user pays it: `claimwatch run` started as a
new process (interpreter, imports, database, one feed answering 304), beside a bare Prefect
flow with one task on Prefect's temporary server, measured in the same run on the same machine.

Each figure is the median of a few runs, wall time and CPU (the process and everything it
waited for: Prefect's server included). The bare flow's first start is given apart: it builds
Prefect's database, as a fresh HOME's first `claimwatch run` used to.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BARE_FLOW = """
from prefect import flow, task

@task
def one() -> int:
    return 1

@flow
def bare() -> int:
    return one()

bare()
"""


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its waited-for children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # 1: some source failed, still a finished cycle
        raise RuntimeError(f"{' '.join(command[:6])} ...: exit {done.returncode}\n"
                           f"{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _median(runs: list[tuple[float, float]]) -> dict[str, float]:
    return {"wall_s": round(statistics.median(w for w, _ in runs), 3),
            "cpu_s": round(statistics.median(c for _, c in runs), 3), "runs": len(runs)}


def measure(sources: Path, folder: Path, repeats: int = 3, prefect: bool = True
            ) -> dict[str, Any]:
    """`claimwatch run` with nothing due (after a first run did the work), and, with
    `prefect`, a bare one-task Prefect flow and the same run through Prefect."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(CLAIMWATCH_HOME=str(folder / "fixed-home"), PREFECT_HOME=str(folder / "fixed-prefect"))
    run = [sys.executable, "-m", "claimwatch.flows.app.cli", "run", "--sources", str(sources),
           "--db", f"sqlite:///{folder / 'fixed.db'}", "--alerts", ""]
    _timed(run, env)  # the first run creates the database and reads what there is
    out: dict[str, Any] = {"claimwatch_run": _median([_timed(run, env) for _ in range(repeats)])}
    if prefect:
        bare = [sys.executable, "-c", BARE_FLOW]
        first = _timed(bare, env)  # builds Prefect's database
        out["bare_prefect_first"] = {"wall_s": round(first[0], 3), "cpu_s": round(first[1], 3)}
        out["bare_prefect"] = _median([_timed(bare, env) for _ in range(repeats)])
        out["claimwatch_run_prefect"] = _median(
            [_timed([*run, "--prefect"], env) for _ in range(repeats)])
    return out
