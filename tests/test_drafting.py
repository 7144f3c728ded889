"""Drafting claims from a brief: check-worthy sentences become parseable claims with facts."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from claimwatch.flows.engine.drafting import draft, vocabulary
from claimwatch.flows.seeds import parse_claims

BRIEF = (Path(__file__).resolve().parent.parent / "seeds" / "brief.txt").read_text(encoding="utf-8")


def _claims(text: str, as_of: date | None = date(2026, 1, 26)) -> list[dict]:
    return tomllib.loads(draft(text, as_of))["claims"]


def test_draft_of_the_seed_brief_parses_and_loads_as_claims() -> None:
    out = draft(BRIEF, date(2026, 1, 26))
    assert parse_claims(out)  # the claims loader reads it
    ids = [c["id"] for c in tomllib.loads(out)["claims"]]
    assert len(ids) == len(set(ids)) > 3


@pytest.mark.parametrize(
    ("sentence", "facts"),
    [
        (
            "A follow-up trilateral meeting is scheduled for February 4-5 in Abu Dhabi.",
            {"date": "2026-02-04/2026-02-05", "location": "Abu Dhabi", "status": "scheduled"},
        ),
        (
            "Senator Richard Blumenthal champions a bill for tariffs of up to 500% on Russian imports.",
            {"tariff": "500%"},
        ),
        (
            "Russia is tempting the U.S. with a $12 trillion deal.",
            {"amount": "$12 trillion"},
        ),
        (
            "Some 45,000 dockworkers walked out at 36 ports on Tuesday.",
            {"date": "2026-01-27", "dockworkers": "45000", "ports": "36", "status": "held"},
        ),
    ],
)
def test_check_worthy_sentence_becomes_a_claim_with_facts(sentence: str, facts: dict[str, str]) -> None:
    (claim,) = _claims(sentence)
    assert claim["statement"] == sentence
    assert claim["facts"] == facts


@pytest.mark.parametrize(
    "sentence",
    ["The world watches with cautious optimism.", "What happens next?", "Ukraine Talks Update"],
)
def test_sentences_without_checkable_facts_are_left_out(sentence: str) -> None:
    assert tomllib.loads(draft(sentence)).get("claims", []) == []


def test_a_vocabulary_is_proposed_from_the_names_the_brief_writes_two_ways() -> None:
    brief = ("The World Health Organization (WHO) met on Monday. Estonian President Maria Lopez "
             "said the talks would resume. Lopez added nothing.")
    proposed = tomllib.loads(vocabulary(brief))
    assert proposed["aliases"]["World Health Organization"] == ["WHO"]
    assert proposed["aliases"]["Maria Lopez"] == ["Lopez"]
    assert proposed["people"] == {"Maria Lopez": "Estonia"}


def test_quotes_and_unicode_survive_toml() -> None:
    (claim,) = _claims('Zelensky said the talks, set for Feb. 4–5 in Abu Dhabi, are "a step forward".')
    assert claim["statement"].endswith('"a step forward".')
