"""The named reads and writes the pipeline needs; every write is one short transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from flows.claims import Claim
from flows.seeds import SourceSpec
from storage.models import (
    Article,
    ArticleVersion,
    ClaimRecord,
    Development,
    Item,
    Match,
    Run,
    Source,
)

PAGE_ITEM_KEY = "page"  # a watched page is its own single item


def sync_sources(s: Session, specs: Sequence[SourceSpec], now: datetime) -> list[Source]:
    """Insert new sources, refresh names and tags; return the configured ones in file order."""
    existing = {src.url: src for src in s.exec(select(Source)).all()}
    result: list[Source] = []
    for spec in specs:
        source = existing.get(spec.url)
        if source is None:
            source = Source(kind=spec.kind, name=spec.name, url=spec.url, tags=list(spec.tags),
                            added_at=now)
            s.add(source)
        else:
            source.kind, source.name, source.tags = spec.kind, spec.name, list(spec.tags)
        result.append(source)
    s.flush()
    return result


def sync_claims(s: Session, claims: Sequence[Claim], now: datetime) -> None:
    """Insert new claims with their seed facts as state; keep the state of known ones."""
    existing = {c.id: c for c in s.exec(select(ClaimRecord)).all()}
    for claim in claims:
        record = existing.get(claim.id)
        if record is None:
            s.add(ClaimRecord(id=claim.id, statement=claim.statement, keywords=list(claim.keywords),
                              facts=dict(claim.facts), state=dict(claim.facts), added_at=now))
            continue
        if dict(record.facts) != dict(claim.facts) and not _has_developments(s, claim.id):
            record.state = dict(claim.facts)  # seed edited before anything moved it: follow it
        record.statement, record.keywords, record.facts = (
            claim.statement, list(claim.keywords), dict(claim.facts))


def _has_developments(s: Session, claim_id: str) -> bool:
    query = select(func.count()).select_from(Development).where(Development.claim_id == claim_id)
    return bool(s.exec(query).one())


def items_by_key(s: Session, source_id: int, keys: Iterable[str]) -> dict[str, Item]:
    keys = list(keys)
    if not keys:
        return {}
    query = select(Item).where(Item.source_id == source_id, col(Item.key).in_(keys))
    return {item.key: item for item in s.exec(query).all()}


def article_by_url(s: Session, url: str) -> Article | None:
    return s.exec(select(Article).where(Article.url == url)).first()


def latest_version(s: Session, article_id: int) -> ArticleVersion | None:
    query = (select(ArticleVersion).where(ArticleVersion.article_id == article_id)
             .order_by(col(ArticleVersion.version).desc()))
    return s.exec(query).first()


def unmatched_versions(s: Session, limit: int = 500) -> list[ArticleVersion]:
    query = (select(ArticleVersion).where(col(ArticleVersion.matched_at).is_(None))
             .order_by(col(ArticleVersion.id)).limit(limit))
    return list(s.exec(query).all())


def claim_records(s: Session, ids: Iterable[str] | None = None) -> list[ClaimRecord]:
    query = select(ClaimRecord).order_by(col(ClaimRecord.id))
    if ids is not None:
        query = query.where(col(ClaimRecord.id).in_(list(ids)))
    return list(s.exec(query).all())


def developments_of(s: Session, claim_id: str) -> list[Development]:
    query = (select(Development).where(Development.claim_id == claim_id)
             .order_by(col(Development.id)))
    return list(s.exec(query).all())


def fingerprints_of(s: Session, development_ids: Sequence[int]) -> dict[int, list[int]]:
    """Text fingerprints of the article versions supporting each development."""
    if not development_ids:
        return {}
    query = (select(Match.development_id, ArticleVersion.fingerprint)
             .join(ArticleVersion, col(ArticleVersion.id) == Match.article_version_id)
             .where(col(Match.development_id).in_(list(development_ids))))
    found: dict[int, list[int]] = {d: [] for d in development_ids}
    for development_id, fingerprint in s.exec(query).all():
        if development_id is not None:
            found[development_id].append(fingerprint)
    return found


def start_run(s: Session, now: datetime) -> Run:
    run = Run(started_at=now)
    s.add(run)
    s.flush()
    return run


def developments_since(s: Session, claim_id: str | None, since: datetime | None
                       ) -> list[Development]:
    query = select(Development).order_by(col(Development.first_seen_at), col(Development.id))
    if claim_id:
        query = query.where(Development.claim_id == claim_id)
    if since:
        query = query.where(col(Development.first_seen_at) >= since)
    return list(s.exec(query).all())


def sources_of(s: Session, development_id: int) -> list[tuple[Match, ArticleVersion, Article]]:
    """Every match supporting a development with its article, oldest first."""
    query = (select(Match, ArticleVersion, Article)
             .join(ArticleVersion, col(ArticleVersion.id) == Match.article_version_id)
             .join(Article, col(Article.id) == ArticleVersion.article_id)
             .where(Match.development_id == development_id)
             .order_by(col(Match.id)))
    return [(m, v, a) for m, v, a in s.exec(query).all()]


def all_matches(s: Session) -> list[tuple[Match, ArticleVersion, Article]]:
    query = (select(Match, ArticleVersion, Article)
             .join(ArticleVersion, col(ArticleVersion.id) == Match.article_version_id)
             .join(Article, col(Article.id) == ArticleVersion.article_id)
             .order_by(col(Match.id)))
    return [(m, v, a) for m, v, a in s.exec(query).all()]


def due(source: Source, now: datetime) -> bool:
    """A source backing off after failures is polled again only once its time has come."""
    return source.next_poll_at is None or source.next_poll_at <= now


BASE_INTERVAL = timedelta(minutes=15)
MAX_BACKOFF = timedelta(hours=24)


def record_success(source: Source, status: str, now: datetime) -> None:
    source.last_status = status
    source.last_polled_at = now
    source.last_success_at = now
    source.error_score = 0.0
    source.consecutive_failures = 0
    source.next_poll_at = None


def record_failure(source: Source, error: str, soft: bool, retry_after_s: float | None,
                   now: datetime) -> None:
    """Linear backoff by error score (soft errors weigh half), capped at 24 h; Retry-After wins."""
    source.last_status = error[:500]
    source.last_polled_at = now
    source.error_score += 0.5 if soft else 1.0
    source.consecutive_failures += 1
    wait = min(BASE_INTERVAL * source.error_score, MAX_BACKOFF)
    if retry_after_s is not None:
        wait = max(wait, timedelta(seconds=min(retry_after_s, MAX_BACKOFF.total_seconds())))
    source.next_poll_at = now + wait
