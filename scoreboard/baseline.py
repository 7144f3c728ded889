"""A plain TF-IDF baseline, scored beside the engine so its figures mean something.

Relevance: cosine between each sentence's TF-IDF vector and the claim's (statement + keywords),
above a threshold; the threshold is picked from a small grid for the best F1 on the set itself,
so the baseline is shown at its best. Relation: a naive word rule. No facts, no state, no
duplicate handling: every "updates" or "contradicts" becomes a development.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from claimwatch.flows.engine.developments import NewDevelopment
from claimwatch.flows.engine.model import Claim
from claimwatch.flows.engine.text import split_sentences
from claimwatch.flows.engine.words import STOP_WORDS
from scoreboard.pipeline import Outcome

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(2, 13))
_TOKEN = re.compile(r"[a-z0-9%$]+")
_CONTRADICT = re.compile(r"\b(denied|denies|called off|cancel+ed|not true|no such|scrapped|false)\b", re.I)
_UPDATE = re.compile(
    r"\b(postponed|delayed|moved|rescheduled|held|passed|approved|struck down|ruled|"
    r"concluded|ended|exchange)\b",
    re.I,
)

Vector = dict[str, float]


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOP_WORDS]


def _cosine(a: Vector, b: Vector) -> float:
    dot = sum(w * b.get(t, 0.0) for t, w in a.items())
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def naive_relation(sentence: str) -> str:
    """Denial words contradict, change words update, a number confirms, anything else mentions."""
    if _CONTRADICT.search(sentence):
        return "contradicts"
    if _UPDATE.search(sentence):
        return "updates"
    return "confirms" if re.search(r"\d", sentence) else "mentions"


class Baseline:
    """TF-IDF relevance and a word-rule relation, nothing else."""

    def __init__(self, claims: Sequence[Claim], corpus: Iterable[str], threshold: float = 0.2) -> None:
        docs = [_tokens(s) for text in corpus for s in split_sentences(text)]
        docs += [_tokens(c.statement) for c in claims]
        df = Counter(t for d in docs for t in set(d))
        self.idf = {t: math.log((1 + len(docs)) / (1 + n)) + 1 for t, n in df.items()}
        self.claims = {c.id: self.vector(" ".join((c.statement, *c.keywords))) for c in claims}
        self.threshold = threshold

    def vector(self, text: str) -> Vector:
        counts = Counter(_tokens(text))
        return {t: n * self.idf.get(t, 1.0) for t, n in counts.items()}

    def process(self, url: str, title: str, text: str) -> Outcome:
        sentences = [s for s in (title, *split_sentences(text)) if s]
        vectors = [(s, self.vector(s)) for s in sentences]
        out = Outcome()
        for claim_id, cv in self.claims.items():
            best, sentence = max(((_cosine(v, cv), s) for s, v in vectors), default=(0.0, ""))
            if best >= self.threshold:
                relation = naive_relation(sentence)
                out.relations[claim_id] = relation
                if relation in ("updates", "contradicts"):
                    out.developments[claim_id] = NewDevelopment(relation, sentence[:80], {}, {})  # type: ignore[arg-type]
        return out
