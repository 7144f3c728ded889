"""New article versions -> matches and developments, decided in the order things happened.

Versions are taken in the order their news was reported (ArticleVersion.reported_at), never in
fetch order; each is judged against its claims' states as of that moment (developments.fold
over the developments reported before it) with the developments of the 48 hours before it as
"the same news". So the same articles give the same states and developments whether they
arrive in one cycle or in three. The assessments are pure (worked out ahead in the worker pool
when possible); decisions and writes happen here, in one thread, a batch per transaction.
"""

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
from claimwatch.flows.engine.claims import ArticleText, Assessment, Claim, ClaimMatch, Recent
from claimwatch.flows.engine.developments import KnownDevelopment, NewDevelopment, Supports
from claimwatch.flows.engine.relate import SAME_NEWS
from claimwatch.flows.stages.prematch import Prematches
from claimwatch.flows.workers import WorkerPool
from claimwatch.storage import articles
from claimwatch.storage import claims as records
from claimwatch.storage.db import Engine, Session, session
from claimwatch.storage.models import Article, ArticleVersion, ClaimRecord, Development, Match

log = logging.getLogger("claimwatch.matching")
BATCH = 200  # versions listed at a time
# Versions matched per transaction at most: one commit per batch instead of per version
# (issue 8), while the claim rows it locks are held only briefly.
MAX_VERSIONS_PER_TRANSACTION = 50


@dataclass(slots=True)
class MatchSummary:
    versions: int = 0
    matches: int = 0
    developments: list[int] = field(default_factory=list)  # ids of new developments
    failed: dict[str, str] = field(default_factory=dict)  # article URL -> why matching it failed


@dataclass(slots=True)
class _Batch:
    """What one transaction knows of the claims: their rows and their developments so far.

    The claim rows are locked for the whole transaction, so nothing else can change them.
    """

    records: dict[str, ClaimRecord]
    known: dict[str, list[KnownDevelopment]] = field(default_factory=dict)  # loaded on demand

    def known_of(self, s: Session, claim_id: str) -> list[KnownDevelopment]:
        if claim_id not in self.known:
            self.known[claim_id] = _known(s, claim_id)
        return self.known[claim_id]


def _known(s: Session, claim_id: str) -> list[KnownDevelopment]:
    rows = records.developments_of(s, claim_id)
    prints = records.fingerprints_of(s, [r.id for r in rows if r.id is not None])
    return [
        KnownDevelopment(id=r.id, claim_id=r.claim_id, relation=r.relation,  # type: ignore[arg-type]
                         facts=dict(r.facts), fingerprints=tuple(prints.get(r.id, [])),  # type: ignore[arg-type]
                         reported_at=r.reported_at or r.first_seen_at,
                         changes={k: (v[0], v[1]) for k, v in dict(r.changes).items()})
        for r in rows
    ]


def _when(version: ArticleVersion) -> datetime:
    found = version.reported_at or version.fetched_at
    assert found is not None
    return found


def _record(s: Session, found: ClaimMatch, version: ArticleVersion, now: datetime,
            summary: MatchSummary, batch: _Batch, state: dict[str, str],
            alerts: AlertsConfig | None) -> None:
    record = batch.records[found.claim_id]
    assert version.id is not None
    known = batch.known_of(s, found.claim_id)
    decision = developments.decide(found, state, known, version.fingerprint, now)
    development_id: int | None = None
    created: Development | None = None
    if isinstance(decision, NewDevelopment):
        row = Development(claim_id=found.claim_id, relation=decision.relation,
                          summary=decision.summary,
                          changes={k: list(v) for k, v in decision.changes.items()},
                          facts=dict(decision.new_state), first_seen_at=now,
                          reported_at=_when(version))
        records.add(s, row)
        development_id, created = row.id, row
        summary.developments.append(row.id)  # type: ignore[arg-type]
        batch.known.pop(found.claim_id, None)  # re-read with the new one
        seed = dict(record.facts)
        record.state = developments.fold(seed, batch.known_of(s, found.claim_id))
        record.updated_at = now
    elif isinstance(decision, Supports):
        development_id = decision.development_id
        batch.known.pop(found.claim_id, None)  # its fingerprints changed
    match = Match(claim_id=found.claim_id, article_version_id=version.id, relation=found.relation,
                  evidence=found.evidence, facts=dict(found.facts), score=found.score,
                  development_id=development_id, matched_at=now)
    records.add(s, match)
    if alerts is not None:  # the outbox rows commit with the development, or not at all
        outbox.enqueue(s, alerts, match, created, version, now)
    summary.matches += 1


def _text(version: ArticleVersion, article: Article) -> ArticleText:
    return ArticleText(url=article.url, title=version.title or article.title, text=version.text,
                       published_at=article.published_at)


def _assessed(text: ArticleText, claims: Sequence[Claim], pool: WorkerPool | None,
              ahead: Prematches | None) -> Future[list[Assessment]] | None:
    """The assessments: as worked out while the page was read, else in the pool."""
    found = ahead.take(text, claims) if ahead is not None else None
    if found is not None:
        done: Future[list[Assessment]] = Future()
        done.set_result(found)
        return done
    return pool.call(claim_engine.assess, text, claims) if pool else None


def _assessments(guess: Future[list[Assessment]] | None, text: ArticleText,
                 claims: Sequence[Claim]) -> list[Assessment]:
    if guess is not None:
        try:
            return guess.result()
        except BrokenExecutor:  # the pool is gone (a worker was killed): assess here instead
            pass
    return claim_engine.assess(text, claims)


def _judge(s: Session, assessment: Assessment, claims: Sequence[Claim], version: ArticleVersion,
           batch: _Batch) -> tuple[ClaimMatch, dict[str, str]]:
    """Relate one assessment to its claim's state as of the version's news."""
    when = _when(version)
    record = batch.records[assessment.claim_id]
    known = batch.known_of(s, assessment.claim_id)
    state = developments.fold(dict(record.facts), known, when)
    news = [Recent(k.relation, frozenset(k.changes), k.facts)
            for k in developments.recent(known, when, SAME_NEWS)]
    (found,) = claim_engine.judge([assessment], claims, {assessment.claim_id: state},
                                  {assessment.claim_id: news})
    return found, state


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
    guesses = [_assessed(text, claims, pool, ahead) for text in texts]
    for (version, article), text, guess in zip(rows, texts, guesses, strict=True):
        try:
            judged = [_judge(s, a, claims, version, batch)
                      for a in _assessments(guess, text, claims) if a.claim_id in batch.records]
        except Exception as exc:  # a bug in matching, on this text: say so, go on
            # Left unmatched, this version would come first again in every later cycle and stop
            # each one here: it is marked matched, with the error logged and summarised.
            log.exception("matching %s failed", article.url)
            summary.failed[article.url] = f"{type(exc).__name__}: {exc}"[:300]
            judged = []
        for found, state in judged:
            _record(s, found, version, now, summary, batch, state, alerts)
        version.matched_at = now
        summary.versions += 1


def match_pending(engine: Engine, claims: Sequence[Claim], now: datetime,
                  alerts: AlertsConfig | None = None, pool: WorkerPool | None = None,
                  ahead: Prematches | None = None) -> MatchSummary:
    """Compare every unmatched version with every claim, a batch of versions per transaction,
    in the order their news was reported.

    With `alerts`, each new development's pending alerts are written in its transaction.
    With `pool`, the assessments run there, ahead of the one thread that decides and records;
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
