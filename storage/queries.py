"""The named reads and writes the pipeline needs; every write is one short transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from claimwatch.flows.engine.claims import Claim
from claimwatch.flows.fetch import health
from claimwatch.flows.seeds import SourceSpec
from claimwatch.storage.models import (
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
HEALTH_FIELDS = tuple(health.Health.__dataclass_fields__)  # the Source columns health decides


def sync_sources(s: Session, specs: Sequence[SourceSpec], now: datetime) -> list[Source]:
    """Insert new sources, refresh names and tags; return the configured ones in file order."""
    existing = {src.url: src for src in s.exec(select(Source)).all()}
    missing = [spec for spec in specs if spec.url not in existing]
    for spec in missing:  # another worker may add the same source at the same moment
        add_unless_present(s, Source(kind=spec.kind, name=spec.name, url=spec.url,
                                     tags=list(spec.tags), added_at=now), ("url",))
    if missing:
        existing = {src.url: src for src in s.exec(select(Source)).all()}
    result: list[Source] = []
    for spec in specs:
        source = existing[spec.url]
        if (source.kind, source.name, list(source.tags)) != (spec.kind, spec.name, list(spec.tags)):
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


def add_unless_present(s: Session, row: SQLModel, keys: Sequence[str]) -> bool:
    """INSERT … ON CONFLICT (keys) DO NOTHING, on SQLite and PostgreSQL alike; True if added.

    Two workers storing the same natural key at once: one row, and no IntegrityError for the
    other (RELIABILITY.md rule 11). The row is not added to the session: read it back by key.
    """
    return bool(insert_missing(s, [row], keys))


def insert_missing(s: Session, rows: Sequence[SQLModel], keys: Sequence[str]
                   ) -> set[tuple[Any, ...]]:
    """add_unless_present for many rows of one table in one statement: the keys of those added.

    One compiled INSERT for the whole batch (SQLAlchemy's "insertmanyvalues") instead of one
    statement built per row: building statements was most of the writer's CPU (issue 8).
    """
    if not rows:
        return set()
    table = type(rows[0]).__table__  # type: ignore[attr-defined]
    values = [row.model_dump(exclude={"id"} if getattr(row, "id", 0) is None else set())
              for row in rows]
    insert = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (insert(table).on_conflict_do_nothing(index_elements=list(keys))
                 .returning(*(table.c[k] for k in keys)))
    s.flush()
    return {tuple(row) for row in s.execute(statement, values)}


def articles_by_url(s: Session, urls: Iterable[str]) -> dict[str, Article]:
    urls = list(urls)
    if not urls:
        return {}
    return {a.url: a for a in s.exec(select(Article).where(col(Article.url).in_(urls))).all()}


CHUNK = 500  # values per IN (...) list: far below SQLite's and PostgreSQL's limits


def article_ids_by_url(s: Session, urls: Iterable[str]) -> dict[str, int]:
    """URL -> id of the articles stored under these URLs, a chunk of URLs per query."""
    urls = sorted(urls)
    found: dict[str, int] = {}
    for start in range(0, len(urls), CHUNK):
        query = sa_select(col(Article.url), col(Article.id)).where(
            col(Article.url).in_(urls[start:start + CHUNK]))
        found.update(s.execute(query).tuples().all())
    return found


def link_items(s: Session, item_ids: Sequence[int], article_id: int) -> None:
    """These items lead to an article already stored: nothing to fetch for them."""
    for start in range(0, len(item_ids), CHUNK):
        s.execute(update(Item).where(col(Item.id).in_(item_ids[start:start + CHUNK]))
                  .values(article_id=article_id, pending=False))


def latest_versions(s: Session, article_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """Article id -> (number, text hash) of its latest version, without loading any text."""
    ids = list(article_ids)
    if not ids:
        return {}
    query = (sa_select(col(ArticleVersion.article_id), col(ArticleVersion.version),
                       col(ArticleVersion.text_hash))
             .where(col(ArticleVersion.article_id).in_(ids)))
    latest: dict[int, tuple[int, str]] = {}
    for article_id, version, text_hash in s.execute(query):
        if article_id not in latest or version > latest[article_id][0]:
            latest[article_id] = (version, text_hash)
    return latest


def take_versions(s: Session, version_ids: Sequence[int], now: datetime) -> set[int]:
    """Mark versions matched before matching them; the ids this transaction took (not those
    another process already took).

    On PostgreSQL the rows stay locked until this transaction ends, so a second worker waits
    and then finds them taken; if this transaction rolls back, they are unmatched again.
    """
    if not version_ids:
        return set()
    statement = (update(ArticleVersion)
                 .where(col(ArticleVersion.id).in_(list(version_ids)),
                        col(ArticleVersion.matched_at).is_(None))
                 .values(matched_at=now).returning(col(ArticleVersion.id)))
    return {row[0] for row in s.execute(statement).all()}


def lock_claims(s: Session) -> None:
    """Hold every claim row until the transaction ends: one decision about claims at a time
    across workers (SQLite's BEGIN IMMEDIATE already serializes; FOR UPDATE is not sent there)."""
    s.exec(select(ClaimRecord.id).order_by(col(ClaimRecord.id)).with_for_update()).all()


def _has_developments(s: Session, claim_id: str) -> bool:
    query = select(func.count()).select_from(Development).where(Development.claim_id == claim_id)
    return bool(s.exec(query).one())


def items_by_key(s: Session, source_id: int, keys: Iterable[str]) -> dict[str, Item]:
    keys = list(keys)
    if not keys:
        return {}
    query = select(Item).where(Item.source_id == source_id, col(Item.key).in_(keys))
    return {item.key: item for item in s.exec(query).all()}


def unmatched_version_ids(s: Session, limit: int = 500) -> list[int]:
    """Unmatched versions' ids, oldest news first, whatever order the pages arrived in: a
    claim's state must not depend on which download finished first (an old "scheduled" report
    read after a newer "postponed" one would otherwise move the state back)."""
    query = _unmatched(select(ArticleVersion.id)).limit(limit)
    return [i for i in s.exec(query).all() if i is not None]


def _unmatched(query: Any) -> Any:
    published = func.coalesce(Article.published_at, ArticleVersion.fetched_at)
    return (query.join(Article, col(Article.id) == ArticleVersion.article_id)
            .where(col(ArticleVersion.matched_at).is_(None))
            .order_by(published, col(Article.url), col(ArticleVersion.version)))


def versions_with_articles(s: Session, version_ids: Sequence[int]
                           ) -> list[tuple[ArticleVersion, Article]]:
    """These versions with their articles, in the order of `version_ids`; missing ones left out."""
    if not version_ids:
        return []
    query = (select(ArticleVersion, Article)
             .join(Article, col(Article.id) == ArticleVersion.article_id)
             .where(col(ArticleVersion.id).in_(list(version_ids))))
    found = {version.id: (version, article) for version, article in s.exec(query).all()}
    return [found[i] for i in version_ids if i in found]


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


def due(source: Source, now: datetime) -> bool:
    """A source backing off after failures is polled again only once its time has come."""
    return health.due(_health(source), now)


def _health(source: Source) -> health.Health:
    return health.Health(**{name: getattr(source, name) for name in HEALTH_FIELDS})


def _set_health(source: Source, state: health.Health) -> None:
    for name in HEALTH_FIELDS:
        setattr(source, name, getattr(state, name))


def record_success(source: Source, status: str, now: datetime) -> health.Notice | None:
    """Store a good poll (decided in flows/health.py); a "recovered" notice when it is one."""
    state, kind = health.after_success(_health(source), status, now)
    _set_health(source, state)
    return health.notice(kind, source.name, source.url, status, now)


def record_failure(source: Source, error: str, soft: bool, retry_after_s: float | None,
                   now: datetime) -> health.Notice | None:
    """Store a failed poll with its backoff; an "unhealthy" notice the one time it is due."""
    state, kind = health.after_failure(_health(source), error, soft, retry_after_s, now)
    _set_health(source, state)
    return health.notice(kind, source.name, source.url, error, now)
