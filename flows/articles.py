"""HTML -> ExtractedArticle with trafilatura (trafilatura lives here only), in a process pool."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

import trafilatura
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    Document,
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import use_config
from trafilatura.utils import load_html

MIN_TEXT_CHARS = 200  # shorter than a news brief: a landing page, a paywall stub, an error page
MAX_TREE_SIZE = 100_000  # elements; guards the extractor against pathological pages
# trafilatura 2.x takes the tree cap from its config, not from an argument.
CONFIG = use_config()
CONFIG.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))
HTML_LANG = re.compile(rb"<html[^>]*\blang\s*=\s*[\"']?([a-zA-Z]{2,3})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """The article body and its metadata; navigation, related links and comments left out."""

    url: str  # the URL the page was fetched from
    canonical_url: str | None  # <link rel=canonical> or og:url as the page declares it
    title: str
    author: str | None
    published_at: datetime | None
    language: str | None
    sitename: str | None
    text: str


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _language(html: str, declared: str | None) -> str | None:
    if declared:
        return declared.lower()[:8]
    found = HTML_LANG.search(html[:4096].encode("utf-8", "ignore"))
    return found.group(1).decode().lower() if found else None


def _metadata(tree: HtmlElement, url: str) -> Document:
    """Title, author, canonical URL, date and site name from meta tags, JSON-LD and <title>.

    trafilatura's with_metadata=True also searches bylines, categories, tags and licences with
    some forty XPath scans: a third of the extraction time for fields we never store (bench:
    `python -m bench`). This is its own cheap part, in its own order of precedence.
    """
    document = examine_meta(tree)
    if document.author and " " not in document.author:
        document.author = None  # a bare handle, as trafilatura also discards
    # trafilatura's JSON-LD reader has its own bugs (it guards them too); metadata is optional.
    with contextlib.suppress(Exception):
        document = extract_meta_json(tree, document)
    document.title = document.title or extract_title(tree)
    document.url = document.url or extract_url(tree, url)
    document.sitename = document.sitename or extract_sitename(tree)
    # Meta tags, JSON-LD, <time> and the URL, without the page-wide text scan.
    document.date = find_date(tree, url=document.url, original_date=True, extensive_search=False)
    return document


def extract(html: str, url: str) -> ExtractedArticle | None:
    """Return the article in the page, or None when there is no article text to read."""
    tree = load_html(html)
    if tree is None:
        return None
    body = trafilatura.bare_extraction(
        tree,  # copied by trafilatura: the metadata below reads the page as it was served
        url=url,
        fast=True,  # no second extractor as a fallback: 1.6x faster, equal token F1 (bench)
        include_comments=False,  # reader comments are not the article
        include_tables=False,
        config=CONFIG,
    )
    text = (body.text or "").strip() if isinstance(body, Document) else ""
    if len(text) < MIN_TEXT_CHARS:
        return None
    document = _metadata(tree, url)
    return ExtractedArticle(
        url=url,
        canonical_url=document.url if document.url and document.url != url else None,
        title=(document.title or "").strip()[:500],
        author=(document.author or None),
        published_at=_date(document.date),
        language=_language(html, document.language),
        sitename=(document.sitename or "").lstrip("@") or None,
        text=text,
    )


def _exit_when_gone(parent_pid: int) -> None:
    """End this worker once the process that started it is gone (killed with SIGKILL, say).

    Workers hold the pool's pipes and the forkserver's liveness pipe, so without this an
    orphaned pool, its forkserver and its resource tracker would outlive a killed cycle forever.
    """
    while True:
        time.sleep(1.0)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            os._exit(1)


def _warm(parent_pid: int | None = None) -> None:
    """Import trafilatura's lazy parts once per worker so the first page is not slower."""
    if parent_pid is not None:
        threading.Thread(target=_exit_when_gone, args=(parent_pid,), daemon=True).start()
    trafilatura.bare_extraction("<html><body><p>warm</p></body></html>")


class _Inline(Executor):
    """Runs extraction in the calling thread: one worker means no pool to pay for."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        future: Future[object] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


class Extractor:
    """A process pool sized to the cores: extraction is the one stage that must cost CPU."""

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._executor: Executor | None = None

    def __enter__(self) -> Extractor:
        if self._workers <= 1:
            self._executor = _Inline()
        else:
            # forkserver: the fetch threads already running must not be forked.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["flows.articles"])
            self._executor = ProcessPoolExecutor(
                max_workers=self._workers, mp_context=context, initializer=_warm,
                initargs=(os.getpid(),)
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def submit(self, html: str, url: str) -> Future[ExtractedArticle | None]:
        assert self._executor is not None, "use Extractor as a context manager"
        return self._executor.submit(extract, html, url)
