"""The floor (trafilatura alone, default options) and claimwatch's own extraction, timed and scored.

Both run in a process pool of the same size as the cycle's, over decoded pages held in memory:
what is measured is extraction and the hand-off to the worker, nothing else.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from bench.tree import TreeSampler
from claimwatch.flows.extract import articles
from claimwatch.flows.fetch.charsets import decode

MB = 1024 * 1024


def default_text(html: str, url: str) -> str | None:
    """The floor: trafilatura's extract() with its default options."""
    return trafilatura.extract(html, url=url)


def claimwatch_text(html: str, url: str) -> str | None:
    """claimwatch's extraction as the cycle runs it (claimwatch.flows.extract.articles.extract)."""
    found = articles.extract(html, url)
    return found.text if found else None


@dataclass(frozen=True, slots=True)
class ExtractionRun:
    pages: int
    wall_s: float
    peak_rss_mb: float
    texts: tuple[str | None, ...]

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.wall_s if self.wall_s else 0.0


def load_pages(paths: Sequence[Path]) -> dict[Path, str]:
    """Each distinct page once, decoded the way claimwatch decodes a fetched page."""
    return {path: decode(path.read_bytes(), "text/html") for path in dict.fromkeys(paths)}


def run(fn: Callable[[str, str], str | None], paths: Sequence[Path], html: dict[Path, str],
        processes: int) -> ExtractionRun:
    """Extract `paths` (repeats allowed) with `fn` in `processes` workers, warmed up first."""
    urls = [f"http://127.0.0.1/{path.name}" for path in paths]
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        warm = next(iter(html.values()))
        list(pool.map(fn, [warm] * processes * 2, urls[: processes * 2] or ["http://x/"]))
        with TreeSampler() as tree:
            start = time.perf_counter()
            texts = tuple(pool.map(fn, (html[p] for p in paths), urls, chunksize=2))
            wall = time.perf_counter() - start
    return ExtractionRun(len(paths), wall, tree.peak_rss_bytes / MB, texts)
