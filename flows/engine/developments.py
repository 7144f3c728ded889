"""Decide whether a match is a development of its claim (pure: takes `now`, no I/O).

CONTRACT used by flows/monitor.py -- keep these names and fields stable:
  KnownDevelopment, NewDevelopment, Supports, decide(...)

A development is a change of the claim's state or a contradiction of it. Everything else either
adds a source to the development that established what the article repeats (Supports) or is
nothing new (None). An edited article is just another match: if its facts differ from the state
its first version established, that difference is a development of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from claimwatch.flows.engine.model import ClaimMatch, Relation
from claimwatch.flows.engine.profile import CONTEXT_SLOTS
from claimwatch.flows.engine.relate import same_value
from claimwatch.flows.extract.duplicates import near_duplicate


@dataclass(frozen=True, slots=True)
class KnownDevelopment:
    """A development already stored for a claim, as decide() needs to see it."""

    id: int
    claim_id: str
    relation: Relation
    facts: Mapping[str, str]  # the claim's state right after this development
    fingerprints: tuple[int, ...]  # text fingerprints of the articles supporting it
    reported_at: datetime | None = None  # when its news was reported
    changes: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewDevelopment:
    """A change of the claim's state, or a contradiction: store it and move the state on."""

    relation: Relation  # "updates" or "contradicts"
    summary: str  # one line a person reads, e.g. "status: scheduled -> postponed"
    changes: Mapping[str, tuple[str | None, str | None]]  # slot -> (old, new)
    new_state: Mapping[str, str]  # the claim's facts after this development


@dataclass(frozen=True, slots=True)
class Supports:
    """The match adds a source to an existing development (same change, or a near-duplicate)."""

    development_id: int


Decision = NewDevelopment | Supports | None

_SUMMARY_ORDER = ("status", "date", "location")


def changes(state: Mapping[str, str], found: Mapping[str, str]) -> dict[str, tuple[str | None, str | None]]:
    """Tracked slots whose value in `found` differs from the state: slot -> (old, new)."""
    return {
        slot: (state.get(slot), value)
        for slot, value in found.items()
        if _tracked(slot) and (slot not in state or not same_value(slot, value, state[slot]))
    }


def _tracked(slot: str) -> bool:
    """Slots whose change is news: every fact but the context (who, where it is heard)."""
    return slot not in CONTEXT_SLOTS and slot != "disputed"


def summarize(diff: Mapping[str, tuple[str | None, str | None]]) -> str:
    """One line: "status: scheduled → postponed; date: 2026-02-04/2026-02-05 → 2026-02-10"."""
    ordered = sorted(diff, key=lambda s: (_SUMMARY_ORDER.index(s) if s in _SUMMARY_ORDER else 9, s))
    return "; ".join(f"{slot}: {diff[slot][0] or 'none'} → {diff[slot][1] or 'none'}" for slot in ordered)


def _consistent(found: Mapping[str, str], facts: Mapping[str, str]) -> bool:
    """Every tracked fact of the match agrees with a development's state."""
    return all(
        slot in facts and same_value(slot, value, facts[slot])
        for slot, value in found.items()
        if _tracked(slot)
    )


def _same_state(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    return not changes(a, b) and not changes(b, a)


def _establishing(state: Mapping[str, str], known: Sequence[KnownDevelopment]) -> KnownDevelopment | None:
    """The latest update whose resulting state is the current state (contradictions set none)."""
    updates = [k for k in known if k.relation == "updates"]
    return next((k for k in sorted(updates, key=lambda k: -k.id) if _same_state(k.facts, state)), None)


def _duplicate_of(
    match: ClaimMatch, fingerprint: int, known: Sequence[KnownDevelopment]
) -> KnownDevelopment | None:
    """A development this article is a copy of: near-identical text saying the same thing."""
    for k in sorted(known, key=lambda k: -k.id):
        if not any(near_duplicate(fingerprint, f) for f in k.fingerprints):
            continue
        if k.relation == match.relation == "contradicts" or _consistent(match.facts, k.facts):
            return k
    return None


def decide(
    match: ClaimMatch,
    state: Mapping[str, str],
    known: Sequence[KnownDevelopment],
    fingerprint: int,
    now: datetime,  # part of the contract for time windows; decisions here need no clock yet
) -> Decision:
    """Return what this match means for its claim given the current state and known developments.

    A contradiction is recorded as a development but leaves the tracked facts as they were, only
    marked "disputed": a denial or a rumour disputes the claim, later reports of the same state
    still confirm it, and an update (the claim borne out with new facts) clears the mark.
    """
    mine = [k for k in known if k.claim_id == match.claim_id]
    copy = _duplicate_of(match, fingerprint, mine)
    if copy is not None:
        return Supports(copy.id)  # a syndicated copy, an AMP page or an unchanged re-crawl
    if match.relation == "mentions":
        return None
    diff = changes(state, match.facts)
    if match.relation == "contradicts":
        disputed = {s: d for s, d in diff.items() if s == "status"} or diff
        summary = summarize(disputed) or "disputed"
        if state.get("disputed") == summary:
            # The same denial again (reworded, another outlet): a source for the one on record.
            same = next((k for k in sorted(mine, key=lambda k: -k.id) if k.relation == "contradicts"), None)
            return Supports(same.id) if same is not None else None
        return NewDevelopment("contradicts", summary, disputed, {**state, "disputed": summary})
    if "disputed" in state and match.relation == "updates" and "status" in match.facts:
        # A disputed claim borne out: its status is established again, which is itself a change.
        status = match.facts["status"]
        if same_value("status", status, state.get("status", "")):
            diff = {**diff, "status": (f"{state.get('status')} (disputed)", status)}
    if match.relation == "confirms" or not diff:
        source = _establishing(state, mine)
        return Supports(source.id) if source is not None else None
    new_state = {slot: value for slot, value in state.items() if slot != "disputed"}
    new_state.update({slot: new for slot, (_, new) in diff.items() if new is not None})
    return NewDevelopment(match.relation, summarize(diff), diff, new_state)


# ---------------------------------------------------------------- state in the order of events


def _when(k: KnownDevelopment) -> tuple[datetime, int]:
    return (k.reported_at or datetime.min.replace(tzinfo=UTC), k.id)


def fold(seed: Mapping[str, str], known: Sequence[KnownDevelopment], until: datetime | None = None
         ) -> dict[str, str]:
    """The claim's state: its seed facts moved on by its developments in the order they were
    reported (up to `until`), whatever order they were found in. A contradiction marks the
    state disputed; a later update clears the mark."""
    state = dict(seed)
    for k in sorted(known, key=_when):
        if until is not None and k.reported_at is not None and k.reported_at > until:
            break
        if k.relation == "contradicts":
            state["disputed"] = k.facts.get("disputed", "disputed")
            continue
        state.pop("disputed", None)
        for slot, (_, new) in k.changes.items():
            if new is not None:
                state[slot] = new
    return state


def recent(known: Sequence[KnownDevelopment], at: datetime, window: timedelta) -> list[KnownDevelopment]:
    """Developments reported in the `window` before `at`: news an article at `at` may repeat."""
    return [k for k in known if k.reported_at is not None and at - window <= k.reported_at <= at]
