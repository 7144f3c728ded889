"""The offline demo end to end: each round of the demo site through flows.monitor.cycle into a
real SQLite file, compared in substance with flows/demo_data/expectations.toml.

"In substance": the claims that should move do move, with the right relation and the key slot
values; the claims that should not move do not; a syndicated copy adds a source, never a
development; and no claim takes facts from another claim's event. Which article of a round is
read first is up to the pipeline (pages are fetched in parallel); decisions follow each page's
own date, so nothing here depends on it. Values are compared plainly (scoreboard/compare.py).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from claimwatch.flows import settings
from claimwatch.flows.app.demo_site import DATA_DIR, DemoSite
from claimwatch.flows.monitor import cycle
from claimwatch.flows.seeds import load_claims
from claimwatch.flows.settings import DEFAULT_CLAIMS
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Article, ArticleVersion, ClaimRecord, Development, Match
from scoreboard import compare

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

EXPECTATIONS: dict[str, Any] = tomllib.loads((DATA_DIR / "expectations.toml").read_text(encoding="utf-8"))
SEED: dict[str, dict[str, str]] = {c.id: dict(c.facts) for c in load_claims(DEFAULT_CLAIMS)}
MOVES = ("updates", "contradicts")


@dataclass(frozen=True, slots=True)
class Stored:
    """A development as the pipeline stored it, with the URL paths of the articles behind it."""

    id: int
    claim: str
    relation: str
    changes: Mapping[str, list[str | None]]
    paths: frozenset[str]


@dataclass(frozen=True, slots=True)
class Seen:
    """One stored match: an article (by URL path) found to be about a claim."""

    claim: str
    relation: str
    path: str
    facts: Mapping[str, str]
    development_id: int | None


@dataclass(frozen=True, slots=True)
class Round:
    developments: tuple[Stored, ...]
    matches: tuple[Seen, ...]
    states: Mapping[str, Mapping[str, str]]  # every claim's state once the round is matched

    def of(self, claim: str) -> list[Stored]:
        return [d for d in self.developments if d.claim == claim]

    def seen(self, claim: str, path: str) -> list[Seen]:
        return [m for m in self.matches if m.claim == claim and m.path == path]


def _snapshot(db_url: str, earlier: Mapping[int, Round]) -> Round:
    old_devs = {d.id for r in earlier.values() for d in r.developments}
    with session(engine_for(db_url)) as s:
        rows = s.exec(
            select(Match, Article).join(ArticleVersion, ArticleVersion.id == Match.article_version_id)  # type: ignore[arg-type]
            .join(Article, Article.id == ArticleVersion.article_id)  # type: ignore[arg-type]
            .order_by(Match.id)  # type: ignore[arg-type]
        ).all()
        every = [
            Seen(m.claim_id, m.relation, urlsplit(a.url).path, dict(m.facts), m.development_id)
            for m, a in rows
        ]
        devs = tuple(
            Stored(d.id, d.claim_id, d.relation, dict(d.changes),  # type: ignore[arg-type]
                   frozenset(m.path for m in every if m.development_id == d.id))
            for d in s.exec(select(Development)).all()
            if d.id not in old_devs
        )
        states = {r.id: dict(r.state) for r in s.exec(select(ClaimRecord)).all()}
    seen_before = sum(len(r.matches) for r in earlier.values())
    return Round(devs, tuple(every[seen_before:]), states)


@pytest.fixture(scope="module")
def rounds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Round]]:
    """Poll every round of the demo site once, in order, into one database (as `claimwatch demo`)."""
    tmp: Path = tmp_path_factory.mktemp("demo")
    db_url = f"sqlite:///{tmp / 'demo.db'}"
    out: dict[int, Round] = {}
    with DemoSite() as site:
        sources = tmp / "sources.toml"
        site.write_sources(sources)
        for n in range(1, site.rounds + 1):
            site.set_round(n)
            with settings.database(db_url):
                result = cycle(claims_path=str(DEFAULT_CLAIMS), sources_path=str(sources),
                               alerts_path="")
            assert result["poll"]["failed"] == {} and result["read"]["failed_pages"] == {}, result
            out[n] = _snapshot(db_url, out)
    yield out


def _rows(kind: str, n: int | None = None) -> list[dict[str, Any]]:
    return [r for r in EXPECTATIONS.get(kind, []) if n is None or r["round"] == n]


def _agrees(slot: str, got: Mapping[str, str], want: str) -> bool:
    """A stored state holds an expected value, compared plainly (never with the engine's own
    comparison: the test must not share the engine's mistakes)."""
    return slot in got and compare.same(want.replace("–", "-"), got[slot])


def _allowed_slots(claim: str) -> set[str]:
    """Slots a claim's developments may change: those its expectations name, and for a claim
    that is not a meeting the day and vote of its own decision."""
    slots: set[str] = set()
    for row in _rows("expect"):
        if row["claim"] == claim:
            slots |= set(row.get("changes", {})) | set(row.get("facts", {}))
    if "location" not in SEED[claim]:
        slots |= {"date", "vote"}  # a committee vote's or a ruling's day, not a meeting's
    return slots


# ---------------------------------------------------------------- round 1


def test_round_one_only_confirms_the_brief(rounds: dict[int, Round]) -> None:
    assert rounds[1].developments == (), rounds[1].developments
    for row in _rows("expect", 1):
        seen = [m for path in row["articles"] for m in rounds[1].seen(row["claim"], path)]
        assert any(m.relation == "confirms" for m in seen), (row, seen)
        assert not any(m.relation in MOVES for m in seen), (row, seen)


def test_distractors_are_at_most_mentions(rounds: dict[int, Round]) -> None:
    for row in _rows("distractor"):
        seen = [m for m in rounds[row["round"]].matches if m.path == row["article"]]
        assert all(m.relation == "mentions" and m.development_id is None for m in seen), seen


# ---------------------------------------------------------------- every round


@pytest.mark.parametrize("n", [1, 2, 3])
def test_only_the_expected_claims_move(rounds: dict[int, Round], n: int) -> None:
    movable = {r["claim"] for r in _rows("expect", n) if r["relation"] in MOVES or r.get("facts")}
    moved = {d.claim for d in rounds[n].developments}
    assert moved <= movable, rounds[n].developments


@pytest.mark.parametrize("row", _rows("expect"), ids=lambda r: f"r{r['round']}-{r['claim']}")
def test_expected_moves_happen_with_their_values(rounds: dict[int, Round], row: dict[str, Any]) -> None:
    r, claim = rounds[row["round"]], row["claim"]
    mine = r.of(claim)
    if row["relation"] in MOVES:
        assert [d for d in mine if d.relation == row["relation"]], (row, r.developments)
        ids = {d.id for d in mine}
        for path in row["articles"]:  # every article the move is written into is a source of it
            assert any(m.development_id in ids for m in r.seen(claim, path)), (path, r.seen(claim, path))
    else:  # a confirmation may add a detail (a ruling's vote), never change what the state held
        assert all(old is None for d in mine for old, _ in d.changes.values()), mine
        assert not any(d.relation == "contradicts" for d in mine), mine
    state = r.states[claim]
    for slot, (_, new) in row.get("changes", {}).items():
        if row["relation"] == "contradicts":  # a denial is recorded, the facts stay as they were
            recorded = [{slot: str(d.changes.get(slot, [None, ""])[1])} for d in mine]
            assert any(_agrees(slot, rec, new) for rec in recorded), mine
        else:
            assert _agrees(slot, state, new), (slot, new, state)
    for slot, want in row.get("facts", {}).items():  # in what the articles were found to say
        said = [m.facts for path in row["articles"] for m in r.seen(claim, path)]
        assert any(_agrees(slot, facts, want) for facts in said), (slot, want, said)


def test_a_syndicated_copy_supports_the_development_it_copies(rounds: dict[int, Round]) -> None:
    for row in _rows("expect"):
        for copy in row.get("near_duplicates", []):
            r = rounds[row["round"]]
            mine = r.of(row["claim"])
            assert len(mine) == 1, mine  # the original and its copy make one development
            paths = (*row["articles"], copy)
            linked = {m.development_id for path in paths for m in r.seen(row["claim"], path)}
            assert linked == {mine[0].id}, (linked, mine)


def test_no_claim_takes_facts_from_another_claims_event(rounds: dict[int, Round]) -> None:
    for n, r in rounds.items():
        for d in r.developments:
            assert set(d.changes) <= _allowed_slots(d.claim), (n, d)
    final = rounds[max(rounds)].states
    # The first meeting (Geneva, a Saturday in January) is not the follow-up meeting's.
    assert final["abu-dhabi-talks"]["location"] == "Abu Dhabi"
    assert compare.same("2026-02-07/2026-02-08", final["abu-dhabi-talks"]["date"])


def test_the_abu_dhabi_meeting_ends_held_in_one_development(rounds: dict[int, Round]) -> None:
    """One article's facts are one development, never one per fact."""
    mine = rounds[3].of("abu-dhabi-talks")
    assert [d.relation for d in mine] == ["updates"], mine
    assert rounds[3].states["abu-dhabi-talks"]["status"] == "held"
