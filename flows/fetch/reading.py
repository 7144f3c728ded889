"""Fetch article pages in parallel and extract them in a process pool -> ReadResult values."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from itertools import islice

from claimwatch.flows.engine.claims import Claim
from claimwatch.flows.extract.articles import ExtractedArticle
from claimwatch.flows.fetch import pages
from claimwatch.flows.fetch.http import Client, HostLimiter
from claimwatch.flows.settings import FetchLimits
from claimwatch.flows.stages import prematch
from claimwatch.flows.stages.prematch import Prematched
from claimwatch.flows.workers import WorkerPool


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One URL to read, and the items (feed entries or watched pages) that lead to it."""

    url: str
    item_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ReadResult:
    """The article found at a URL, or why there is none."""

    request: ReadRequest
    final_url: str
    article: ExtractedArticle | None = None
    error: str | None = None
    prematched: Prematched | None = None  # claims assessed ahead (flows/stages/prematch.py)


@dataclass(frozen=True, slots=True)
class MatchAhead:
    """The claims to assess each page against as it is read."""

    claims: tuple[Claim, ...]


def _extract(extractor: WorkerPool, page: pages.FetchedPage, ahead: MatchAhead | None
             ) -> tuple[ExtractedArticle | None, Prematched | None]:
    if ahead is None:
        return extractor.extract(page.body, page.content_type, page.url).result(), None
    return extractor.call(prematch.extract_and_assess, page.body, page.content_type, page.url,
                          ahead.claims).result()


def _read_one(client: Client, request: ReadRequest, limits: FetchLimits,
              limiter: HostLimiter, extractor: WorkerPool, ahead: MatchAhead | None
              ) -> ReadResult:
    with limiter(request.url):
        page = pages.get(client, request.url, limits)
    if not page.ok:
        return ReadResult(request, page.url, error=page.error)
    try:
        article, answer = _extract(extractor, page, ahead)
    except Exception as exc:  # a crash in the extractor is this page's problem only
        return ReadResult(request, page.url, error=f"extraction failed: {type(exc).__name__}")
    if article is None:
        return ReadResult(request, page.url, error="no article text found")
    return ReadResult(request, page.url, article=article, prematched=answer)


def read_all(client: Client, requests: Sequence[ReadRequest], limits: FetchLimits,
             extractor: WorkerPool, ahead: MatchAhead | None = None) -> Iterator[ReadResult]:
    """Yield results as they complete, with a bounded number of pages in flight.

    Fetch threads block on extraction, and only a window of requests is submitted at a time, so
    memory holds a few pages and no finished results, however many articles a cycle reads.
    With `ahead`, each page is also matched in the pool as soon as it is extracted.
    """
    if not requests:
        return
    limiter = HostLimiter(limits.per_host_concurrency)
    workers = max(1, min(limits.fetch_workers, len(requests)))
    pending = iter(requests)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        in_flight = {pool.submit(_read_one, client, r, limits, limiter, extractor, ahead)
                     for r in islice(pending, workers * 2)}
        while in_flight:
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for request in islice(pending, len(done)):
                in_flight.add(pool.submit(_read_one, client, request, limits, limiter, extractor,
                                             ahead))
            for future in done:
                yield future.result()
