"""Claims, their matches and developments: the engine's record, and the reads that show it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from claimwatch.storage.inserts import add_unless_present
from claimwatch.storage.models import Article, ArticleVersion, ClaimRecord, Development, Match


class ClaimSpec(Protocol):
    """A claim as seeds/claims.toml states it (flows/engine/claims.Claim)."""

    @property
    def id(self) -> str: ...
    @property
    def statement(self) -> str: ...
    @property
    def keywords(self) -> Sequence[str]: ...
    @property
    def facts(self) -> Mapping[str, str]: ...


def sync_claims(s: Session, claims: Sequence[ClaimSpec], now: datetime) -> None:
    """Insert new claims with their seed facts as state; keep the state of known ones."""
    existing = {c.id: c for c in s.exec(select(ClaimRecord)).all()}
    for claim in claims:
        record = existing.get(claim.id)
        if record is None:
            add_unless_present(s, ClaimRecord(
                id=claim.id, statement=claim.statement, keywords=list(claim.keywords),
                facts=dict(claim.facts), state=dict(claim.facts), added_at=now), ("id",))
            continue
        if dict(record.facts) != dict(claim.facts) and not _has_developments(s, claim.id):
            record.state = dict(claim.facts)  # seed edited before anything moved it: follow it
        seed = (claim.statement, list(claim.keywords), dict(claim.facts))
        if (record.statement, list(record.keywords), dict(record.facts)) != seed:
            # written only when changed: shards running at once then never queue on these rows
            record.statement, record.keywords, record.facts = seed


def _has_developments(s: Session, claim_id: str) -> bool:
    query = select(func.count()).select_from(Development).where(Development.claim_id == claim_id)
    return bool(s.exec(query).one())


def claim_records(s: Session, ids: Iterable[str] | None = None) -> list[ClaimRecord]:
    query = select(ClaimRecord).order_by(col(ClaimRecord.id))
    if ids is not None:
        query = query.where(col(ClaimRecord.id).in_(list(ids)))
    return list(s.exec(query).all())


def claim(s: Session, claim_id: str | None) -> ClaimRecord | None:
    return s.get(ClaimRecord, claim_id) if claim_id else None


def lock_claims(s: Session) -> None:
    """Hold every claim row until the transaction ends: one decision about claims at a time
    across workers (SQLite's BEGIN IMMEDIATE already serializes; FOR UPDATE is not sent there)."""
    s.exec(select(ClaimRecord.id).order_by(col(ClaimRecord.id)).with_for_update()).all()


def add(s: Session, row: Development | Match) -> None:
    """Store a new development or match in the caller's transaction; its id is set."""
    s.add(row)
    s.flush()


def development(s: Session, development_id: int | None) -> Development | None:
    return s.get(Development, development_id) if development_id is not None else None


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


def developments_since(s: Session, claim_id: str | None, since: datetime | None
                       ) -> list[Development]:
    query = select(Development).order_by(col(Development.first_seen_at), col(Development.id))
    if claim_id:
        query = query.where(Development.claim_id == claim_id)
    if since:
        query = query.where(col(Development.first_seen_at) >= since)
    return list(s.exec(query).all())


def match_with_article(s: Session, match_id: int | None
                       ) -> tuple[Match, ArticleVersion, Article] | None:
    """A match with the version and article it was found in."""
    found = s.get(Match, match_id) if match_id is not None else None
    version = s.get(ArticleVersion, found.article_version_id) if found else None
    article = s.get(Article, version.article_id) if version else None
    if found is None or version is None or article is None:
        return None
    return found, version, article


def confirming_articles(s: Session, claim_id: str) -> int:
    """How many distinct articles have confirmed a claim."""
    query = (select(func.count(func.distinct(ArticleVersion.article_id)))
             .join(Match, col(Match.article_version_id) == ArticleVersion.id)
             .where(Match.claim_id == claim_id, Match.relation == "confirms"))
    return int(s.exec(query).one())


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


REPORT_MATCH_COLUMNS = (
    "match_id", "claim_id", "relation", "evidence", "development_id", "matched_at", "article_id",
    "version", "version_title", "fingerprint", "fetched_at", "url", "article_title", "outlet",
    "published_at",
)


def report_matches(s: Session, claim_id: str | None = None) -> list[tuple[Any, ...]]:
    """Every match with its article's metadata, never its text (REPORT_MATCH_COLUMNS order).

    One query instead of one per development: the report reads 10,000 matches in well under
    a second this way, where loading full versions would drag every article body along.
    """
    columns: tuple[Any, ...] = (
        Match.id, Match.claim_id, Match.relation, Match.evidence, Match.development_id,
        Match.matched_at, ArticleVersion.article_id, ArticleVersion.version, ArticleVersion.title,
        ArticleVersion.fingerprint, ArticleVersion.fetched_at, Article.url, Article.title,
        Article.outlet, Article.published_at)
    # sqlalchemy's select: sqlmodel's typed overloads stop at four columns.
    query = (sa_select(*columns)
             .join(ArticleVersion, col(ArticleVersion.id) == Match.article_version_id)
             .join(Article, col(Article.id) == ArticleVersion.article_id)
             .order_by(col(Match.id)))
    if claim_id:
        query = query.where(col(Match.claim_id) == claim_id)
    return [tuple(row) for row in s.connection().execute(query).all()]
