"""decide(): which matches are developments, which add a source, which are nothing new."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from claimwatch.flows.engine.claims import ClaimMatch, Relation
from claimwatch.flows.engine.developments import KnownDevelopment, NewDevelopment, Supports, decide, summarize

NOW = datetime(2026, 2, 3, tzinfo=UTC)
SEED = {"status": "scheduled", "date": "2026-02-04/2026-02-05", "location": "Abu Dhabi"}
POSTPONED = {"status": "postponed", "date": "2026-02-10", "location": "Abu Dhabi"}
DEV_POSTPONED = KnownDevelopment(7, "talks", "updates", POSTPONED, (0x0F0F_0F0F,))
DEV_DENIED = KnownDevelopment(8, "talks", "contradicts", SEED, (0x7777_0000_1111,))
FAR = 0x5A5A_5A5A_5A5A_5A5A  # far from every fingerprint above


def _match(relation: Relation, facts: dict[str, str]) -> ClaimMatch:
    return ClaimMatch("talks", relation, "evidence", facts, 0.8)


@pytest.mark.parametrize(
    ("relation", "facts", "state", "known", "fingerprint", "expected"),
    [
        # confirms of the seed state and mentions are nothing new
        ("confirms", SEED, SEED, [], FAR, None),
        ("mentions", {}, SEED, [DEV_POSTPONED], FAR, None),
        # a later article repeating the new state supports the development that set it
        (
            "confirms",
            {"status": "postponed", "date": "2026-02-10"},
            POSTPONED,
            [DEV_POSTPONED],
            FAR,
            Supports(7),
        ),
        # a near-duplicate of a development's article supports it, even if matched as an update
        (
            "updates",
            {"status": "postponed", "date": "2026-02-10"},
            POSTPONED,
            [DEV_POSTPONED],
            0x0F0F_0F0F ^ 0b101,
            Supports(7),
        ),
        # a copy of a contradiction supports the contradiction
        ("contradicts", {"status": "denied"}, SEED, [DEV_DENIED], 0x7777_0000_1111, Supports(8)),
        # an update that the state already holds adds a source, not a development
        (
            "updates",
            {"status": "postponed", "date": "2026-02-10"},
            POSTPONED,
            [DEV_POSTPONED],
            FAR,
            Supports(7),
        ),
    ],
)
def test_decisions(
    relation: Relation,
    facts: dict[str, str],
    state: dict[str, str],
    known: list[KnownDevelopment],
    fingerprint: int,
    expected: object,
) -> None:
    assert decide(_match(relation, facts), state, known, fingerprint, NOW) == expected


def test_postponement_is_a_development_with_a_readable_summary() -> None:
    decision = decide(_match("updates", {"status": "postponed", "date": "2026-02-10"}), SEED, [], FAR, NOW)
    assert isinstance(decision, NewDevelopment)
    assert decision.summary == "status: scheduled → postponed; date: 2026-02-04/2026-02-05 → 2026-02-10"
    assert decision.new_state == {**SEED, "status": "postponed", "date": "2026-02-10"}


def test_contradiction_is_a_development_that_keeps_the_facts() -> None:
    decision = decide(_match("contradicts", {"status": "cancelled"}), SEED, [], FAR, NOW)
    assert isinstance(decision, NewDevelopment)
    summary = "status: scheduled → cancelled"
    assert (decision.relation, decision.summary) == ("contradicts", summary)
    assert decision.new_state == {**SEED, "disputed": summary}  # tracked facts unchanged, marked


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        (
            {"status": "scheduled", "date": "2026-02-01"},
            {"status": "postponed", "date": "2026-02-04/2026-02-05"},
            {"status", "date"},
        ),
        (
            {"status": "held", "prisoners": "314 each (628 total)"},
            {"status": "held", "prisoners": "157 each (314 total)"},
            {"prisoners"},
        ),
        ({"status": "pending"}, {"status": "struck down", "vote": "6-3"}, {"status", "vote"}),
    ],
)
def test_edited_article_with_new_facts_is_a_new_development(
    before: dict[str, str], after: dict[str, str], changed: set[str]
) -> None:
    """The edit is a near-duplicate of the first version, yet what changed is news."""
    first = KnownDevelopment(3, "talks", "updates", before, (FAR,))
    decision = decide(_match("updates", after), before, [first], FAR ^ 0b11, NOW)
    assert isinstance(decision, NewDevelopment)
    assert set(decision.changes) == changed


def test_summary_names_missing_values() -> None:
    assert summarize({"outcome": (None, "prisoner exchange")}) == "outcome: none → prisoner exchange"


def test_the_same_denial_again_supports_the_one_on_record() -> None:
    """A reworded copy of a denial (too different for the fingerprint) is not a second contradiction."""
    seed = {"status": "proposed", "amount": "$12 trillion"}
    first = decide(_match("contradicts", {"status": "denied"}), seed, [], FAR, NOW)
    assert isinstance(first, NewDevelopment)
    known = KnownDevelopment(1, "talks", "contradicts", first.new_state, (FAR,))
    again = decide(_match("contradicts", {"status": "denied"}), first.new_state, [known], ~FAR, NOW)
    assert again == Supports(1)


def test_a_disputed_claim_borne_out_records_its_status() -> None:
    """After "no ruling yet" disputed "struck down", the ruling re-establishes the status."""
    state = {"status": "struck down", "disputed": "status: struck down → pending"}
    found = {"status": "struck down", "vote": "6-3"}
    decision = decide(_match("updates", found), state, [], FAR, NOW)
    assert isinstance(decision, NewDevelopment)
    assert decision.changes["status"] == ("struck down (disputed)", "struck down")
    assert "disputed" not in decision.new_state
