"""Fingerprints: copies are near-duplicates, different articles are not, and they fit BIGINT."""

from __future__ import annotations

import pytest

from claimwatch.flows.extract.duplicates import (
    changed,
    distance,
    fingerprint,
    near_duplicate,
    normalize_text,
    signature,
    text_hash,
)

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


def _reference_fingerprint(text: str) -> int:
    """SimHash the plain way: +1/-1 per bit per shingle hash (what fingerprint() must equal)."""
    import hashlib

    from claimwatch.flows.extract.duplicates import _shingles

    counts = [0] * 64
    for shingle in _shingles(normalize_text(text)):
        h = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            counts[bit] += 1 if h >> bit & 1 else -1
    unsigned = sum(1 << bit for bit in range(64) if counts[bit] > 0)
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned


def _varied_texts() -> list[str]:
    import random

    rng = random.Random(8)
    words = (BODY + " " + OTHER).split()
    texts = [BODY, OTHER, "", "one", "one two", "one two three", "x " * 5000, BODY * 20,
             "Ünïcödé – “quotes” and ’apostrophes’ 2026-02-05 $1.5bn"]
    for length in (3, 4, 5, 17, 64, 255, 256, 257, 1000, 4000):  # even counts can tie a bit
        texts.append(" ".join(rng.choice(words) for _ in range(length)))
    return texts


@pytest.mark.parametrize("text", _varied_texts())
def test_fingerprint_equals_the_plain_simhash(text: str) -> None:
    assert fingerprint(text) == _reference_fingerprint(text)
    assert signature(text) == (text_hash(text), fingerprint(text))  # the extractor's one pass
