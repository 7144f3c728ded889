"""Sources and their items: what is configured, what each feed listed, what is left to read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from claimwatch.storage.inserts import CHUNK, add_unless_present, insert_missing
from claimwatch.storage.models import Item, Source, as_utc

PAGE_ITEM_KEY = "page"  # a watched page is its own single item
# The Source columns a source's health lives in (decided in flows/fetch/health.py).
HEALTH_COLUMNS = ("last_status", "error_score", "consecutive_failures", "unhealthy_reported",
                  "last_polled_at", "last_success_at", "next_poll_at")


class SourceSpec(Protocol):
    """A configured source, as flows/seeds.py reads it."""

    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def tags(self) -> Sequence[str]: ...


class ParsedItem(Protocol):
    """A feed entry, as flows/fetch/feeds.py parses it."""

    @property
    def key(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def revision(self) -> str: ...
    @property
    def published_at(self) -> datetime | None: ...


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


def all_sources(s: Session) -> list[Source]:
    return list(s.exec(select(Source).order_by(col(Source.id))).all())


def source(s: Session, source_id: int) -> Source:
    found = s.get(Source, source_id)
    assert found is not None, f"no source {source_id}"
    return found


def health_of(source: Source) -> dict[str, Any]:
    return {name: getattr(source, name) for name in HEALTH_COLUMNS}


def set_health(source: Source, values: Mapping[str, Any]) -> None:
    for name in HEALTH_COLUMNS:
        setattr(source, name, values[name])


def items_by_key(s: Session, source_id: int, keys: Iterable[str]) -> dict[str, Item]:
    keys = list(keys)
    if not keys:
        return {}
    query = select(Item).where(Item.source_id == source_id, col(Item.key).in_(keys))
    return {item.key: item for item in s.exec(query).all()}


def store_items(s: Session, source_id: int, parsed: Sequence[ParsedItem], now: datetime
                ) -> tuple[int, int]:
    """A feed's new entries in one INSERT (another worker's copy of one stands), changed ones
    (another revision) made pending again; (new, changed)."""
    known = items_by_key(s, source_id, (i.key for i in parsed))
    fresh: dict[str, Item] = {}
    changed = 0
    for entry in parsed:
        item = known.get(entry.key)
        if item is None:
            fresh.setdefault(entry.key, Item(
                source_id=source_id, key=entry.key, url=entry.url, title=entry.title,
                revision=entry.revision, published_at=entry.published_at, first_seen_at=now))
        elif item.revision != entry.revision:
            item.revision, item.title, item.url = entry.revision, entry.title, entry.url
            item.pending, item.read_attempts = True, 0
            changed += 1
    return len(insert_missing(s, list(fresh.values()), ("source_id", "key"))), changed


def page_urls(s: Session, page_source_ids: Iterable[int]) -> dict[int, str]:
    """Watched pages' URLs as configured (a login included), by source id."""
    return {source_id: source(s, source_id).url for source_id in page_source_ids}


def pend_pages(s: Session, item_urls: Mapping[int, str], now: datetime) -> None:
    """A watched page is read every cycle: its single item, with this URL, is made pending."""
    for source_id, url in item_urls.items():
        item = items_by_key(s, source_id, [PAGE_ITEM_KEY]).get(PAGE_ITEM_KEY)
        if item is None:
            add_unless_present(s, Item(source_id=source_id, key=PAGE_ITEM_KEY, url=url,
                                       title=source(s, source_id).name, first_seen_at=now),
                               ("source_id", "key"))
        else:
            item.pending, item.url = True, url
    s.flush()


def pending_items(s: Session, source_ids: Sequence[int]) -> list[tuple[int, str, bool]]:
    """(item id, URL, already linked) of these sources' items left to read: ids and URLs only
    (a cycle with 10,000 new entries made 10,000 ORM rows here before its first fetch)."""
    query = (select(Item.id, Item.url, Item.key, Item.article_id)
             .where(col(Item.pending).is_(True), col(Item.source_id).in_(list(source_ids))))
    return [(item_id, url, key == PAGE_ITEM_KEY or article_id is not None)  # type: ignore[misc]
            for item_id, url, key, article_id in s.exec(query).all()]


def link_items(s: Session, item_ids: Sequence[int], article_id: int) -> None:
    """These items lead to an article already stored: nothing to fetch for them."""
    for start in range(0, len(item_ids), CHUNK):
        s.execute(update(Item).where(col(Item.id).in_(item_ids[start:start + CHUNK]))
                  .values(article_id=article_id, pending=False))


def item_sources(s: Session, item_ids: Sequence[int]) -> dict[int, tuple[Item, Source]]:
    """Item id -> the item and its source."""
    query = (select(Item, Source).join(Source, col(Source.id) == Item.source_id)
             .where(col(Item.id).in_(list(item_ids))))
    return {item.id: (item, src) for item, src in s.exec(query).all()}  # type: ignore[misc]


def items_of_article(s: Session, article_id: int) -> list[tuple[Item, Source, datetime | None]]:
    """The items leading to an article, each with its source and that source's first item's
    first sighting (the source's first successful poll)."""
    items = s.exec(select(Item, Source).join(Source, col(Source.id) == Item.source_id)
                   .where(Item.article_id == article_id)).all()
    found = []
    for item, src in items:
        first = s.exec(select(func.min(Item.first_seen_at)).where(Item.source_id == src.id)).one()
        found.append((item, src, as_utc(first)))
    return found


def source_name_of_article(s: Session, article_id: int | None) -> str | None:
    query = (select(Source.name).join(Item, col(Item.source_id) == Source.id)
             .where(Item.article_id == article_id).order_by(col(Item.id)))
    return s.exec(query).first()



def sources_of_articles(s: Session, article_ids: Sequence[int | None]) -> dict[int, list[Source]]:
    """Article id -> the sources whose items lead to it (who found it), in source order."""
    wanted = [i for i in article_ids if i is not None]
    if not wanted:
        return {}
    # Pairs first: DISTINCT over whole Source rows fails on PostgreSQL (tags is JSON).
    pairs = s.exec(select(Item.article_id, Item.source_id)
                   .where(col(Item.article_id).in_(wanted)).distinct()).all()
    by_id = {src.id: src for src in s.exec(
        select(Source).where(col(Source.id).in_({source_id for _, source_id in pairs})))}
    found: dict[int, list[Source]] = {}
    for article_id, source_id in sorted(pairs, key=lambda pair: (pair[0] or 0, pair[1])):
        if article_id is not None:
            found.setdefault(article_id, []).append(by_id[source_id])
    return found
