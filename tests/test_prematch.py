"""Assessing pages in the extraction worker as they are read (flows/stages/prematch.py, issue 8).

What must hold: the match stage reuses an assessment only for exactly the inputs it was worked
out from (the text and the claims; assessments do not depend on the claims' states), every
article of an ordinary cycle is such a hit, and what is stored is what assessing in the match
stage stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from claimwatch.flows import cycle, settings
from claimwatch.flows.app.demo_site import DemoSite
from claimwatch.flows.engine import claims as claim_engine
from claimwatch.flows.engine.claims import ArticleText, Assessment
from claimwatch.flows.extract.articles import ExtractedArticle
from claimwatch.flows.seeds import load_claims
from claimwatch.flows.settings import DEFAULT_CLAIMS
from claimwatch.flows.stages import prematch
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Article, ArticleVersion, Match

CLAIMS = load_claims(DEFAULT_CLAIMS)
TEXT = ArticleText("https://example.org/a", "Talks in Abu Dhabi", "Delegations met. " * 30,
                   datetime(2026, 2, 4, 22, tzinfo=UTC))


def test_an_answer_is_reused_only_for_the_same_inputs() -> None:
    memo = prematch.Prematches()
    answer = prematch.Prematched(prematch.key(TEXT, CLAIMS), ())
    memo.put(answer)
    retitled = ArticleText(TEXT.url, "Another title", TEXT.text, TEXT.published_at)
    for other in (memo.take(retitled, CLAIMS), memo.take(TEXT, CLAIMS[1:])):
        assert other is None
    assert memo.take(TEXT, CLAIMS) == []
    assert memo.take(TEXT, CLAIMS) is None  # taken once


def test_the_memo_is_bounded() -> None:
    memo = prematch.Prematches(limit=3)
    for n in range(5):
        memo.put(prematch.Prematched(bytes([n]), ()))
    assert len(memo) == 3


def test_the_worker_matches_on_the_utc_date_the_database_gives_back() -> None:
    # 01:00 on Feb 5 in Moscow is Feb 4 in UTC: claims.match reads the calendar date.
    local = datetime(2026, 2, 5, 1, tzinfo=timezone(timedelta(hours=3)))
    article = ExtractedArticle("https://example.org/a?utm_source=x", "https://example.org/a",
                               "T", None, local, "en", None, TEXT.text)
    text = prematch.stored_text(article, article.url)
    assert text.published_at == local and text.published_at.tzinfo == UTC
    assert text.url == "https://example.org/a"


def _stored_matches(db_url: str) -> set[tuple[str, str, str]]:
    with session(engine_for(db_url)) as s:
        rows = s.exec(select(Match, Article)
                      .join(ArticleVersion, ArticleVersion.id == Match.article_version_id)  # type: ignore[arg-type]
                      .join(Article, Article.id == ArticleVersion.article_id)).all()  # type: ignore[arg-type]
        return {(m.claim_id, m.relation, a.url.rsplit("/", 1)[-1]) for m, a in rows}


def _stages(sources: Path, db_url: str, ahead: bool) -> Any:
    with settings.database(db_url):  # the stages of flows/cycle.py, plainly
        _run_id, plan = cycle.prepare(str(sources), False)
        cycle.poll_feeds(plan.feeds, str(sources), "")
        read, answers = cycle.read_articles(plan, str(sources), "",
                                            str(DEFAULT_CLAIMS) if ahead else None)
        return read, cycle.match_claims(str(DEFAULT_CLAIMS), "", answers)


@pytest.fixture()
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How often the match stage found an answer worked out ahead, and how often it did not."""
    seen = {"hits": 0, "misses": 0}
    take = prematch.Prematches.take

    def counting(self: prematch.Prematches, *args: Any) -> list[Assessment] | None:
        found = take(self, *args)
        seen["hits" if found is not None else "misses"] += 1
        return found

    monkeypatch.setattr(prematch.Prematches, "take", counting)
    yield seen


@pytest.mark.slow
def test_a_cycle_matches_every_page_as_it_is_read(tmp_path: Path,
                                                   counted: dict[str, int]) -> None:
    ahead, plain = f"sqlite:///{tmp_path / 'ahead.db'}", f"sqlite:///{tmp_path / 'plain.db'}"
    with DemoSite() as site:
        sources = tmp_path / "sources.toml"
        site.write_sources(sources)
        site.set_round(1)
        read, matched = _stages(sources, ahead, ahead=True)
        assert read.new_articles > 3 and matched.versions == read.new_articles + read.new_versions
        assert counted == {"hits": matched.versions, "misses": 0}
        _stages(sources, plain, ahead=False)
        assert counted["misses"] == matched.versions  # nothing worked out ahead this time
    found = _stored_matches(ahead)
    assert found and found == _stored_matches(plain)


def test_a_failing_match_never_loses_the_article(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> list[Assessment]:
        raise RuntimeError("a bug in matching")

    monkeypatch.setattr(claim_engine, "assess", broken)
    html = (Path(__file__).parent.parent / "flows" / "app" / "demo_data").glob("**/*.html")
    page = next(p for p in html if len(p.read_text(encoding="utf-8")) > 3000)
    article, answer = prematch.extract_and_assess(page.read_bytes(), "text/html",
                                                  "http://127.0.0.1/a.html", CLAIMS)
    assert article is not None and answer is None


@pytest.mark.slow
def test_a_text_matching_fails_on_is_reported_and_never_stops_later_cycles(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMWATCH_EXTRACT_WORKERS", "1")  # claims.match runs in this process
    real = claim_engine.assess
    broken: list[str] = []

    def fails_on_one(text: ArticleText, *args: Any) -> list[Assessment]:
        if not broken or text.url == broken[0]:
            broken[:1] = [text.url]
            raise KeyError("a bug in matching")
        return real(text, *args)

    monkeypatch.setattr(claim_engine, "assess", fails_on_one)
    db_url = f"sqlite:///{tmp_path / 'm.db'}"
    with DemoSite() as site:
        sources = tmp_path / "sources.toml"
        site.write_sources(sources)
        site.set_round(1)
        read, matched = _stages(sources, db_url, ahead=False)
    assert broken and list(matched.failed) == broken and "KeyError" in matched.failed[broken[0]]
    assert matched.versions == read.new_articles + read.new_versions  # the others were matched
    with session(engine_for(db_url)) as s:  # and none is left to stop the next cycle
        assert not s.exec(select(ArticleVersion).where(ArticleVersion.matched_at == None)).all()  # noqa: E711
