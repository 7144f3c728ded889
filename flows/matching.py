"""New article versions -> matches and developments. Pure decisions, stored here in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from flows import claims as claim_engine
from flows import crashpoints, developments, outbox
from flows.channels import AlertsConfig
from flows.claims import ArticleText, Claim, ClaimMatch
from flows.developments import KnownDevelopment, NewDevelopment, Supports
from storage import queries
from storage.db import session
from storage.models import Article, ArticleVersion, ClaimRecord, Development, Match

BATCH = 200


@dataclass(slots=True)
class MatchSummary:
    versions: int = 0
    matches: int = 0
    developments: list[int] = field(default_factory=list)  # ids of new developments


def _known(s: Session, claim_id: str) -> list[KnownDevelopment]:
    rows = queries.developments_of(s, claim_id)
    prints = queries.fingerprints_of(s, [r.id for r in rows if r.id is not None])
    return [
        KnownDevelopment(id=r.id, claim_id=r.claim_id, relation=r.relation,  # type: ignore[arg-type]
                         facts=dict(r.facts), fingerprints=tuple(prints.get(r.id, [])))  # type: ignore[arg-type]
        for r in rows
    ]


def _record(s: Session, found: ClaimMatch, version: ArticleVersion, now: datetime,
            summary: MatchSummary, alerts: AlertsConfig | None = None) -> None:
    record = s.get(ClaimRecord, found.claim_id)
    assert record is not None and version.id is not None
    decision = developments.decide(found, dict(record.state), _known(s, found.claim_id),
                                   version.fingerprint, now)
    development_id: int | None = None
    created: Development | None = None
    if isinstance(decision, NewDevelopment):
        row = Development(claim_id=found.claim_id, relation=decision.relation,
                          summary=decision.summary,
                          changes={k: list(v) for k, v in decision.changes.items()},
                          facts=dict(decision.new_state), first_seen_at=now)
        s.add(row)
        s.flush()
        development_id, created = row.id, row
        record.state, record.updated_at = dict(decision.new_state), now
        summary.developments.append(row.id)  # type: ignore[arg-type]
    elif isinstance(decision, Supports):
        development_id = decision.development_id
    match = Match(claim_id=found.claim_id, article_version_id=version.id, relation=found.relation,
                  evidence=found.evidence, facts=dict(found.facts), score=found.score,
                  development_id=development_id, matched_at=now)
    s.add(match)
    if alerts is not None:  # the outbox rows commit with the development, or not at all
        outbox.enqueue(s, alerts, match, created, version, now)
    summary.matches += 1


def _match_version(s: Session, version: ArticleVersion, claims: Sequence[Claim], now: datetime,
                   summary: MatchSummary, alerts: AlertsConfig | None = None) -> None:
    article = s.get(Article, version.article_id)
    assert article is not None
    states = {r.id: dict(r.state) for r in queries.claim_records(s, [c.id for c in claims])}
    text = ArticleText(url=article.url, title=version.title or article.title, text=version.text,
                       published_at=article.published_at)
    for found in claim_engine.match(text, claims, states):
        _record(s, found, version, now, summary, alerts)
    version.matched_at = now
    summary.versions += 1


def match_pending(engine: Engine, claims: Sequence[Claim], now: datetime,
                  alerts: AlertsConfig | None = None) -> MatchSummary:
    """Compare every unmatched version with every claim; one transaction per version.

    With `alerts`, each new development's pending alerts are written in its transaction.
    """
    summary = MatchSummary()
    while True:
        with session(engine) as s:
            batch = [v.id for v in queries.unmatched_versions(s, BATCH)]
        if not batch:
            return summary
        for version_id in batch:
            with session(engine) as s:
                # Workers matching at once: each version is taken by one (its matches can then
                # never be stored twice), and decisions about claims are made one at a time.
                if not queries.take_version(s, version_id, now):
                    continue
                queries.lock_claims(s)
                version = s.get(ArticleVersion, version_id)
                if version is not None:
                    _match_version(s, version, claims, now, summary, alerts)
            crashpoints.reached("after-matches-stored")  # this version's matches committed
            if summary.developments:  # a development and its alerts are committed
                crashpoints.reached("after-development-stored")
