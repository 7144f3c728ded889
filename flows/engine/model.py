"""The engine's nouns: a claim, an article's text, and what the article says of a claim."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from claimwatch.flows.engine.vocabulary import EMPTY, Vocabulary

Relation = Literal["confirms", "updates", "contradicts", "mentions"]
RELATIONS: tuple[Relation, ...] = ("confirms", "updates", "contradicts", "mentions")


@dataclass(frozen=True, slots=True)
class Claim:
    """One tracked statement from a brief, with its checkable slots and its brief's vocabulary."""

    id: str
    statement: str
    keywords: tuple[str, ...] = ()
    facts: Mapping[str, str] = field(default_factory=dict)
    vocabulary: Vocabulary = EMPTY

    def __hash__(self) -> int:
        return hash((self.id, self.statement, self.keywords, tuple(sorted(self.facts.items())),
                     self.vocabulary))


@dataclass(frozen=True, slots=True)
class ArticleText:
    """What matching needs of an article: its body text, never navigation or comments."""

    url: str
    title: str
    text: str
    published_at: datetime | None = None  # when this text was published (an edit: its date)


@dataclass(frozen=True, slots=True)
class ClaimMatch:
    """An article found to be about a claim, with the sentence and facts that decided it."""

    claim_id: str
    relation: Relation
    evidence: str  # the sentence that decided the relation, as written
    facts: Mapping[str, str]  # values the article asserts, in the claim's slot names
    score: float  # relevance in [0, 1]
