"""Pending items -> a plan of pages to read, and what reading gave -> stored articles and
versions (the one writer). Fetching happens in parallel elsewhere and hands back frozen values;
every write is a short transaction made here, in the calling thread (reader's lesson about
"database is locked"), a batch of results at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from queue import Empty, Full, Queue

from claimwatch.flows.alerts.policy import AlertsConfig
from claimwatch.flows.extract import duplicates
from claimwatch.flows.extract.articles import ExtractedArticle
from claimwatch.flows.fetch.reading import ReadRequest, ReadResult
from claimwatch.flows.fetch.urls import canonicalize, credentials, resolve_canonical, without_userinfo
from claimwatch.flows.stages.polls import note_health, record_failure, record_success
from claimwatch.storage import articles, inserts, sources
from claimwatch.storage.db import Engine, Session, session
from claimwatch.storage.models import Article, ArticleVersion, Item, Source

MAX_READ_ATTEMPTS = 3  # a page that keeps timing out is given up after this many cycles
# Results per transaction at most: SQLite through sqlmodel costs ~1.8 ms per article committed
# one by one and ~0.1 ms in batches (issue 8), and a crash loses at most one batch's work.
READ_BATCH = 50
GATHER_S = 0.1  # how long a batch's first result waits for company (see _drain)


@dataclass(slots=True)
class ReadSummary:
    read: int = 0
    new_articles: int = 0
    new_versions: int = 0
    unchanged: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # url -> reason
    failed_pages: dict[str, str] = field(default_factory=dict)  # watched page name -> reason
    pages_read: int = 0  # watched pages read this cycle (the run summary counts sources)
    notices: list[dict[str, str]] = field(default_factory=list)  # watched pages' health notices


def plan_reads(engine: Engine, source_ids: Sequence[int], page_source_ids: Sequence[int],
               now: datetime) -> list[ReadRequest]:
    """Pending items of these sources, one request per canonical URL; known URLs need no fetch.

    Reads ids and URLs only, and looks the URLs up a chunk at a time: a cycle with 10,000 new
    entries made 10,000 ORM rows and 10,000 queries here, before the first page was fetched.
    """
    with session(engine) as s:
        pages = sources.page_urls(s, page_source_ids)
        # A watched page behind a login: its item keeps the URL without it (items are shown
        # and exported); the request gets it back, from the source's own URL.
        sources.pend_pages(s, {i: without_userinfo(url) for i, url in pages.items()}, now)
        logins = {canonicalize(url): url for url in pages.values() if credentials(url)[1]}
        rows = [(item_id, canonicalize(url), linked) for item_id, url, linked
                in sources.pending_items(s, [*source_ids, *page_source_ids])]
        # The same article through another link needs no fetch: the item points at it.
        known = articles.article_ids_by_url(s, {url for _, url, linked in rows if not linked})
        by_url: dict[str, list[int]] = {}
        found: dict[int, list[int]] = {}  # known article id -> items now pointing at it
        for item_id, url, linked in rows:
            if not linked and url in known:
                found.setdefault(known[url], []).append(item_id)
            else:
                by_url.setdefault(url, []).append(item_id)
        for article_id, item_ids in found.items():
            sources.link_items(s, item_ids, article_id)
    return [ReadRequest(logins.get(url, url), tuple(ids)) for url, ids in by_url.items()]


def _fingerprint(extracted: ExtractedArticle) -> int:
    if extracted.fingerprint is not None:
        return extracted.fingerprint
    return duplicates.fingerprint(extracted.text)


def reported_at(extracted: ExtractedArticle, version: int, now: datetime) -> datetime:
    """When this text's news was reported: the page's own modified time when it gives one,
    else its publication date for a first version, else now (an edit we just found)."""
    found = extracted.modified_at or (extracted.published_at if version == 1 else None)
    return min(found, now) if found is not None else now


def _articles(s: Session, read: dict[int, tuple[str, ExtractedArticle]], now: datetime,
              summary: ReadSummary) -> dict[str, Article]:
    """The batch's articles by URL; those not stored yet are added, in one statement."""
    firsts: dict[str, ExtractedArticle] = {}
    for url, extracted in read.values():
        firsts.setdefault(url, extracted)
    found = articles.articles_by_url(s, firsts)
    new = [Article(url=url, title=a.title, outlet=a.sitename, author=a.author,
                   language=a.language, published_at=a.published_at, first_seen_at=now)
           for url, a in firsts.items() if url not in found]
    # Another worker may be storing the same articles right now: theirs stand, found below.
    summary.new_articles += len(inserts.insert_missing(s, new, ("url",)))
    found.update(articles.articles_by_url(s, [a.url for a in new]))
    return found


