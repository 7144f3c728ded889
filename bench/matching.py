"""Time to compare one article with 10, 50 and 200 claims (engine.claims.match, pure, one thread).

Claim sets are seeds/claims.toml repeated with new ids and shifted dates; articles are real
corpus texts (mostly off-topic, as most news is) and the demo site's on-topic stories.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from claimwatch.flows.app import demo_site
from claimwatch.flows.engine import assess, claims, findings, profile, text
from claimwatch.flows.engine.claims import ArticleText, Claim
from claimwatch.flows.extract import articles
from claimwatch.flows.seeds import load_claims
from claimwatch.flows.settings import DEFAULT_CLAIMS

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DEMO = Path(demo_site.__file__).resolve().parent / "demo_data"


def _shift(value: str, days: int) -> str:
    return ISO_DATE.sub(lambda m: (date.fromisoformat(m.group()) + timedelta(days)).isoformat(),
                       value)


def claim_set(size: int, base: Sequence[Claim] | None = None) -> tuple[Claim, ...]:
    """`size` claims: the seed claims, then variants of them with new ids and dates shifted."""
    seeds = tuple(base or load_claims(DEFAULT_CLAIMS))
    out = []
    for k in range(size):
        claim = seeds[k % len(seeds)]
        round_ = k // len(seeds)
        if round_:
            facts = {slot: _shift(v, round_) for slot, v in claim.facts.items()}
            claim = replace(claim, id=f"{claim.id}-v{round_}", facts=facts)
        out.append(claim)
    return tuple(out)


def demo_articles() -> list[ArticleText]:
    """The demo site's own stories, extracted as the cycle would: they are about the claims."""
    found = []
    for page in sorted(DEMO.glob("round*/**/*.html")):
        extracted = articles.extract(page.read_text(), f"https://example.org/{page.name}")
        if extracted is not None:
            found.append(ArticleText(page.as_posix(), extracted.title, extracted.text,
                                     extracted.published_at))
    return found


@dataclass(frozen=True, slots=True)
class MatchTiming:
    claims: int
    articles: int
    median_ms: float
    p90_ms: float
    max_ms: float
    first_call_ms: float  # includes compiling the claim set once


def _clear_caches() -> None:
    """Each article of a cycle is new: its clauses must not be cached from an earlier size."""
    for module in (claims, assess, findings, profile, text):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def time_matching(texts: Sequence[ArticleText], sizes: Sequence[int]) -> list[MatchTiming]:
    """Per-article wall time of claims.match for each claim-set size."""
    results = []
    for size in sizes:
        claim_list = claim_set(size)
        states = {c.id: dict(c.facts) for c in claim_list}
        _clear_caches()
        start = time.perf_counter()
        claims.match(texts[0], claim_list, states)
        first = time.perf_counter() - start
        times = []
        for article in texts:
            start = time.perf_counter()
            claims.match(article, claim_list, states)
            times.append(time.perf_counter() - start)
        times.sort()
        results.append(MatchTiming(
            size, len(texts), round(statistics.median(times) * 1000, 3),
            round(times[int(0.9 * (len(times) - 1))] * 1000, 3), round(times[-1] * 1000, 3),
            round(first * 1000, 3)))
    return results
