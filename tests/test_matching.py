"""Matching in batches, with claims.match worked out ahead in the process pool, stores exactly
what matching version by version in this process stores (flows/matching.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from claimwatch.flows import settings
from claimwatch.flows.engine import knowledge
from claimwatch.flows.extract.articles import extract
from claimwatch.flows.fetch.reading import ReadRequest, ReadResult
from claimwatch.flows.seeds import load_claims
from claimwatch.flows.settings import DEFAULT_CLAIMS
from claimwatch.flows.stages.matching import match_pending
from claimwatch.flows.stages.prematch import extract_and_assess
from claimwatch.flows.stages.reads import ReadSummary, store_reads
from claimwatch.flows.workers import WorkerPool
from claimwatch.storage import articles
from claimwatch.storage import claims as records
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Article, ArticleVersion, Development, Match
from tests import worker_probe

DEMO = Path(__file__).resolve().parents[1] / "flows" / "app" / "demo_data"
NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)


def _results() -> list[ReadResult]:
    """Every demo article of every round, as the reader would hand them to the writer."""
    results = []
    for page in sorted(DEMO.glob("round*/**/*.html")):
        url = f"http://127.0.0.1:9/{page.relative_to(DEMO).as_posix()}"
        article = extract(page.read_text(encoding="utf-8"), url)
        if article is not None:
            results.append(ReadResult(ReadRequest(url, ()), url, article))
    return results


def _matched(db_url: str, pool: WorkerPool | None) -> tuple[list[tuple[Any, ...]], int]:
    engine, claims = engine_for(db_url), load_claims(DEFAULT_CLAIMS)
    store_reads(engine, _results(), NOW, ReadSummary())
    with session(engine) as s:
        records.sync_claims(s, claims, NOW)
    summary = match_pending(engine, claims, NOW, pool=pool)
    with session(engine) as s:
        rows = s.exec(select(Match, ArticleVersion, Article)
                      .join(ArticleVersion, ArticleVersion.id == Match.article_version_id)
                      .join(Article, Article.id == ArticleVersion.article_id)).all()
        developments = {d.id: (d.claim_id, d.relation, d.summary, tuple(sorted(d.facts.items())))
                        for d in s.exec(select(Development)).all()}
        unmatched = articles.unmatched_version_ids(s)
    assert unmatched == [] and summary.versions == len(_results())
    stored = sorted((m.claim_id, m.relation, m.evidence, a.url, v.version,
                     developments.get(m.development_id)) for m, v, a in rows)
    return stored, len(developments)


@pytest.mark.slow
def test_matching_ahead_in_the_pool_stores_what_matching_in_order_stores(tmp_path: Path) -> None:
    alone, developments = _matched(f"sqlite:///{tmp_path / 'alone.db'}", None)
    with WorkerPool(2) as pool:
        pooled, pooled_developments = _matched(f"sqlite:///{tmp_path / 'pool.db'}", pool)
    assert developments >= 2 and len(alone) >= 10  # a real test: claims move, articles match
    assert pooled == alone and pooled_developments == developments


def test_pool_workers_match_without_loading_the_settings() -> None:
    """pydantic-settings costs each process 11 MB and 0.1 s: a worker is told where the engine's
    knowledge is, and matches a page without it (bench: peak RSS)."""
    claims = tuple(load_claims(DEFAULT_CLAIMS))
    page = next(DEMO.glob("round1/**/*.html")).read_bytes()
    knowledge.get()  # compiled once into the cache folder (ten seconds when it is new)
    with WorkerPool(2, knowledge_folder=settings.cache_dir()) as pool:
        article, prematched = pool.call(extract_and_assess, page, "text/html",
                                        "http://127.0.0.1:9/a.html", claims).result()
        assert article is not None and prematched is not None and prematched.assessments
        assert pool.call(worker_probe.loaded, "claimwatch.flows.engine.knowledge").result()
        assert not pool.call(worker_probe.loaded, "pydantic_settings").result()