def _store_articles(s: Session, results: Sequence[ReadResult], now: datetime,
                    summary: ReadSummary) -> dict[int, int]:
    """New articles and new versions of the batch, a statement each: result index -> article id.

    A version is new when its text differs from the latest one's (text_hash); two results of
    one batch for one article are taken in order, as if stored one after the other.
    """
    read = {index: (resolve_canonical(r.final_url, r.article.canonical_url), r.article)
            for index, r in enumerate(results) if r.article is not None}
    found = _articles(s, read, now, summary)
    latest = articles.latest_versions(s, [a.id for a in found.values() if a.id is not None])
    ids: dict[int, int] = {}
    versions: list[tuple[Article, ArticleVersion]] = []
    for index, (url, extracted) in read.items():
        article = found[url]
        assert article.id is not None
        ids[index] = article.id
        # Computed by the extraction worker; here only for articles made elsewhere (tests, tools).
        text_hash = extracted.text_hash or duplicates.text_hash(extracted.text)
        number, last_hash = latest.get(article.id, (0, None))
        if last_hash == text_hash:
            summary.unchanged += 1
            continue
        latest[article.id] = (number + 1, text_hash)
        versions.append((article, ArticleVersion(
            article_id=article.id, version=number + 1, title=extracted.title,
            text=extracted.text, text_hash=text_hash, fingerprint=_fingerprint(extracted),
            fetched_at=now, reported_at=reported_at(extracted, number + 1, now))))
    added = inserts.insert_missing(s, [v for _, v in versions], ("article_id", "version"))
    for article, version in versions:
        if (version.article_id, version.version) not in added:
            summary.unchanged += 1  # another worker stored this version a moment ago
            continue
        article.latest_version, article.title = version.version, version.title or article.title
        summary.new_versions += version.version > 1
    return ids


def store_read(engine: Engine, result: ReadResult, now: datetime, summary: ReadSummary,
               alerts: AlertsConfig | None = None) -> None:
    """Store what reading one URL gave: a new article, a new version, or the failure."""
    store_reads(engine, [result], now, summary, alerts)


def store_reads(engine: Engine, results: Sequence[ReadResult], now: datetime,
                summary: ReadSummary, alerts: AlertsConfig | None = None) -> None:
    """Store what reading these URLs gave in one transaction: all of it is committed, or none.

    One commit per batch instead of per article: one writer thread serves every reader.
    """
    with session(engine) as s:
        by_id = sources.item_sources(s, [i for result in results for i in result.request.item_ids])
        article_ids = _store_articles(s, results, now, summary)
        for index, result in enumerate(results):
            _store_result(s, result, article_ids.get(index),
                          [by_id[i] for i in result.request.item_ids if i in by_id],
                          now, summary, alerts)


def _store_result(s: Session, result: ReadResult, article_id: int | None,
                  pairs: Sequence[tuple[Item, Source]], now: datetime, summary: ReadSummary,
                  alerts: AlertsConfig | None) -> None:
    summary.read += 1
    if result.error or article_id is None:
        error = result.error or "no article text found"
        summary.failed[without_userinfo(result.request.url)] = error
        for item, source in pairs:
            item.fetch_error, item.read_attempts = error, item.read_attempts + 1
            item.pending = item.read_attempts < MAX_READ_ATTEMPTS and "timed out" in error
            if item.key == sources.PAGE_ITEM_KEY:
                note_health(s, record_failure(source, error, True, None, now),
                            summary.notices, alerts)
                summary.failed_pages[source.name] = error
        return
    for item, source in pairs:
        item.article_id, item.pending, item.fetch_error = article_id, False, None
        if item.key == sources.PAGE_ITEM_KEY:
            summary.pages_read += 1
            note_health(s, record_success(source, "ok", now), summary.notices, alerts)


class _End:
    """The last thing a batches() pump puts on its queue: the results ran out, or failed."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


def batches(results: Iterable[ReadResult], size: int = READ_BATCH) -> Iterator[list[ReadResult]]:
    """Results grouped as they are ready (group commit): what arrived within GATHER_S of the
    first one, up to `size`, so a batch never waits long for results still being read.

    A thread pulls `results` into a short queue; its errors are raised here, in the writer.
    """
    queue: Queue[ReadResult | _End] = Queue(maxsize=size)
    stop = threading.Event()

    def put(value: ReadResult | _End) -> bool:
        while not stop.is_set():
            try:
                queue.put(value, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def pump() -> None:
        try:
            for result in results:
                if not put(result):
                    return
            put(_End(None))
        except BaseException as exc:  # handed to the writer, which raises it
            put(_End(exc))

    thread = threading.Thread(target=pump, name="read-results", daemon=True)
    thread.start()
    try:
        yield from _drain(queue, size)
    finally:
        stop.set()
        thread.join()


def _drain(queue: Queue[ReadResult | _End], size: int) -> Iterator[list[ReadResult]]:
    gather = 0.0  # the first result is stored at once: a short cycle shows progress early
    while True:
        items = [queue.get()]
        # A transaction costs the writer ~2 ms however small (issue 8): what arrives within
        # GATHER_S of the first result joins its batch; a crash loses no more than before.
        until = time.monotonic() + gather
        gather = GATHER_S
        while len(items) < size and not isinstance(items[-1], _End):
            try:
                items.append(queue.get(timeout=max(0.0, until - time.monotonic())))
            except Empty:
                break
        batch = [item for item in items if not isinstance(item, _End)]
        if batch:
            yield batch
        if isinstance(items[-1], _End):
            if items[-1].error is not None:
                raise items[-1].error
            return
