"""Runs: one row per cycle, with what it did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from claimwatch.storage.models import Run


def start_run(s: Session, now: datetime, prefect_flow_run_id: str | None = None) -> Run:
    """A new run; under Prefect, with its flow run's id, so each names the other."""
    run = Run(started_at=now, prefect_flow_run_id=prefect_flow_run_id)
    s.add(run)
    s.flush()
    return run


def finish_run(s: Session, run_id: int, now: datetime, status: str, summary: dict[str, Any]
               ) -> None:
    run = s.get(Run, run_id)
    if run is not None:
        run.finished_at, run.status, run.summary = now, status, summary


def by_flow_run(s: Session, prefect_flow_run_id: str) -> Run | None:
    """The run a Prefect flow run recorded, if any."""
    return s.exec(select(Run).where(Run.prefect_flow_run_id == prefect_flow_run_id)).first()
