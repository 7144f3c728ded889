"""Articles and their versions: one row per canonical URL, one version per distinct text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from claimwatch.storage.inserts import CHUNK
from claimwatch.storage.models import Article, ArticleVersion, Item


def articles_by_url(s: Session, urls: Iterable[str]) -> dict[str, Article]:
    urls = list(urls)
    if not urls:
        return {}
    return {a.url: a for a in s.exec(select(Article).where(col(Article.url).in_(urls))).all()}


def article_ids_by_url(s: Session, urls: Iterable[str]) -> dict[str, int]:
    """URL -> id of the articles stored under these URLs, a chunk of URLs per query."""
    urls = sorted(urls)
    found: dict[str, int] = {}
    for start in range(0, len(urls), CHUNK):
        query = sa_select(col(Article.url), col(Article.id)).where(
            col(Article.url).in_(urls[start:start + CHUNK]))
        found.update((url, article_id) for url, article_id in s.execute(query).all())
    return found


def article(s: Session, article_id: int | None) -> Article | None:
    return s.get(Article, article_id) if article_id is not None else None


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


def unmatched_version_ids(s: Session, limit: int = 500) -> list[int]:
    """Unmatched versions' ids, oldest news first (reported_at), whatever order the pages
    arrived in: a claim's state must not depend on which download finished first."""
    query = _unmatched(select(ArticleVersion.id)).limit(limit)
    return [i for i in s.exec(query).all() if i is not None]


def _unmatched(query: Any) -> Any:
    published = func.coalesce(ArticleVersion.reported_at, Article.published_at,
                              ArticleVersion.fetched_at)
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


def archive(s: Session) -> list[tuple[Article, list[tuple[Any, ...]], list[str]]]:
    """Every article with its versions' (version, title, text hash, fetched at), never their
    text, and the URLs feeds listed it under: three queries, whatever the number of articles."""
    stored = list(s.exec(select(Article).order_by(col(Article.id))).all())
    versions: dict[int, list[tuple[Any, ...]]] = {}
    query = (sa_select(col(ArticleVersion.article_id), col(ArticleVersion.version),
                       col(ArticleVersion.title), col(ArticleVersion.text_hash),
                       col(ArticleVersion.fetched_at))
             .order_by(col(ArticleVersion.article_id), col(ArticleVersion.version)))
    for article_id, *rest in s.execute(query):
        versions.setdefault(article_id, []).append(tuple(rest))
    listed: dict[int, list[str]] = {}
    items = (sa_select(col(Item.article_id), col(Item.url))
             .where(col(Item.article_id).is_not(None)).order_by(col(Item.id)))
    for article_id, url in s.execute(items):
        if url not in listed.setdefault(article_id, []):
            listed[article_id].append(url)
    return [(a, versions.get(a.id or 0, []), listed.get(a.id or 0, [])) for a in stored]
