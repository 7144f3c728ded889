"""No article is lost to a layout: claimwatch's fast extraction falls back when its text is not
believable (flows/extract/articles.py), on the corpus and on layouts built from its truth texts."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
import trafilatura
from trafilatura.utils import load_html

from bench import layouts, quality
from claimwatch.flows.extract import articles
from claimwatch.flows.fetch.charsets import decode
from tests.sites import fixture_page

# Pages of ../shared/corpus that fast extraction lost before the fallback (claimwatch's token F1
# or snippet F1 under 0.5 where trafilatura's default mode scores 0.8 or more), and why.
ONCE_LOST = {
    "html/traf_badische-zeitung.de-Wohnungssuche.html": "far shorter than the page's text",
    "html/traf_laviedesidees.fr.evaluation.html": "far shorter than the page's text",
    "html/aeb_f6ac15a4d9851139.html": "a list of links, not prose",  # the site's whole menu
    "html/aeb_11ea381ad92b5448.html": None,  # a standings table: tables are read now
    "html/traf_lemire.me.json.html": None,  # a benchmark table, likewise
}
BRIEF = "html/aeb_042bb7b5fedab6ea.html"  # 367 characters: shorter than the page's boilerplate


@pytest.fixture(scope="module")
def truth(corpus: Path) -> dict[str, dict[str, object]]:
    return quality.load_truth(corpus)


def _score(html: str, record: dict[str, object]) -> tuple[float, str | None]:
    found = articles.extract(html, "http://127.0.0.1/story")
    return quality.page_score(found.text if found else "", record), found and found.fallback


def test_the_cookie_notice_beside_a_short_story_is_not_stored_as_the_article(
        truth: dict[str, dict[str, object]]) -> None:
    # The case: fast mode picks the 209-character cookie notice in its <p>.
    page, text = layouts.build("div_soup", "Cloud gaming", str(truth[BRIEF]["articleBody"]))
    assert articles.body_text(load_html(page), "http://127.0.0.1/story", fast=True) == \
        layouts.COOKIE
    found = articles.extract(page, "http://127.0.0.1/story")
    assert found is not None and found.fallback == "a cookie, consent or subscription notice"
    story = text.splitlines()[:2]  # the annotation ends in "All..."
    assert len(story) == 2 and all(paragraph in found.text for paragraph in story)


@pytest.mark.slow
def test_no_article_is_lost_in_any_synthesized_layout(
        truth: dict[str, dict[str, object]]) -> None:
    pages = layouts.pages(truth, 6)  # the shortest and the longest bodies among them
    assert {p.layout for p in pages} == set(layouts.LAYOUTS) and len(pages) == 36
    lost, fell_back = [], []
    for page in pages:
        record = {"kind": "full_text", "articleBody": page.truth}
        score, fallback = _score(page.html, record)
        floor = quality.page_score(trafilatura.extract(page.html) or "", record)
        if score < quality.LOST_BELOW and floor >= quality.FLOOR_READS:
            lost.append(page.name)
        if fallback:
            fell_back.append(page.name)
    assert lost == []
    # The brief in div soup and in the live blog; the long stories need no second extractor.
    assert fell_back == [f"div_soup/{BRIEF}", f"live_blog/{BRIEF}"]


@pytest.mark.parametrize("page", sorted(ONCE_LOST))
def test_corpus_pages_once_lost_are_read(corpus: Path, truth: dict[str, dict[str, object]],
                                         page: str) -> None:
    score, fallback = _score(decode((corpus / page).read_bytes(), "text/html"), truth[page])
    assert score >= quality.FLOOR_READS
    assert fallback == ONCE_LOST[page]


def test_an_ordinary_article_is_read_on_the_fast_path_alone() -> None:
    page = fixture_page("schedule", "Talks set for Abu Dhabi", "2026-01-26", "http://x/a")
    found = articles.extract(page.decode(), "http://x/a")
    assert found is not None and "Abu Dhabi" in found.text and found.fallback is None


def test_page_chars_count_what_a_reader_sees() -> None:
    tree = load_html("<html><head><title>Not shown</title></head><body><p>Talks were held.</p>"
                     "<!-- a comment --><script>var tracking = 1;</script><style>p {}</style>"
                     "<noscript>Enable scripts</noscript><div>In Abu Dhabi.</div></body></html>")
    assert articles.page_chars(tree) == len("Talkswereheld.InAbuDhabi.")


def test_lost_articles_are_counted_where_the_floor_reads_them() -> None:
    truth = {"a": {"kind": "full_text", "articleBody": "talks held in abu dhabi on friday"},
             "b": {"kind": "full_text", "articleBody": "the bill cleared the committee"},
             "c": {"kind": "snippets", "with": ["talks held"], "without": ["menu"]}}
    mine = {"a": "we use cookies", "b": "we use cookies", "c": "menu"}
    floor = {"a": "talks held in abu dhabi on friday", "b": "nothing useful", "c": "talks held"}
    assert quality.lost(mine, floor, truth) == ["a", "c"]  # b: the floor lost it too
    assert quality.lost(floor, floor, truth) == []


def test_layout_truths_are_what_the_page_shows(truth: dict[str, dict[str, object]]) -> None:
    body = str(truth[BRIEF]["articleBody"])
    paragraphs = [line.strip() for line in body.splitlines() if line.strip()]
    for layout in layouts.LAYOUTS:
        page, text = layouts.build(layout, "Cloud gaming", body)
        shown = text.splitlines()
        assert shown == (paragraphs[: len(shown)] if layout == "paywall" else paragraphs)
        assert all(html.escape(p, quote=False) in page for p in shown)
    _, teaser = layouts.build("paywall", "Cloud gaming", body)
    assert 2 <= len(teaser.splitlines()) < len(paragraphs)  # the rest is behind the wall
