"""HTML -> ExtractedArticle with trafilatura (trafilatura lives here only), in a process pool."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import ParamSpec, TypeVar

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

from flows import duplicates
from flows.charsets import decode

MIN_TEXT_CHARS = 200  # shorter than a news brief: a landing page, a paywall stub, an error page
PAGES_PER_WORKER = 500  # then the pool is replaced: see Extractor
MAX_TREE_SIZE = 100_000  # elements; guards the extractor against pathological pages
# trafilatura 2.x takes the tree cap from its config, not from an argument.
CONFIG = use_config()
CONFIG.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # mallopt() parameters, from glibc's malloc.h
P = ParamSpec("P")
T = TypeVar("T")
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
    # Worked out here, in the extraction process, so that the one writer does not have to.
    text_hash: str | None = None  # duplicates.text_hash(text)
    fingerprint: int | None = None  # duplicates.fingerprint(text)


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
    text_hash, fingerprint = duplicates.signature(text)
    return ExtractedArticle(
        url=url,
        canonical_url=document.url if document.url and document.url != url else None,
        title=(document.title or "").strip()[:500],
        author=(document.author or None),
        published_at=_date(document.date),
        language=_language(html, document.language),
        sitename=(document.sitename or "").lstrip("@") or None,
        text=text,
        text_hash=text_hash,
        fingerprint=fingerprint,
    )


def extract_page(body: bytes, content_type: str, url: str) -> ExtractedArticle | None:
    """extract() on a page as served: decoded here, in the worker, not in the fetching process
    (decoding and sending the text cost the one fetching process 0.65 ms a page; bytes 0.03)."""
    return extract(decode(body, content_type), url)


def _exit_when_gone(parent_pid: int) -> None:
    """End this worker once the process that started it is gone (killed with SIGKILL, say).

    Workers hold the pool's pipes and the forkserver's liveness pipe, so without this an
    orphaned pool, its forkserver and its resource tracker would outlive a killed cycle forever.
    """
    while True:
        time.sleep(1.0)
        if not _alive(parent_pid):
            os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # Killed but not yet reaped is gone all the same: its own parent may be waiting for the
    # pipes we hold to close before it reaps it (subprocess.run with capture_output does).
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[-1].split()[:1]
    except OSError:  # no /proc here: the signal check is all there is
        return True
    return state != [b"Z"]


def steady_heap() -> None:
    """Keep glibc's heap from growing with the number of pages read (peak RSS, issue 8).

    Big strings (pages) freed by one of many threads stay in that thread's malloc arena, and
    glibc raises its mmap threshold after each big free, so pages land in ever more fragmented
    arenas: the main process grew from 160 MB to 490 MB over 10,000 articles. Two arenas and a
    fixed 256 KiB threshold (big blocks are mapped, and unmapped when freed) hold it near
    160 MB at no measurable cost (bench). Elsewhere than glibc this does nothing.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_ARENA_MAX, 2)
        libc.mallopt(_M_MMAP_THRESHOLD, 256 * 1024)


def _warm(parent_pid: int | None = None) -> None:
    """Import trafilatura's lazy parts once per worker so the first page is not slower."""
    steady_heap()  # a worker's heap grew 81 -> 120 MB over 500 pages without, 79 -> 99 with
    if parent_pid is not None:
        threading.Thread(target=_exit_when_gone, args=(parent_pid,), daemon=True).start()
    trafilatura.bare_extraction("<html><body><p>warm</p></body></html>")


class _Inline(Executor):
    """Runs extraction in the calling thread: one worker means no pool to pay for."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


class Extractor:
    """A process pool sized to the cores: extraction is the one stage that must cost CPU
    (matching and feed parsing borrow it too).

    The pool is replaced by a fresh one every `pages_per_pool` pages per worker: a worker's
    heap (lxml, trafilatura's caches, fragmentation) only ever grows, so without this a long
    cycle would end with the biggest workers it ever had (bench: peak RSS). This is
    done here, not with max_tasks_per_child, which can hang a pool on Python 3.11
    (python/cpython#115634). The old pool finishes the pages it was given first, so two pools
    never hold memory at once; the fetch threads wait that long (a few pages) once per pool.
    """

    def __init__(self, workers: int, pages_per_pool: int = PAGES_PER_WORKER) -> None:
        self._workers = workers
        self._pages_per_pool = pages_per_pool * workers
        self._executor: Executor | None = None
        self._submitted = 0
        self._lock = threading.Lock()

    def __enter__(self) -> Extractor:
        steady_heap()  # before the fetch threads start, each wanting an arena of its own
        self._executor = _Inline() if self._workers <= 1 else self._pool()
        return self

    def _pool(self) -> ProcessPoolExecutor:
        # forkserver: the fetch threads already running must not be forked.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([
            "flows.articles", "flows.claims", "flows.feeds", "flows.prematch"])
        return ProcessPoolExecutor(max_workers=self._workers, mp_context=context,
                                   initializer=_warm, initargs=(os.getpid(),))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def submit(self, body: bytes, content_type: str, url: str) -> Future[ExtractedArticle | None]:
        return self.call(extract_page, body, content_type, url)

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run a pure CPU-bound function in the pool (claims.match, from flows/matching.py)."""
        assert self._executor is not None, "use Extractor as a context manager"
        if not isinstance(self._executor, ProcessPoolExecutor):  # inline: nothing to replace
            return self._executor.submit(fn, *args, **kwargs)
        with self._lock:  # fetch threads submit at once
            if self._submitted >= self._pages_per_pool:
                self._executor.shutdown(wait=True)  # its queued pages are still extracted
                self._executor, self._submitted = self._pool(), 0
            self._submitted += 1
            # Submitted under the lock: another thread must not retire the pool in between.
            return self._executor.submit(fn, *args, **kwargs)
