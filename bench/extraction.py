"""The floor (trafilatura alone, default options) and claimwatch's own extraction, timed and scored.

Both run in a process pool of the same size as the cycle's, over decoded pages held in memory:
what is measured is extraction and the hand-off to the worker, nothing else. claimwatch's
extraction is also run on its fast path alone (no fallback), so that the cost of falling back
to trafilatura's default mode on implausible pages stays visible; besides wall time, the
workers' CPU time per page is summed, which other load on a shared machine disturbs far less.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from bench.tree import TreeSampler
from claimwatch.flows.extract import articles
from claimwatch.flows.fetch.charsets import decode

MB = 1024 * 1024


# An extractor: (page HTML, URL) -> (text or None, why claimwatch fell back or None).
Extractor = Callable[[str, str], tuple[str | None, str | None]]


def default_text(html: str, url: str) -> tuple[str | None, str | None]:
    """The floor: trafilatura's extract() with its default options."""
    return trafilatura.extract(html, url=url), None


def claimwatch_text(html: str, url: str) -> tuple[str | None, str | None]:
    """claimwatch's extraction as the cycle runs it (claimwatch.flows.extract.articles.extract)."""
    found = articles.extract(html, url)
    return (found.text, found.fallback) if found else (None, None)


def fast_path_text(html: str, url: str) -> tuple[str | None, str | None]:
    """claimwatch's extraction never falling back: what the fallback costs and buys."""
    found = articles.extract(html, url, fallback=False)
    return (found.text if found else None), None


@dataclass(frozen=True, slots=True)
class ExtractionRun:
    pages: int
    wall_s: float
    peak_rss_mb: float
    texts: tuple[str | None, ...]
    reasons: tuple[str | None, ...]  # per page: why claimwatch did not believe its fast path
    cpu_s: float  # the workers' CPU time spent in `fn`, summed over the pages

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall_s if self.wall_s else 0.0

    @property
    def fallbacks(self) -> int:
        return sum(1 for reason in self.reasons if reason)

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.cpu_s / self.pages if self.pages else 0.0


def _timed(fn: Extractor, html: str, url: str) -> tuple[str | None, str | None, float]:
    """`fn` in a worker, with the CPU time it took there."""
    start = time.process_time()
    text, reason = fn(html, url)
    return text, reason, time.process_time() - start


def load_pages(paths: Sequence[Path]) -> dict[Path, str]:
    """Each distinct page once, decoded the way claimwatch decodes a fetched page."""
    return {path: decode(path.read_bytes(), "text/html") for path in dict.fromkeys(paths)}


def run(fn: Extractor, pages: Sequence[Hashable], html: Mapping[Hashable, str],
        processes: int) -> ExtractionRun:
    """Extract `pages` (keys of `html`, repeats allowed) with `fn` in `processes` workers,
    warmed up first."""
    urls = [f"http://127.0.0.1/{getattr(page, 'name', page)}" for page in pages]
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        warm = next(iter(html.values()))
        list(pool.map(fn, [warm] * processes * 2, urls[: processes * 2] or ["http://x/"]))
        with TreeSampler() as tree:
            start = time.perf_counter()
            found = list(pool.map(_timed, [fn] * len(pages), (html[p] for p in pages), urls,
                                  chunksize=2))
            wall = time.perf_counter() - start
    return ExtractionRun(len(pages), wall, tree.peak_rss_bytes / MB,
                         tuple(text for text, _, _ in found), tuple(why for _, why, _ in found),
                         sum(cpu for _, _, cpu in found))
