"""A brief's own vocabulary (vocabulary.toml beside its claims): the story's names, as data.

    [aliases]            # a name -> the other ways coverage writes it
    "Baltic Ferry Union" = ["the seafarers' union"]
    [concepts]           # a word of the claims -> phrases that mean the same in this story
    walkout = ["stoppage", "industrial action"]
    [people]             # a person -> whom they speak for
    "Kaja Tamm" = "Baltic Ferry Union"

Everything is optional; `claimwatch claims draft BRIEF` proposes one from the brief.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SECTIONS = ("aliases", "concepts", "people")


class VocabularyError(ValueError):
    """The vocabulary file is unusable; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Vocabulary:
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()
    concepts: tuple[tuple[str, tuple[str, ...]], ...] = ()
    people: tuple[tuple[str, str], ...] = ()

    def forms_of(self, name: str) -> tuple[str, ...]:
        """Other forms of a name or a word, from aliases and concepts (case-insensitive)."""
        key = name.lower()
        return tuple(f for n, forms in (*self.aliases, *self.concepts) if n.lower() == key
                     for f in forms)

    def affiliation(self, person: str) -> str | None:
        return next((whom for p, whom in self.people if p.lower() == person.lower()), None)


EMPTY = Vocabulary()


def parse(data: Mapping[str, Any], where: str = "vocabulary") -> Vocabulary:
    """Check and read a parsed vocabulary.toml."""
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise VocabularyError(f"{where}: unknown section(s) {', '.join(unknown)}; "
                              f"allowed: {', '.join(SECTIONS)}")
    lists = {}
    for section in ("aliases", "concepts"):
        table = data.get(section, {})
        if not isinstance(table, dict) or not all(
                isinstance(v, list) and all(isinstance(x, str) and x.strip() for x in v)
                for v in table.values()):
            raise VocabularyError(f"{where}: [{section}] maps names to lists of strings")
        lists[section] = tuple((str(k), tuple(v)) for k, v in table.items())
    people = data.get("people", {})
    if not isinstance(people, dict) or not all(isinstance(v, str) for v in people.values()):
        raise VocabularyError(f"{where}: [people] maps a person to whom they speak for (a string)")
    return Vocabulary(lists["aliases"], lists["concepts"], tuple(people.items()))


def loads(text: str, where: str = "vocabulary") -> Vocabulary:
    try:
        return parse(tomllib.loads(text), where)
    except tomllib.TOMLDecodeError as exc:
        raise VocabularyError(f"{where}: malformed TOML: {exc}") from None
