"""How an article relates to tracked claims: the engine's one entry point (pure; no I/O, no clock).

    assess(article, claims)            what it says of each claim it is about (state-independent)
    relate(assessment, profile, state) confirms / updates / contradicts / mentions, against the
                                       claim's state as of the article (relate.py)
    match(article, claims, states)     both at once

The story lives in the claims and their brief's vocabulary file; the engine holds only general
rules of news language (language/*.toml) and general knowledge (knowledge.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from claimwatch.flows.engine.assess import Assessment, assess
from claimwatch.flows.engine.model import RELATIONS, ArticleText, Claim, ClaimMatch, Relation
from claimwatch.flows.engine.profile import compile_claims
from claimwatch.flows.engine.relate import Recent, relate, same_value

__all__ = ["RELATIONS", "ArticleText", "Assessment", "Claim", "ClaimMatch", "Recent", "Relation",
           "assess", "judge", "match", "same_value"]

States = Mapping[str, Mapping[str, str]]


def judge(assessments: Sequence[Assessment], claims: Sequence[Claim], states: States,
          recent: Mapping[str, Sequence[Recent]] | None = None) -> list[ClaimMatch]:
    """Relate each assessment to its claim's state (as of the article)."""
    by_id = {p.claim.id: p for p in compile_claims(tuple(claims))}
    return [relate(a, by_id[a.claim_id], states.get(a.claim_id, {}),
                   (recent or {}).get(a.claim_id, ()))
            for a in assessments if a.claim_id in by_id]


def match(article: ArticleText, claims: Sequence[Claim], states: States,
          recent: Mapping[str, Sequence[Recent]] | None = None) -> list[ClaimMatch]:
    """Every claim the article is about, with its relation to that claim's state."""
    return judge(assess(article, claims), claims, states, recent)
