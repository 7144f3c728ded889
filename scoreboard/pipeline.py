"""The pipeline's decisions in memory, article by article, as claimwatch makes them.

Articles arrive in polling order (round by round); each is judged against its claims' states as
of its publication (developments.fold), with the developments of the 48 hours before it as
"the same news", and developments.decide() records what changed, dated when it was reported.
An edit (same URL, new text) is read again; an unchanged text makes no new version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from claimwatch.flows.engine import claims as engine
from claimwatch.flows.engine.developments import (
    KnownDevelopment,
    NewDevelopment,
    Supports,
    decide,
    fold,
    recent,
)
from claimwatch.flows.engine.model import ArticleText, Claim
from claimwatch.flows.engine.relate import SAME_NEWS, Recent
from claimwatch.flows.extract import duplicates
from scoreboard.stories import Labelled

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class Outcome:
    """What one system said about one article: claim id -> relation, and developments made."""

    relations: dict[str, str] = field(default_factory=dict)
    facts: dict[str, Mapping[str, str]] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)
    developments: dict[str, NewDevelopment] = field(default_factory=dict)
    skipped: bool = False  # same text as the stored version: the pipeline makes no new version


class Pipeline:
    """Seeds, developments and the latest text per URL, in memory."""

    def __init__(self, claims: Sequence[Claim]) -> None:
        self.claims = tuple(claims)
        self.seeds = {c.id: dict(c.facts) for c in claims}
        self.known: list[KnownDevelopment] = []
        self.texts: dict[str, str] = {}

    def state(self, claim_id: str, at: datetime | None = None) -> dict[str, str]:
        return fold(self.seeds[claim_id], [k for k in self.known if k.claim_id == claim_id], at)

    def process(self, article: Labelled) -> Outcome:
        previous = self.texts.get(article.url)
        if previous is not None and not duplicates.changed(previous, article.text):
            return Outcome(skipped=True)
        self.texts[article.url] = article.text
        when = article.published_at or EPOCH
        text = ArticleText(article.url, article.title, article.text, article.published_at)
        fingerprint = duplicates.fingerprint(article.text)
        out = Outcome()
        for a in engine.assess(text, self.claims):
            mine = [k for k in self.known if k.claim_id == a.claim_id]
            state = fold(self.seeds[a.claim_id], mine, when)
            news = {a.claim_id: [Recent(k.relation, frozenset(k.changes), k.facts)
                                 for k in recent(mine, when, SAME_NEWS)]}
            (m,) = engine.judge([a], self.claims, {a.claim_id: state}, news)
            out.relations[m.claim_id] = m.relation
            out.facts[m.claim_id] = m.facts
            out.evidence[m.claim_id] = m.evidence
            decision = decide(m, state, mine, fingerprint, when)
            if isinstance(decision, NewDevelopment):
                self.known.append(KnownDevelopment(
                    len(self.known) + 1, m.claim_id, decision.relation, dict(decision.new_state),
                    (fingerprint,), when, dict(decision.changes)))
                out.developments[m.claim_id] = decision
            elif isinstance(decision, Supports):
                i = decision.development_id - 1
                self.known[i] = replace(self.known[i],
                                        fingerprints=(*self.known[i].fingerprints, fingerprint))
        return out
