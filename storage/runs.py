"""Runs: one row per cycle, with what it did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from claimwatch.storage.models import Run


def start_run(s: Session, now: datetime) -> Run:
    run = Run(started_at=now)
    s.add(run)
    s.flush()
    return run


def finish_run(s: Session, run_id: int, now: datetime, status: str, summary: dict[str, Any]
               ) -> None:
    run = s.get(Run, run_id)
    if run is not None:
        run.finished_at, run.status, run.summary = now, status, summary
