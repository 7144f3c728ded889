"""Figures in a sentence: percentages, money, vote tallies and counts, typed and normalized (pure).

Reads Sentence.norm, where number words are already digits ("six to three" -> "6 to 3",
"$24.6bn" -> "$24600000000"). Currencies come from the data packages (knowledge.py): symbols,
codes and unit words for every currency, so "€4.5bn", "EUR 4.5 billion" and "4.5 billion
euros" are one value. Each figure keeps the words around it, for tying it to a claim's slot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from claimwatch.flows.engine import knowledge
from claimwatch.flows.engine.text import digits

Kind = str  # "percent" | "money" | "vote" | "count"

_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per\s+cent\b|pct\b)(?!\s*(?:age)?\s*points?)")
_FRACTIONS = {"half": 50.0, "a third": 100 / 3, "one third": 100 / 3, "a quarter": 25.0,
              "two thirds": 200 / 3, "two-thirds": 200 / 3, "three quarters": 75.0,
              "three-quarters": 75.0}
# "a quarter of the vote" is a share; "a quarter of a (percentage) point" is the size of a move.
_FRACTION = re.compile(r"\b(" + "|".join(re.escape(f) for f in _FRACTIONS) + r")\s+(?:of|the)\b"
                       r"(?!\s+an?\s+(?:percentage\s+|basis\s+)?points?\b)")
_VOTE = re.compile(r"(?<![\d.,/-])(\d{1,3})\s*(?:-|–|—|to|votes?\s+to)\s*(\d{1,3})(?:\s*(?:-|–)\s*(\d{1,3}))?"
                   r"(?![\d%/-]|\.\d)")
_VOTE_CONTEXT = re.compile(r"\b(?:vot\w*|ballots?|majority|split|margin|ruled|ruling|decision|verdict"
                           r"|justices|members|judges|mps|senators|lawmakers|tally|backed|opposed)\b")
_NUMBER = re.compile(r"(?<![\w.,/-])(\d+(?:\.\d+)?)(?![\d%/]|\.\d|-\d)")
_APPROX = re.compile(r"\b(?:about|around|roughly|some|nearly|almost|approximately|over|more than"
                     r"|less than|up to|close to|just under|just over|an estimated|estimated)\s*$")
_EACH = re.compile(r"^\s*(?:each|apiece|from each side|on each side|per side)\b")
_WORD = re.compile(r"[a-z][a-z'-]*")


@dataclass(frozen=True, slots=True)
class Figure:
    kind: Kind
    value: float  # percent points, money units, the count; for votes the "for" side
    unit: str  # currency code for money; "each" for per-side counts; "a-b" for votes
    start: int
    end: int
    approx: bool
    before: tuple[str, ...]  # up to ten words before, nearest last
    after: tuple[str, ...]  # up to six words after
    word: str = ""  # the unit word money was read from ("pounds"): a count of pounds, maybe

    def text(self) -> str:
        return canonical(self)


def canonical(f: Figure) -> str:
    """The value as claims write it: "4.25%", "$24.6 billion", "6-3", "157 each", "45000"."""
    if f.kind == "percent":
        return f"{_plain(f.value)}%"
    if f.kind == "vote":
        return f.unit
    if f.kind == "money":
        return money_text(f.unit, f.value)
    return f"{_plain(f.value)} each" if f.unit == "each" else _plain(f.value)


def money_text(code: str, value: float) -> str:
    symbols = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
    sign = symbols.get(code, f"{code} ")
    for scale, word in ((10**12, "trillion"), (10**9, "billion"), (10**6, "million")):
        if value >= scale:
            return f"{sign}{_plain(round(value / scale, 3))} {word}"
    return f"{sign}{_plain(value)}"


def _plain(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _context(norm: str, start: int, end: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    before = tuple(_WORD.findall(norm[max(0, start - 120):start]))[-10:]
    after = tuple(_WORD.findall(norm[end:end + 80]))[:6]
    return before, after


def figures(norm: str) -> tuple[Figure, ...]:
    """Every figure in a number-normalized lowercase sentence, left to right."""
    if not any(map(str.isdigit, norm)) and " half " not in f" {norm} " and "third" not in norm \
            and "quarter" not in norm:
        return ()
    found: list[Figure] = []
    taken: list[tuple[int, int]] = []

    def add(kind: Kind, value: float, unit: str, start: int, end: int, word: str = "") -> None:
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        before, after = _context(norm, start, end)
        approx = bool(_APPROX.search(norm[max(0, start - 30):start]))
        found.append(Figure(kind, value, unit, start, end, approx, before, after, word))

    for money in _money(norm):
        add("money", *money)
    for m in _PERCENT.finditer(norm):
        add("percent", float(m.group(1)), "", m.start(), m.end())
    for m in _FRACTION.finditer(norm):
        add("percent", _FRACTIONS[m.group(1)], "", m.start(), m.end() - len(m.group(0).split()[-1]))
    if _VOTE_CONTEXT.search(norm):
        for m in _VOTE.finditer(norm):
            a, b, c = m.group(1), m.group(2), m.group(3)
            tally = f"{int(a)}-{int(b)}" + (f"-{int(c)}" if c else "")
            add("vote", float(a), tally, m.start(), m.end())
    for m in _NUMBER.finditer(norm):
        if _is_year(m.group(1), norm, m.end()):
            continue
        each = bool(_EACH.search(norm[m.end():m.end() + 20]))
        add("count", float(m.group(1)), "each" if each else "", m.start(), m.end())
    return tuple(sorted(found, key=lambda f: f.start))


def _is_year(number: str, norm: str, end: int) -> bool:
    counted = ("people", "workers", "jobs", "stores", "votes", "members", "deaths")
    return number.isdigit() and len(number) == 4 and 1900 <= int(number) <= 2100 \
        and not norm[end:end + 12].lstrip().startswith(counted)


def _money(norm: str) -> list[tuple[float, str, int, int, str]]:
    k = knowledge.get()
    out = []
    for m in re.finditer(r"([a-z]{0,3}[$€£¥₹]|\b[a-z]{3}\b)\s?(\d+(?:\.\d+)?)", norm):
        code = k.currency_symbols.get(m.group(1).strip())
        if code and (not m.group(1).isalpha() or m.group(1).upper() == code):
            out.append((float(m.group(2)), code, m.start(), m.end(), ""))
    for m in re.finditer(r"(\d+(?:\.\d+)?)\s+((?:[a-z]+\s)?[a-z]+)\b", norm):
        words = m.group(2)
        code = k.currency_words.get(words) or k.currency_words.get(words.split()[-1]) \
            or k.currency_words.get(words.split()[0])
        if code and not norm[m.end():m.end() + 4].startswith(" of"):  # "7 million pounds of meat"
            out.append((float(m.group(1)), code, m.start(), m.end(), words.split()[-1]))
    return out


def same_number(a: float, b: float, approx: bool = False) -> bool:
    """Equal, within rounding; "about 207,000" is 207,528."""
    if a == b:
        return True
    tolerance = 0.05 if approx else 0.005
    return abs(a - b) <= tolerance * max(abs(a), abs(b))


def parse_value(text: str) -> Figure | None:
    """A claim's slot value as a figure ("4.5%", "$24.6 billion", "8-1", "45000", "157 each")."""
    norm = digits(text).lower().strip()
    found = figures(norm)
    if len(found) == 1 or (found and found[0].kind in ("money", "vote")):
        return found[0]
    if re.fullmatch(r"\d+(?:\.\d+)?-\d+(?:\.\d+)?(?:-\d+)?", norm):
        parts = norm.split("-")
        return Figure("vote", float(parts[0]), "-".join(str(int(float(p))) for p in parts),
                      0, len(norm), False, (), ())
    return found[0] if found else None
