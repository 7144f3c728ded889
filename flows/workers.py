"""The process pool: the CPU-bound jobs of a cycle (extraction, feed parsing, matching) run here.

Fetching and writing stay in the calling process's threads; everything that costs CPU per page
is handed to these workers, which hold trafilatura, feedparser and the claim engine warm.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import ParamSpec, TypeVar

from claimwatch.flows.engine import knowledge
from claimwatch.flows.extract import articles
from claimwatch.flows.extract.articles import ExtractedArticle

PAGES_PER_WORKER = 500  # then the pool is replaced: see WorkerPool
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # mallopt() parameters, from glibc's malloc.h
# Imported by the forkserver once, so that each worker starts with them loaded.
PRELOAD = ["claimwatch.flows.extract.articles", "claimwatch.flows.engine.claims",
           "claimwatch.flows.fetch.feeds", "claimwatch.flows.stages.prematch"]
P = ParamSpec("P")
T = TypeVar("T")


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


def _warm(parent_pid: int | None = None, knowledge_folder: Path | None = None) -> None:
    """Set a worker up: a steady heap, an exit when its parent dies, trafilatura loaded, and
    where the engine's compiled knowledge is (so the worker never loads the settings)."""
    steady_heap()  # a worker's heap grew 81 -> 120 MB over 500 pages without, 79 -> 99 with
    if knowledge_folder is not None:
        knowledge.use_folder(knowledge_folder)
    if parent_pid is not None:
        threading.Thread(target=_exit_when_gone, args=(parent_pid,), daemon=True).start()
    articles.warm()


class _Inline(Executor):
    """Runs a job in the calling thread: one worker means no pool to pay for."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


class WorkerPool:
    """A process pool sized to the cores, for extraction, feed parsing and matching.

    The pool is replaced by a fresh one every `pages_per_pool` jobs per worker: a worker's
    heap (lxml, trafilatura's caches, fragmentation) only ever grows, so without this a long
    cycle would end with the biggest workers it ever had (bench: peak RSS). This is
    done here, not with max_tasks_per_child, which can hang a pool on Python 3.11
    (python/cpython#115634). The old pool finishes the jobs it was given first, so two pools
    never hold memory at once; the fetch threads wait that long (a few pages) once per pool.
    """

    def __init__(self, workers: int, pages_per_pool: int = PAGES_PER_WORKER,
                 knowledge_folder: Path | None = None) -> None:
        self._workers = workers
        self._knowledge_folder = knowledge_folder
        self._pages_per_pool = pages_per_pool * workers
        self._executor: Executor | None = None
        self._submitted = 0
        self._lock = threading.Lock()

    def __enter__(self) -> WorkerPool:
        steady_heap()  # before the fetch threads start, each wanting an arena of its own
        self._executor = _Inline() if self._workers <= 1 else self._pool()
        return self

    def _pool(self) -> ProcessPoolExecutor:
        # forkserver: the fetch threads already running must not be forked.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return ProcessPoolExecutor(max_workers=self._workers, mp_context=context,
                                   initializer=_warm,
                                   initargs=(os.getpid(), self._knowledge_folder))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def extract(self, body: bytes, content_type: str, url: str) -> Future[ExtractedArticle | None]:
        """The article in a page as served (decoded in the worker: flows/extract/articles.py)."""
        return self.call(articles.extract_page, body, content_type, url)

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run a pure CPU-bound function in the pool; `fn` must be importable by name."""
        assert self._executor is not None, "use WorkerPool as a context manager"
        if not isinstance(self._executor, ProcessPoolExecutor):  # inline: nothing to replace
            return self._executor.submit(fn, *args, **kwargs)
        with self._lock:  # fetch threads submit at once
            if self._submitted >= self._pages_per_pool:
                self._executor.shutdown(wait=True)  # its queued jobs are still done
                self._executor, self._submitted = self._pool(), 0
            self._submitted += 1
            # Submitted under the lock: another thread must not retire the pool in between.
            return self._executor.submit(fn, *args, **kwargs)
