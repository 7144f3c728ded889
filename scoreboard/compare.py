"""The scoreboard's own plain comparison of two slot values, independent of the engine's."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_SCALES = {"trillion": 1e12, "billion": 1e9, "bn": 1e9, "million": 1e6, "m": 1e6,
           "thousand": 1e3, "crore": 1e7, "lakh": 1e5}


def _number(text: str) -> float | None:
    cleaned = text.lower().replace(",", "")
    m = _NUMBER.search(cleaned)
    if m is None:
        return None
    value = float(m.group())
    for word, scale in _SCALES.items():
        if re.search(rf"\b{word}\b", cleaned[m.end():]):
            value *= scale
            break
    return value


def same(want: str, got: str | None) -> bool:
    """Dates: equal or one inside the other; votes: equal tallies; numbers: within 1 %; else text."""
    if got is None:
        return False
    want, got = want.strip().lower(), got.strip().lower()
    if want == got:
        return True
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(/\d{4}-\d{2}-\d{2})?", want) and re.fullmatch(
            r"\d{4}-\d{2}-\d{2}(/\d{4}-\d{2}-\d{2})?", got):
        w1, _, w2 = want.partition("/")
        g1, _, g2 = got.partition("/")
        w2, g2 = w2 or w1, g2 or g1
        return (g1 >= w1 and g2 <= w2) or (w1 >= g1 and w2 <= g2)
    if re.fullmatch(r"\d+-\d+(-\d+)?", want) or re.fullmatch(r"\d+-\d+(-\d+)?", got):
        return want.replace(" ", "") == got.replace(" ", "")
    if ("each" in want) != ("each" in got) and _number(want) is not None:
        return False
    a, b = _number(want), _number(got)
    if a is not None and b is not None:
        currency = lambda t: re.sub(r"[\d.,\s]|trillion|billion|million|thousand|bn|each", "", t)  # noqa: E731
        return abs(a - b) <= 0.01 * max(abs(a), abs(b)) and currency(want) == currency(got)
    return False
