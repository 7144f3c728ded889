"""Sentences and words: splitting, number words made digits, lemmas (pure; English).

A Sentence is read once per article and shared by every claim: its tokens, their lemmas and a
number-normalized lowercase form that the fact patterns run over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from text_to_num import alpha2digit

from claimwatch.flows.engine import knowledge
from claimwatch.flows.engine.words import STOP_WORDS

# Abbreviations whose dot does not end a sentence ("Feb. 4", "U.S. envoy", "Sen. Graham").
_ABBREV = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Sen|Rep|Gen|Mr|Mrs|Ms|Dr|St|Lt|Col"
    r"|Gov|Pres|No|vs|v|Inc|Corp|Co|Ltd|Jr|Sr|U\.S|U\.N|U\.K|E\.U|a\.m|p\.m|Rt|Hon)\.$"
)
_ABBREV_TAIL = 10
# A space after ".", "!" or "?" (perhaps closing a quote) before a capital or a digit; or a line
# break. Written to begin with the whitespace it needs, so that re skips straight to candidates.
_BOUNDARY = re.compile(r"\s(?:(?<=[.!?]\s)|(?<=[.!?][\"”’)]\s))\s*(?=[\"“‘(]?[A-Z0-9])|\n+")
_TOKEN = re.compile(r"[a-z][a-z'’-]*[a-z]|[a-z]|\d[\d,]*(?:\.\d+)?%?|[$€£¥₹]")
_SCALED = re.compile(r"(\d+(?:\.\d+)?)\s*(trillion|billion|million|thousand|tn|bn|mn|m|k)\b",
                     re.IGNORECASE)
_SCALES = {"trillion": 10**12, "tn": 10**12, "billion": 10**9, "bn": 10**9, "million": 10**6,
           "mn": 10**6, "m": 10**6, "thousand": 10**3, "k": 10**3}
_DIGIT_GROUPS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_WORD_NUMBER = re.compile(r"\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
                          r"|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty"
                          r"|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand)\b",
                          re.IGNORECASE)


_ORDINAL = re.compile(r"\b([1-9]|10)(?:st|nd|rd|th)\b")
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth",
             7: "seventh", 8: "eighth", 9: "ninth", 10: "tenth"}


def split_sentences(text: str) -> tuple[str, ...]:
    """Split body text into sentences, keeping abbreviations like "Feb." and "U.S." intact."""
    out: list[str] = []
    pending = ""
    for piece in _BOUNDARY.split(text):
        piece = piece.strip()
        if not piece:
            continue
        pending = f"{pending} {piece}" if pending else piece
        if not _ABBREV.search(pending[-_ABBREV_TAIL:]):
            out.append(pending)
            pending = ""
    if pending:
        out.append(pending)
    return tuple(out)


def _scaled(m: re.Match[str]) -> str:
    value = float(m.group(1)) * _SCALES[m.group(2).lower()]
    return str(int(value)) if value == int(value) else str(value)


def digits(text: str) -> str:
    """Numbers as plain digits: "1.2 million" -> "1200000", "six to three" -> "6 to 3",
    "45,000" -> "45000". Ordinals stay words ("first round" is not a count)."""
    text = _DIGIT_GROUPS.sub("", text)
    text = _SCALED.sub(_scaled, text)
    if _WORD_NUMBER.search(text):
        text = alpha2digit(text, "en", threshold=0)
        text = _ORDINAL.sub(lambda m: _ORDINALS[int(m.group(1))], text)
        text = _SCALED.sub(_scaled, text)  # "6 million" written "six million"
    return text


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The dictionary form of a lowercase word (wordfreq's vocabulary lemmatized by simplemma);
    unknown words lose a plural or participle ending by rule."""
    found = knowledge.get().lemmas.get(word)
    if found is not None:
        return found
    if word in knowledge.get().zipf or len(word) <= 4:
        return word
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


def tokens(lowered: str) -> tuple[str, ...]:
    return tuple(t.replace("’", "'") for t in _TOKEN.findall(lowered))


def content(words: tuple[str, ...]) -> frozenset[str]:
    """Lemmas of the words that carry meaning: no stop words, no bare numbers."""
    return frozenset(lemma(w) for w in words if w not in STOP_WORDS and w[0].isalpha())


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence, read once for every claim."""

    index: int  # position in the article; the title is -1
    text: str  # as written: the evidence people read
    norm: str  # lowercase, numbers as digits: what the fact patterns read
    words: tuple[str, ...]
    lemmas: frozenset[str]
    lower: str  # the text lowercased, numbers as written: what names are matched in


def sentence(index: int, text: str) -> Sentence:
    norm = digits(text).lower()
    words = tokens(norm)
    return Sentence(index, text, norm, words, content(words), text.lower())


def informativeness(word: str) -> float:
    """How much a word says about a claim: rare words much, common ones little (0.2-1.5)."""
    return min(1.5, max(0.2, (6.5 - knowledge.get().frequency(word)) / 3.0))
