"""New article versions -> matches and developments. Pure decisions, stored here in one place."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor, Future
from dataclasses import dataclass, field
from datetime import datetime

from claimwatch.flows import crashpoints
from claimwatch.flows.alerts import outbox
from claimwatch.flows.alerts.policy import AlertsConfig
from claimwatch.flows.engine import claims as claim_engine
from claimwatch.flows.engine import developments
from claimwatch.flows.engine.claims import ArticleText, Claim, ClaimMatch
from claimwatch.flows.engine.developments import KnownDevelopment, NewDevelopment, Supports
from claimwatch.flows.stages.prematch import Prematches
from claimwatch.flows.workers import WorkerPool
from claimwatch.storage import articles
from claimwatch.storage import claims as records
from claimwatch.storage.db import Engine, Session, session
from claimwatch.storage.models import Article, ArticleVersion, ClaimRecord, Development, Match

log = logging.getLogger("claimwatch.matching")
BATCH = 200  # versions listed at a time
# Versions matched per transaction at most: one commit and one read of the claims' states per
# batch instead of per version (issue 8), while the claim rows it locks are held only briefly.
MAX_VERSIONS_PER_TRANSACTION = 50


@dataclass(slots=True)
class MatchSummary:
    versions: int = 0
    matches: int = 0
    developments: list[int] = field(default_factory=list)  # ids of new developments
    failed: dict[str, str] = field(default_factory=dict)  # article URL -> why matching it failed


@dataclass(slots=True)
class _Batch:
    """What one transaction knows about the claims, kept current as it records developments.

    The claim rows are locked for the whole transaction, so nothing else can change them.
    """

    records: dict[str, ClaimRecord]
    known: dict[str, list[KnownDevelopment]] = field(default_factory=dict)  # loaded on demand

    def states(self) -> dict[str, dict[str, str]]:
        return {claim_id: dict(r.state) for claim_id, r in self.records.items()}

    def known_of(self, s: Session, claim_id: str) -> list[KnownDevelopment]:
        if claim_id not in self.known:
            self.known[claim_id] = _known(s, claim_id)
        return self.known[claim_id]


def _known(s: Session, claim_id: str) -> list[KnownDevelopment]:
    rows = records.developments_of(s, claim_id)
    prints = records.fingerprints_of(s, [r.id for r in rows if r.id is not None])
    return [
        KnownDevelopment(id=r.id, claim_id=r.claim_id, relation=r.relation,  # type: ignore[arg-type]
                         facts=dict(r.facts), fingerprints=tuple(prints.get(r.id, [])))  # type: ignore[arg-type]
        for r in rows
    ]


def _record(s: Session, found: ClaimMatch, version: ArticleVersion, now: datetime,
            summary: MatchSummary, batch: _Batch, alerts: AlertsConfig | None = None) -> None:
    record = batch.records[found.claim_id]
    assert version.id is not None
    decision = developments.decide(found, dict(record.state), batch.known_of(s, found.claim_id),
                                   version.fingerprint, now)
    development_id: int | None = None
    created: Development | None = None
    if isinstance(decision, NewDevelopment):
        row = Development(claim_id=found.claim_id, relation=decision.relation,
                          summary=decision.summary,
                          changes={k: list(v) for k, v in decision.changes.items()},
                          facts=dict(decision.new_state), first_seen_at=now)
        records.add(s, row)
        development_id, created = row.id, row
        record.state, record.updated_at = dict(decision.new_state), now
        summary.developments.append(row.id)  # type: ignore[arg-type]
    elif isinstance(decision, Supports):
        development_id = decision.development_id
    match = Match(claim_id=found.claim_id, article_version_id=version.id, relation=found.relation,
                  evidence=found.evidence, facts=dict(found.facts), score=found.score,
                  development_id=development_id, matched_at=now)
    records.add(s, match)
    if development_id is not None:  # its developments or their fingerprints changed: re-read
        batch.known.pop(found.claim_id, None)
    if alerts is not None:  # the outbox rows commit with the development, or not at all
        outbox.enqueue(s, alerts, match, created, version, now)
    summary.matches += 1


def _text(version: ArticleVersion, article: Article) -> ArticleText:
    return ArticleText(url=article.url, title=version.title or article.title, text=version.text,
                       published_at=article.published_at)


def _guess(text: ArticleText, claims: Sequence[Claim], states: dict[str, dict[str, str]],
           pool: WorkerPool | None, ahead: Prematches | None) -> Future[list[ClaimMatch]] | None:
    """claims.match on these states: as worked out while the page was read, else in the pool."""
    found = ahead.take(text, claims, states) if ahead is not None else None
    if found is not None:
        done: Future[list[ClaimMatch]] = Future()
        done.set_result(found)
        return done
    return pool.call(claim_engine.match, text, claims, states) if pool else None


def _found(guess: Future[list[ClaimMatch]] | None, guessed_with: dict[str, dict[str, str]],
           text: ArticleText, claims: Sequence[Claim], batch: _Batch) -> list[ClaimMatch]:
    """claims.match on the current states: worked out ahead in the pool when the states it was
    given are still the current ones (claims.match is pure), else here and now."""
    states = batch.states()
    if guess is not None and states == guessed_with:
        try:
            return guess.result()
        except BrokenExecutor:  # the pool is gone (a worker was killed): match here instead
            pass
    return claim_engine.match(text, claims, states)


def _match_batch(s: Session, version_ids: Sequence[int], claims: Sequence[Claim], now: datetime,
                 summary: MatchSummary, alerts: AlertsConfig | None, pool: WorkerPool | None,
                 ahead: Prematches | None) -> None:
    # Workers matching at once: each version is taken by one (its matches can then never be
    # stored twice), and decisions about claims are made one transaction at a time.
    taken = articles.take_versions(s, version_ids, now)
    if not taken:
        return
    records.lock_claims(s)
    batch = _Batch({r.id: r for r in records.claim_records(s, [c.id for c in claims])})
    rows = articles.versions_with_articles(s, [i for i in version_ids if i in taken])
    texts = [_text(version, article) for version, article in rows]
    # Matched in the pool on the states as they are now, while this thread records in order;
    # a version after a new development (rare) is matched again on the states it changed.
    states = batch.states()
    guesses = [_guess(text, claims, states, pool, ahead) for text in texts]
    for (version, article), text, guess in zip(rows, texts, guesses, strict=True):
        try:
            matches = _found(guess, states, text, claims, batch)
        except Exception as exc:  # a bug in matching, on this text: say so, go on
            # Left unmatched, this version would come first again in every later cycle and stop
            # each one here: it is marked matched, with the error logged and summarised.
            log.exception("matching %s failed", article.url)
            summary.failed[article.url] = f"{type(exc).__name__}: {exc}"[:300]
            matches = []
        for found in matches:  # oldest news first
            _record(s, found, version, now, summary, batch, alerts)
        version.matched_at = now
        summary.versions += 1


def match_pending(engine: Engine, claims: Sequence[Claim], now: datetime,
                  alerts: AlertsConfig | None = None, pool: WorkerPool | None = None,
                  ahead: Prematches | None = None) -> MatchSummary:
    """Compare every unmatched version with every claim, a batch of versions per transaction.

    With `alerts`, each new development's pending alerts are written in its transaction.
    With `pool`, claims.match runs there, ahead of the one thread that decides and records;
    `ahead` holds what the read stage already worked out while it read the pages.
    """
    summary = MatchSummary()
    size = 1  # doubling up to the maximum: a short cycle still commits nearly version by version
    while True:
        with session(engine) as s:
            pending = articles.unmatched_version_ids(s, BATCH)
        if not pending:
            return summary
        while pending:
            chunk, pending = pending[:size], pending[size:]
            with session(engine) as s:
                _match_batch(s, chunk, claims, now, summary, alerts, pool, ahead)
            crashpoints.reached("after-matches-stored")  # these versions' matches committed
            if summary.developments:  # a development and its alerts are committed
                crashpoints.reached("after-development-stored")
            size = min(size * 2, MAX_VERSIONS_PER_TRANSACTION)
