"""The claim engine's general rules, on claims and sentences written for these tests.

None of these sentences comes from a labelled story (tests/scoreboard): they exercise English,
not a story. The scoreboard (tests/test_scoreboard.py) measures the engine on real coverage.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from claimwatch.flows.engine import claims as engine
from claimwatch.flows.engine import dates, figures, profile
from claimwatch.flows.engine.developments import KnownDevelopment, fold
from claimwatch.flows.engine.model import ArticleText, Claim
from claimwatch.flows.engine.text import digits, split_sentences
from claimwatch.flows.engine.vocabulary import loads

NOW = datetime(2031, 3, 10, 12, tzinfo=UTC)
STRIKE = Claim("ferry-strike", "Crews of the Baltic Ferry Union will strike on March 14 at Tallinn port.",
               ("ferry strike", "crews"), {"status": "scheduled", "date": "2031-03-14",
                                            "location": "Tallinn"})
LEVY = Claim("sugar-levy", "Ruritania's parliament is considering a bill to raise the sugar levy to 12%.",
             ("sugar levy", "bill"), {"status": "proposed", "levy": "12%"})
RATE = Claim("policy-rate", "The Central Bank of Ruritania holds its policy rate at 3.5%.",
             ("policy rate",), {"status": "held", "rate": "3.5%"})
CLAIMS = (STRIKE, LEVY, RATE)
SEEDS = {c.id: dict(c.facts) for c in CLAIMS}


def _one(text: str, claim: Claim, state: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    found = engine.match(ArticleText("https://news.example/a", "", text, NOW), CLAIMS,
                         {**SEEDS, **({claim.id: state} if state else {})})
    match = next((m for m in found if m.claim_id == claim.id), None)
    return (match.relation, dict(match.facts)) if match else ("none", {})


def test_number_words_become_digits() -> None:
    assert digits("The court ruled six to three.") == "The court ruled 6 to 3."
    assert digits("a €4.5bn plan for 45,000 workers") == "a €4500000000 plan for 45000 workers"
    assert digits("the first round") == "the first round"


def test_sentences_keep_abbreviations_together() -> None:
    assert len(split_sentences("Sen. Smith met the U.S. envoy on Feb. 4. Talks ended.")) == 2


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("Inflation rose to 4.25 per cent.", "percent", "4.25%"),
    ("a deal worth €4.5bn", "money", "€4.5 billion"),
    ("a 4.5 billion euro package", "money", "€4.5 billion"),
    ("The committee voted seven votes to two.", "vote", "7-2"),
    ("MPs backed it by 330 votes to 275.", "vote", "330-275"),
    ("roughly half of all imports", "percent", "50%"),
    ("It raised the rate by a quarter of a percentage point to 5.5%.", "percent", "5.5%"),
])
def test_figures_are_typed_and_normalized(text: str, kind: str, value: str) -> None:
    found = [f for f in figures.figures(digits(text).lower()) if f.kind == kind]
    assert [figures.canonical(f) for f in found] == [value]


def test_dates_are_read_against_the_article_date_and_the_report_date_is_left_out() -> None:
    found = dates.dates("The crews will walk out on Friday, the union said on Monday.", NOW)
    assert [d.value for d in found] == ["2031-03-14"]
    moved = dates.dates("The vote, originally set for March 12, is now set for March 20.", NOW)
    assert [(d.value, d.old) for d in moved] == [("2031-03-12", True), ("2031-03-20", False)]


def test_a_claim_knows_its_names_from_general_knowledge() -> None:
    compiled = profile.compile_claim(Claim("x", "Talks between Estonia and Latvia are set for "
                                                 "Riga on Friday.", (), {"location": "Riga"}))
    forms = {f for a in compiled.anchors for f in a.forms}
    assert {"estonian", "latvian capital", "riga"} <= forms


def test_a_name_several_claims_share_weighs_less() -> None:
    a = Claim("a", "The Central Bank of Ruritania cut its rate.", (), {})
    b = Claim("b", "The Central Bank of Ruritania expects growth of 2%.", (), {})
    alone = profile.compile_claim(a).anchors[0].weight
    shared = profile.compile_claims((a, b))[0].anchors[0].weight
    assert shared < alone


@pytest.mark.parametrize(("text", "relation", "facts"), [
    ("The Baltic Ferry Union said its crews will strike at Tallinn port on March 14.",
     "confirms", {"status": "scheduled", "date": "2031-03-14"}),
    ("The Baltic Ferry Union has postponed the ferry strike at Tallinn port to March 21.",
     "updates", {"date": "2031-03-21"}),
    ("The Baltic Ferry Union called off the ferry strike at Tallinn port after a late pay offer.",
     "contradicts", {"status": "cancelled"}),
])
def test_an_event_is_confirmed_moved_or_called_off(text: str, relation: str,
                                                     facts: dict[str, str]) -> None:
    got, found = _one(text, STRIKE)
    assert got == relation and facts.items() <= found.items()


def test_a_hedged_report_only_mentions_the_claim() -> None:
    got, _ = _one("The Baltic Ferry Union could postpone the ferry strike at Tallinn port, "
                  "officials speculated.", STRIKE)
    assert got == "mentions"  # nothing committed: not even the venue it repeats


def test_a_figure_moves_the_claim_when_its_value_changes() -> None:
    assert _one("The Central Bank of Ruritania cut its policy rate to 3.25%.", RATE)[0] == "updates"
    assert _one("The Central Bank of Ruritania left its policy rate at 3.5%.", RATE)[0] == "confirms"


CREWS = Claim("ferry-crews", "The Baltic Ferry Union says 2,400 crew members will join the strike.",
              ("ferry strike",), {"members": "2400"})


def _members(text: str) -> str | None:
    found = engine.match(ArticleText("https://news.example/c", "", text, NOW), (CREWS,),
                         {CREWS.id: dict(CREWS.facts)})
    return next((dict(m.facts).get("members") for m in found), None)


def test_a_count_belongs_to_the_noun_it_counts_and_a_names_number_is_no_count() -> None:
    assert _members("Some 2,600 crew members of the Baltic Ferry Union joined the strike.") == "2600"
    assert _members("The crew members who joined the Baltic Ferry Union strike have sailed "
                    "for 26 years.") is None  # years, not members
    assert _members("Baltic Ferry Union Local 2600 said its crew members will join the "
                    "strike.") is None  # the branch's name, not a count


def test_a_figure_is_tied_to_its_noun_across_a_long_clause() -> None:
    got = _one("The Central Bank of Ruritania cut its policy rate by a quarter of a percentage "
               "point to 3.25% on Thursday.", RATE)
    assert got[0] == "updates" and (got[1]["status"], got[1]["rate"]) == ("cut", "3.25%")


def test_a_tally_reported_is_the_vote_held() -> None:
    vote = Claim("levy-vote", "Ruritania's parliament will hold its vote on the sugar levy bill "
                 "on March 20.", ("sugar levy",), {"status": "scheduled", "date": "2031-03-20"})
    found = engine.match(ArticleText("https://news.example/v", "", "Ruritania's parliament "
                                     "gave the sugar levy bill its vote by 201 votes to 87.", NOW),
                         (vote,), {vote.id: dict(vote.facts)})
    assert [(m.relation, dict(m.facts).get("status")) for m in found] == [("updates", "held")]


def _statement(claim: Claim, text: str) -> str:
    found = engine.match(ArticleText("https://news.example/s", "", text, NOW), (claim,),
                         {claim.id: dict(claim.facts)})
    return found[0].relation if found else "none"


def test_a_statement_restated_under_a_negation_it_lacks_is_contradicted() -> None:
    exports = Claim("ruritania-exports", "Ruritania dominates global exports of refined sugar.",
                    ("refined sugar",), {"status": "stated"})
    assert _statement(exports, "Ruritania dominates global exports of refined sugar, traders "
                               "said.") == "confirms"
    assert _statement(exports, "Ruritania does not dominate global exports of refined sugar, "
                               "traders said.") == "contradicts"
    closures = Claim("no-closures", "Kaleva Foods says no stores will close after the merger.",
                     ("store closures",), {"status": "stated"})
    assert _statement(closures, "Kaleva Foods repeated that no stores will close after the "
                                "merger.") == "confirms"  # the statement's own negation
    assert _statement(closures, "Kaleva Foods admitted that some stores will close after the "
                                "merger.") == "contradicts"


def test_a_denial_contradicts() -> None:
    got, _ = _one("Ruritania's finance ministry denied that any bill to raise the sugar levy to 12% "
                  "exists.", LEVY)
    assert got == "contradicts"


def test_a_brief_vocabulary_names_what_general_knowledge_cannot() -> None:
    words = loads('[aliases]\n"Baltic Ferry Union" = ["the seafarers\' union"]\n')
    claim = Claim(STRIKE.id, STRIKE.statement, STRIKE.keywords, STRIKE.facts, words)
    found = engine.match(ArticleText("u", "", "The seafarers' union said the ferry strike at "
                                               "Tallinn will go ahead on March 14.", NOW),
                         (claim,), {claim.id: dict(claim.facts)})
    assert [m.relation for m in found] == ["confirms"]


def test_state_follows_the_order_things_were_reported_not_found() -> None:
    early = KnownDevelopment(2, "x", "updates", {}, (), datetime(2031, 3, 1, tzinfo=UTC),
                             {"date": ("2031-03-14", "2031-03-21")})
    late = KnownDevelopment(1, "x", "updates", {}, (), datetime(2031, 3, 5, tzinfo=UTC),
                            {"status": ("scheduled", "held")})
    seed = {"status": "scheduled", "date": "2031-03-14"}
    assert fold(seed, [late, early]) == fold(seed, [early, late]) == {"status": "held",
                                                                      "date": "2031-03-21"}
    assert fold(seed, [late, early], datetime(2031, 3, 2, tzinfo=UTC))["status"] == "scheduled"


def test_the_engine_holds_no_story() -> None:
    """Knowledge is data: no name of the seed story (or of any labelled story) is in its code."""
    engine_dir = Path(profile.__file__).parent
    code = " ".join(p.read_text(encoding="utf-8") for p in engine_dir.rglob("*.py"))
    code += " ".join(p.read_text(encoding="utf-8") for p in (engine_dir / "language").iterdir())
    for name in ("Abu Dhabi", "Zelensky", "Blumenthal", "Dmitriev", "trilateral", "IEEPA",
                 "Emirati", "Kyiv", "rare earth", "Kroger", "Leadbeater", "Bank Rate", "ILA"):
        assert not re.search(rf"\b{re.escape(name)}\b", code, re.IGNORECASE), name
