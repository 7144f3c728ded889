"""Fact extraction: inputs and the facts they must yield."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from claimwatch.flows.engine import facts

# Wednesday 28 January 2026: "next Wednesday" is 4 February, "on Saturday" (past) the 24th.
PUBLISHED = datetime(2026, 1, 28, 9, tzinfo=UTC)


def _values(found: tuple[facts.Fact, ...], slot: str) -> list[str]:
    return [f.value for f in found if f.slot == slot]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The meeting is set for February 4-5.", ["2026-02-04/2026-02-05"]),
        ("Talks on Feb. 4–5 in the Gulf.", ["2026-02-04/2026-02-05"]),
        ("Delegates meet 4-5 February.", ["2026-02-04/2026-02-05"]),
        ("They will meet in Abu Dhabi on February 4 and 5.", ["2026-02-04/2026-02-05"]),
        ("The ruling came on 2026-02-20.", ["2026-02-20"]),
        ("Talks ran from January 30 to February 2, 2026.", ["2026-01-30/2026-02-02"]),
        ("They will meet next Wednesday.", ["2026-02-04"]),
        ("The delegations met on Saturday in Abu Dhabi.", ["2026-01-24"]),
        ("Talks resume tomorrow.", ["2026-01-29"]),
        ("The round on Wednesday and Thursday will be in Abu Dhabi.", ["2026-01-28/2026-01-29"]),
        ("Peskov said on Monday that the talks would go ahead.", []),
        ("Nothing was decided, and nobody may march anywhere.", []),
    ],
)
def test_dates_are_iso_and_resolved_against_publication(sentence: str, expected: list[str]) -> None:
    assert _values(facts.dates(sentence, PUBLISHED), "date") == expected


def test_date_a_change_moved_away_from_is_marked_old() -> None:
    found = facts.dates("The talks, originally set for Feb. 4-5, were postponed to Feb. 10.", PUBLISHED)
    assert [(f.value, f.old) for f in found] == [
        ("2026-02-04/2026-02-05", True),
        ("2026-02-10", False),
    ]


def test_dates_without_a_reference_keep_month_and_day() -> None:
    assert _values(facts.dates("Set for February 4-5."), "date") == ["--02-04/--02-05"]


@pytest.mark.parametrize(
    ("sentence", "slot", "expected"),
    [
        ("Tariffs of up to 500% on Russian imports.", "rate", ["500%"]),
        ("Tariffs of up to 500 percent.", "rate", ["500%"]),
        ("A $12 trillion deal.", "amount", ["$12 trillion"]),
        ("A $12tn package and $1.67 billion more.", "amount", ["$12 trillion", "$1.67 billion"]),
        ("Russia and Ukraine exchanged 157 prisoners each.", "prisoners", ["157 each (314 total)"]),
        ("Witkoff said 314 prisoners would be released in the swap.", "prisoners", ["314"]),
        ("The exchange of 314 prisoners each took place.", "prisoners", ["314 each (628 total)"]),
        ("The Supreme Court ruled 6–3 against the tariffs.", "vote", ["6-3"]),
        ("The talks ran 4-5 February.", "vote", []),
    ],
)
def test_numbers_are_normalized(sentence: str, slot: str, expected: list[str]) -> None:
    assert _values(facts.extract(sentence, PUBLISHED), slot) == expected


@pytest.mark.parametrize(
    ("sentence", "slot", "expected"),
    [
        ("Three-way talks in the Emirati capital.", "location", ["Abu Dhabi"]),
        ("The round was moved to Geneva.", "location", ["Geneva"]),
        ("Moscow said it was ready.", "location", []),
        ("The Kremlin and Kyiv agreed.", "party", ["Russia", "Ukraine"]),
        (
            "US envoys flew to the Gulf, as did the White House team.",
            "party",
            ["United States", "United States"],
        ),
        ("Let us wait.", "party", []),
        (
            "Sen. Blumenthal and Zelenskyy spoke.",
            "person",
            ["Richard Blumenthal", "Volodymyr Zelensky"],
        ),
    ],
)
def test_places_parties_and_people_are_canonical(sentence: str, slot: str, expected: list[str]) -> None:
    assert _values(facts.extract(sentence), slot) == expected


@pytest.mark.parametrize(
    ("sentence", "status", "negated", "tense"),
    [
        ("A follow-up meeting is scheduled for February 4-5.", "scheduled", False, "future"),
        ("The talks will be held in Abu Dhabi.", "scheduled", False, "future"),
        ("The talks were postponed to Feb. 10.", "postponed", False, "past"),
        ("The talks were not postponed.", "postponed", True, "past"),
        ("The meeting has been called off.", "cancelled", False, "past"),
        ("The second round concluded on Thursday.", "held", False, "past"),
        ("The bill was introduced last April.", "proposed", False, "past"),
        ("The measure passed the Senate.", "passed", False, "past"),
        ("The bill stalled in the House.", "stalled", False, "past"),
        ("The court struck down the tariffs.", "struck down", False, "past"),
        ("The court has yet to rule.", "pending", False, "present"),
        ("The Kremlin denied the reports.", "denied", False, "past"),
        ("There is no such meeting.", "denied", False, "past"),
    ],
)
def test_first_status_is_the_decisive_one(sentence: str, status: str, negated: bool, tense: str) -> None:
    first = facts.statuses(sentence)[0]
    assert (first.value, first.negated, first.tense) == (status, negated, tense)


@pytest.mark.parametrize(
    ("word", "canonical"),
    [
        ("set", "scheduled"),
        ("planned", "scheduled"),
        ("Canceled", "cancelled"),
        ("called off", "cancelled"),
        ("took place", "held"),
        ("approved", "passed"),
        ("struck down", "struck down"),
    ],
)
def test_status_words_map_to_the_vocabulary(word: str, canonical: str) -> None:
    assert facts.canonical_status(word) == canonical


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("2026-02-04/2026-02-05", "2026-02-04/2026-02-05", True),
        ("2026-02-05", "2026-02-04/2026-02-05", True),
        ("2026-02-10", "2026-02-04/2026-02-05", False),
        ("--02-04/--02-05", "2026-02-04/2026-02-05", True),
    ],
)
def test_same_date_accepts_days_inside_an_interval(a: str, b: str, same: bool) -> None:
    assert facts.same_date(a, b) is same


def test_sentences_keep_abbreviations_together() -> None:
    text = "Sen. Graham met the U.S. envoy on Feb. 4. They talked.\nNew paragraph"
    assert facts.split_sentences(text) == (
        "Sen. Graham met the U.S. envoy on Feb. 4.",
        "They talked.",
        "New paragraph",
    )


# ---------------------------------------------------------------- rules added for the scoreboard


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The short pause in strikes on the energy grid is over.", "energy-strike pause ended"),
        ("The truce collapsed on Tuesday night.", "truce ended"),
        ("Officers have almost agreed on how a ceasefire would be monitored.",
         "ceasefire monitoring nearly agreed"),
    ],
)
def test_outcomes_of_truces_and_mechanisms(sentence: str, expected: str) -> None:
    assert [f.value for f in facts.outcomes(sentence) if f.slot == "outcome"] == [expected]


def test_a_truce_that_did_not_end_is_no_outcome() -> None:
    assert not facts.outcomes("The truce has not collapsed, officials insisted.")


def test_vote_tally_in_words() -> None:
    found = facts.outcomes("The court struck down the duties by six votes to three.")
    assert [f.value for f in found if f.slot == "vote"] == ["6-3"]


def test_struck_down_with_the_object_in_between() -> None:
    assert facts.statuses("The justices struck the duties down last month.")[0].value == "struck down"


@pytest.mark.parametrize(
    ("sentence", "stance"),
    [
        ("He said he had no illusions about the talks.", "skeptical"),
        ("She called the latest round difficult.", "difficult"),
        ("The team's work would be adjusted, he said.", "hardened"),
        ("He was cautiously optimistic after the meeting.", "optimistic"),
        ("The delegations met on Tuesday.", None),
    ],
)
def test_stances(sentence: str, stance: str | None) -> None:
    assert [f.value for f in facts.stances(sentence)] == ([stance] if stance else [])


def test_a_city_named_as_home_is_not_a_venue() -> None:
    sentence = "Officials in Kyiv said the delegations would meet in Geneva."
    assert [f.value for f in facts.places(sentence)] == ["Geneva"]
    assert not facts.places("The negotiators flew home to Kyiv after the talks.")


def test_possessive_weekday_is_in_the_past() -> None:
    sunday = datetime(2026, 2, 22, 12, tzinfo=UTC)
    assert [f.value for f in facts.dates("Friday's ruling surprised traders.", sunday)] == ["2026-02-20"]


def test_update_lines_date_the_article_not_the_event() -> None:
    assert not facts.dates("Updated February 10 with the latest figures.", datetime(2026, 2, 10, tzinfo=UTC))


def test_regions_hold_their_cities() -> None:
    assert facts.same_place("Gulf", "Abu Dhabi") and facts.same_place("Abu Dhabi", "United Arab Emirates")
    assert not facts.same_place("Geneva", "Abu Dhabi")


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The Senate Banking Committee voted 14-9 to advance the measure.", "advanced"),
        ("The sanctions bill cleared the House Judiciary Committee on Tuesday.", "advanced"),
        ("The committee ordered the bill reported favorably.", "advanced"),
        ("The bill cleared the Senate on a vote of 70-30.", "passed"),  # a chamber, not a committee
        ("The bill is expected to clear the Finance Committee next week.", "proposed"),
    ],
)
def test_committee_action_is_its_own_bill_status(sentence: str, expected: str) -> None:
    assert facts.statuses(sentence)[0].value == expected


def test_an_exchange_from_each_side_counts_both_sides() -> None:
    found = facts.outcomes("They agreed to swap 75 prisoners of war from each side within a month.")
    assert [(f.slot, f.value) for f in found] == [
        ("outcome", "prisoner exchange"),
        ("prisoners", "75 each (150 total)"),
    ]


@pytest.mark.parametrize(
    ("text", "place", "party"),
    [
        ("Russian and Ukrainian delegations met in İstanbul on Friday.", "Istanbul", "Russia"),
        ("Delegations met in Parıs, Ruſsia said.", "Paris", "Russia"),
        ("TALKS IN İSTANBUL: UKRAINE WANTS A CEASEFIRE", "Istanbul", "Ukraine"),
    ],
)
def test_dotted_and_dotless_letters_name_places_and_parties(text: str, place: str, party: str) -> None:
    # "İ" lowercases to two characters and "ı", "ſ" stay as they are: these raised KeyError,
    # and one such article would have stopped every later match stage.
    assert place in facts.place_names(text)
    assert party in {f.value for f in facts.parties(text)}
