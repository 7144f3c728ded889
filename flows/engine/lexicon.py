"""The engine's general vocabulary (language/*.toml) compiled into patterns, once.

Statuses and the English that reports them, negation, hedges, attribution, denial, stance and
time cues: data, read here; the rules that use them live in assess.py and relate.py.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from claimwatch.flows.engine.text import lemma

LANGUAGE = Path(__file__).with_name("language")


def phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """One regex matching any phrase on whole words; "*" stands for up to three words."""
    parts = []
    for p in sorted({p.lower().strip() for p in phrases if p.strip()}, key=len, reverse=True):
        words = [r"(?:\S+\s+){0,3}?" if w == "*" else re.escape(w) for w in p.split()]
        body = r"\s+".join(words).replace(r"(?:\S+\s+){0,3}?\s+", r"(?:\S+\s+){0,3}?")
        parts.append(body)
    if not parts:
        return re.compile(r"(?!x)x")
    return re.compile(r"(?<![\w$€£¥₹])(?:" + "|".join(parts) + r")(?![\w%])")


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    nouns: frozenset[str]  # lemmas
    order: tuple[str, ...]
    negative: frozenset[str]
    detours: frozenset[str]
    open_ended: frozenset[str] = frozenset()  # lemmas of events that last until ended


@dataclass(frozen=True, slots=True)
class Status:
    name: str
    kinds: frozenset[str]
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Lexicon:
    kinds: dict[str, Kind]
    statuses: tuple[Status, ...]
    status_kind: dict[str, str]  # a status name -> the kind it first belongs to
    negation: re.Pattern[str]
    pseudo_negation: re.Pattern[str]
    scope_end: re.Pattern[str]
    negation_window: int
    hedges: re.Pattern[str]
    forecast: re.Pattern[str]
    attribution: re.Pattern[str]
    denial: re.Pattern[str]
    stances: dict[str, re.Pattern[str]]
    old_time: re.Pattern[str]
    reported_time: re.Pattern[str]
    past: re.Pattern[str]
    future: re.Pattern[str]
    synonyms: tuple[frozenset[str], ...] = ()  # groups of nouns for the same kind of thing

    def same_things(self, lemmas: frozenset[str]) -> frozenset[str]:
        """The lemmas and every noun grouped with one of them."""
        found = set(lemmas)
        for group in self.synonyms:
            if group & lemmas:
                found |= group
        return frozenset(found)

    def statuses_for(self, kind: str) -> tuple[Status, ...]:
        return tuple(s for s in self.statuses if kind in s.kinds)


def _read(name: str) -> dict[str, Any]:
    return tomllib.loads((LANGUAGE / name).read_text(encoding="utf-8"))


@cache
def get() -> Lexicon:
    statuses_file = _read("statuses.toml")
    language = _read("language.toml")
    kinds = {
        name: Kind(name, frozenset(lemma(n) for n in spec.get("nouns", [])),
                   tuple(spec.get("order", [])), frozenset(spec.get("negative", [])),
                   frozenset(spec.get("detours", [])),
                   frozenset(lemma(n) for n in spec.get("open_ended", [])))
        for name, spec in statuses_file["kinds"].items()
    }
    statuses = tuple(
        Status(str(spec.get("name", key)), frozenset(spec["kinds"]), phrase_pattern(spec["cues"]))
        for key, spec in statuses_file["status"].items()
    )
    status_kind: dict[str, str] = {}
    for kind in kinds.values():
        for s in (*kind.order, *kind.negative, *kind.detours):
            status_kind.setdefault(s, kind.name)
    neg = language["negation"]
    stance = language["stance"]
    time = language["time"]
    return Lexicon(
        kinds=kinds, statuses=statuses, status_kind=status_kind,
        negation=phrase_pattern(neg["before"]),
        pseudo_negation=phrase_pattern(neg["pseudo"]),
        scope_end=re.compile("|".join(re.escape(w) if not w.isalpha() else rf"\b{w}\b"
                                      for w in neg["scope_end"])),
        negation_window=int(neg["window"]),
        hedges=phrase_pattern(language["hedges"]["cues"]),
        forecast=phrase_pattern(language["forecast"]["cues"]),
        attribution=phrase_pattern(language["attribution"]["verbs"]),
        denial=phrase_pattern(language["denial"]["cues"]),
        stances={name: phrase_pattern(cues) for name, cues in stance.items()},
        old_time=phrase_pattern(time["old"]),
        reported_time=phrase_pattern(time["reported"]),
        past=phrase_pattern(time["past"]),
        future=phrase_pattern(time["future"]),
        synonyms=tuple(frozenset(lemma(w) for w in g)
                       for g in statuses_file.get("synonyms", {}).get("groups", [])),
    )
