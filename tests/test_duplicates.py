"""Fingerprints: copies are near-duplicates, different articles are not, and they fit BIGINT."""

from __future__ import annotations

import pytest

from flows.duplicates import changed, distance, fingerprint, near_duplicate, normalize_text

BODY = (
    "Ukraine, Russia and the United States will meet again in Abu Dhabi on February 4 and 5, "
    "President "
    "Volodymyr Zelensky said on Sunday, after a contact that had been pencilled in for the same "
    "day failed "
    "to take place.\n\nWriting on Telegram, Zelensky said his negotiating team had briefed him "
    "and that the "
    "dates for the next trilateral meetings were now fixed. He added that Kyiv wanted a "
    "substantive "
    "discussion and an outcome that moves the war toward a dignified end.\n\nThe follow-up will "
    "bring the "
    "three delegations back to the Emirati capital, where they held their first joint sessions "
    "on January 23 "
    "and 24. Those two days of talks were the first time officials from all three countries sat "
    "down "
    "together since the full-scale invasion in 2022."
)
OTHER = (
    "Lando Norris sealed his first world championship under the lights at Yas Marina in "
    "December, finishing "
    "third in the Abu Dhabi Grand Prix while Max Verstappen won the race. The margin in the "
    "standings was "
    "just two points. Two months on, the McLaren driver faces a very different challenge under "
    "new rules, "
    "with new power units, sustainable fuel and lighter cars, and most teams expect a scrambled "
    "order."
)


@pytest.mark.parametrize(
    ("copy", "label"),
    [
        (
            "KYIV, Feb 1 (Example Wire) - " + BODY + "\n\nThis story was distributed by Example Wire.",
            "syndicated",
        ),
        (
            "Advertisement\n" + BODY.replace("\n\n", "\nAdvertisement\n") + "\nShare this article",
            "amp page",
        ),
        (
            BODY.replace("Writing on Telegram", "In a Telegram post").replace("He added", "He said"),
            "light edit",
        ),
        (BODY.replace("’", "'").upper(), "case and quotes"),
    ],
)
def test_copies_are_near_duplicates(copy: str, label: str) -> None:
    assert near_duplicate(fingerprint(BODY), fingerprint(copy)), label


def test_different_articles_are_not_near_duplicates() -> None:
    assert not near_duplicate(fingerprint(BODY), fingerprint(OTHER))
    assert distance(fingerprint(BODY), fingerprint(OTHER)) > 16


@pytest.mark.parametrize("text", [BODY, OTHER, "", "one", "x " * 5000])
def test_fingerprint_is_a_signed_int64_and_stable(text: str) -> None:
    value = fingerprint(text)
    assert -(2**63) <= value < 2**63
    assert value == fingerprint(text)


@pytest.mark.parametrize(
    ("old", "new", "is_new_version"),
    [
        (BODY, BODY + "\n\nRead more: Ukraine war latest\nAdvertisement", False),
        (BODY, "  " + BODY.replace("’", "'").replace(" ", "  ") + "  ", False),
        (BODY, BODY.replace("February 4 and 5", "February 10"), True),
        (BODY, BODY + "\n\nThe Kremlin later confirmed the dates.", True),
    ],
)
def test_only_a_change_of_article_text_is_a_new_version(old: str, new: str, is_new_version: bool) -> None:
    assert changed(old, new) is is_new_version
    assert (normalize_text(old) != normalize_text(new)) is is_new_version
