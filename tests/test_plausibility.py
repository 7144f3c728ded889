"""The fast-extraction plausibility checks (flows/extract/plausibility.py): pure, on real texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.layouts import CONSENT, COOKIE, NEWSLETTER, PAYWALL, SECTIONS
from claimwatch.flows.extract import plausibility as p

# An article about cookies: the words of a consent banner, in a story that is not one.
COOKIE_STORY = (
    "The data protection authority fined the publisher 40,000 euros on Tuesday. Its inspectors "
    "found that the site set advertising trackers before visitors had agreed to anything. The "
    "authority said the banner's cookie button was hidden behind two further menus. The "
    "publisher said it would appeal and that it had changed the page in March. Two other "
    "newspapers are under investigation for the same practice, the regulator said. A ruling "
    "in those cases is expected before the summer."
)
MENU = "\n".join([*SECTIONS, *(f"{s} news" for s in SECTIONS), "Contact", "Imprint"] * 3)


@pytest.fixture(scope="module")
def article_body(corpus: Path) -> str:
    """A human-annotated article body of the corpus (AP, 942 characters)."""
    record = json.loads((corpus / "truth" / "aeb_c467d507551a836e.json").read_text())
    return str(record["articleBody"])


def test_the_issues_cookie_notice_is_implausible_beside_an_article(article_body: str) -> None:
    assert len(COOKIE) == 209  # the notice fast mode stored instead of a 1,200-character story
    page = p.chars(COOKIE) + p.chars(article_body) + 300  # the article, the notice, a menu
    assert p.suspect(COOKIE)
    assert p.implausible(COOKIE, page) == "a cookie, consent or subscription notice"


@pytest.mark.parametrize("notice", [" ".join(CONSENT), " ".join(PAYWALL), NEWSLETTER],
                         ids=["consent", "paywall", "newsletter"])
def test_consent_paywall_and_newsletter_prompts_are_boilerplate(notice: str) -> None:
    assert p.boilerplate_share(notice) >= p.BOILERPLATE_SHARE
    assert p.unfit(notice) in ("a cookie, consent or subscription notice",
                               "too short for an article")


def test_a_story_about_cookies_is_not_boilerplate() -> None:
    assert 0 < p.boilerplate_share(COOKIE_STORY) < p.BOILERPLATE_SHARE
    assert p.unfit(COOKIE_STORY) is None


def test_a_real_article_is_plausible_on_its_page(article_body: str) -> None:
    # Its own page (aeb_c467d507551a836e.html) shows 6,642 characters: the story is an eighth.
    assert p.unfit(article_body) is None
    assert p.implausible(article_body, 6642) is None


def test_a_menu_is_not_prose() -> None:
    assert p.menu_share(MENU) == 1.0
    assert p.unfit(MENU) == "a list of links, not prose"
    assert p.suspect(MENU)  # however long: a menu is checked against the page


def test_a_text_far_shorter_than_its_page_is_implausible(article_body: str) -> None:
    size = p.chars(article_body)
    assert p.implausible(article_body, int(size / p.FAR_SHORTER) + 10) == (
        "far shorter than the page's text")
    assert p.implausible(article_body, int(size / p.FAR_SHORTER) - 10) is None


def test_a_long_text_is_believed_without_measuring_the_page(article_body: str) -> None:
    long_text = "\n".join([article_body] * 3)
    assert p.chars(long_text) >= p.SUSPECT_CHARS and not p.suspect(long_text)
    assert p.suspect(article_body)  # 794 characters besides white space: measured


def test_a_page_with_little_text_has_nothing_better_to_offer() -> None:
    # A paywall stub: its notice is all there is, so there is no fallback to pay for.
    assert p.implausible("Subscribe to keep reading.", 2 * p.MIN_TEXT_CHARS - 1) is None
    assert p.implausible("Subscribe to keep reading.", 2 * p.MIN_TEXT_CHARS) == (
        "too short for an article")
    assert p.implausible("", 5000) == "too short for an article"


def test_the_fallback_replaces_an_unfit_text_even_when_shorter(article_body: str) -> None:
    assert p.prefer_fallback(MENU * 4, article_body)
    assert p.prefer_fallback(COOKIE, article_body)


def test_the_fallback_must_be_fit_itself(article_body: str) -> None:
    assert not p.prefer_fallback(COOKIE, MENU)
    assert not p.prefer_fallback(article_body[:400], " ".join(CONSENT))


def test_a_fit_but_short_text_is_replaced_only_by_more_text(article_body: str) -> None:
    first_half = article_body[: len(article_body) // 2]
    assert p.prefer_fallback(first_half, article_body)
    assert not p.prefer_fallback(article_body, first_half)
    assert not p.prefer_fallback(article_body, article_body)  # the same answer: keep the first


def test_characters_are_counted_without_white_space() -> None:
    assert p.chars("  two words\n\n\tand  more ") == len("twowordsandmore")
    assert p.chars("新华社北京11月17日电") == 12  # scripts without spaces count whole
