"""Decisions follow the order things happened, never the order pages were fetched (issue 13).

The demo site's three rounds, read over three cycles or all at once in one (what a first poll of
a feed's history does), give the same final claim states and the same developments.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from claimwatch.flows.app.demo_site import DATA_DIR, load_round_times
from claimwatch.flows.extract.articles import extract
from claimwatch.flows.fetch.reading import ReadRequest, ReadResult
from claimwatch.flows.seeds import load_claims
from claimwatch.flows.settings import DEFAULT_CLAIMS
from claimwatch.flows.stages.matching import match_pending
from claimwatch.flows.stages.reads import ReadSummary, store_reads
from claimwatch.storage import claims as records
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Development

ROUNDS = 3


def _site(round_: int) -> dict[str, Path]:
    """The demo site as served in a round: each path from the latest round that has it."""
    pages: dict[str, Path] = {}
    for n in range(1, round_ + 1):
        for page in sorted((DATA_DIR / f"round{n}").glob("**/*.html")):
            pages[page.relative_to(DATA_DIR / f"round{n}").as_posix()] = page
    return pages


def _read(pages: dict[str, Path]) -> list[ReadResult]:
    results = []
    for path, page in sorted(pages.items()):
        url = f"http://127.0.0.1:9/{path}"
        article = extract(page.read_text(encoding="utf-8"), url)
        if article is not None:
            results.append(ReadResult(ReadRequest(url, ()), url, article))
    return results


def _cycles(db_url: str, snapshots: list[int]) -> tuple[dict[str, Any], set[tuple[Any, ...]]]:
    engine, claims = engine_for(db_url), load_claims(DEFAULT_CLAIMS)
    times = load_round_times()
    for n in snapshots:
        now = times[n - 1] + timedelta(hours=1) if times else datetime.now(UTC)
        with session(engine) as s:
            records.sync_claims(s, claims, now)
        store_reads(engine, _read(_site(n)), now, ReadSummary())
        match_pending(engine, claims, now)
    with session(engine) as s:
        states = {c.id: dict(c.state) for c in records.claim_records(s)}
        developments = {(d.claim_id, d.relation, tuple(sorted((k, tuple(v)) for k, v in d.changes.items())))
                        for d in s.exec(select(Development)).all()}
    return states, developments


@pytest.mark.slow
def test_three_rounds_in_one_cycle_end_as_three_cycles_do(tmp_path: Path) -> None:
    three = _cycles(f"sqlite:///{tmp_path / 'three.db'}", [1, 2, 3])
    one = _cycles(f"sqlite:///{tmp_path / 'one.db'}", [ROUNDS])
    assert one[0] == three[0]
    assert one[1] == three[1]
    assert three[1], "the demo's rounds move some claims"
