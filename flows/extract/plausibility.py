"""Whether a fast extraction can be the page's article (pure: a text and a count in, a verdict out).

trafilatura's fast mode has no fallback extractor: on some layouts (paragraphs split by `<br>`
in one `<div>`, old table layouts, class-name div soup, a short story beside a cookie notice)
it returns the cookie notice, a newsletter prompt, the menu or nothing at all while the page
shows an article. flows/extract/articles.py keeps the fast path and asks these functions when
its answer is not believable; only then does it pay for trafilatura's default mode.
"""

from __future__ import annotations

import re

MIN_TEXT_CHARS = 200  # shorter than a news brief: a landing page, a paywall stub, an error page
# A text at least this long is article-sized: neither it nor the page is examined further.
SUSPECT_CHARS = 1500
FAR_SHORTER = 0.1  # a text under a tenth of the page's own text is a fragment of the page
BOILERPLATE_SHARE = 0.5  # half the text in sentences about cookies, consent, subscribing
MENU_LINE_CHARS = 40  # a line this short is a link, a heading or a caption, not prose...
MENU_SHARE = 0.8  # ...and a text with most of its characters in such lines is a menu
# Words of the notices a page wraps around its article: cookie and consent banners, newsletter
# and paywall prompts, ad-blocker pleas (English and German: the languages of the corpus).
BOILERPLATE = re.compile(
    r"cookie|consent|privacy (?:policy|settings|preferences)|personali[sz]ed (?:ads|advertising)"
    r"|our partners|accept all|manage (?:options|preferences|settings)|subscri(?:be|ption|ber)"
    r"|newsletter|sign (?:up|in)|log ?in\b|free articles|unlimited access|your inbox"
    r"|enable javascript|ad ?blocker|datenschutz|einwilligung|abonn|anmelden",
    re.IGNORECASE,
)
SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def chars(text: str) -> int:
    """Characters that are not white space: pages indent, articles do not."""
    return sum(map(len, text.split()))


def boilerplate_share(text: str) -> float:
    """The share of the text's characters in sentences that speak of cookies, consent,
    subscriptions or newsletters."""
    sentences = SENTENCE.findall(text)
    total = sum(map(len, sentences))
    flagged = sum(len(s) for s in sentences if BOILERPLATE.search(s))
    return flagged / total if total else 0.0


def menu_share(text: str) -> float:
    """The share of the text's characters in short lines (menu entries, headings, captions)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    total = sum(map(len, lines))
    short = sum(len(line) for line in lines if len(line) < MENU_LINE_CHARS)
    return short / total if total else 0.0


def unfit(text: str) -> str | None:
    """Why this text cannot be an article whatever page it came from, or None."""
    if len(text.strip()) < MIN_TEXT_CHARS:
        return "too short for an article"
    if boilerplate_share(text) >= BOILERPLATE_SHARE:
        return "a cookie, consent or subscription notice"
    if menu_share(text) >= MENU_SHARE:
        return "a list of links, not prose"
    return None


def suspect(text: str) -> bool:
    """Whether the page must be measured before the text is believed (cheap: the text only).

    A notice or a fragment is short, so a long text is believed unless it is a menu; the
    sentence scan for notices (about 1 ms on an average article) is spent on short texts only.
    """
    return chars(text) < SUSPECT_CHARS or menu_share(text) >= MENU_SHARE


def implausible(text: str, page_chars: int) -> str | None:
    """Why fast extraction's `text` is not believable for a page showing `page_chars`
    characters of text (`chars` of its visible text), or None when it is.

    A page with little text besides has nothing better to offer: nothing is implausible there.
    """
    if page_chars < 2 * MIN_TEXT_CHARS:
        return None
    reason = unfit(text)
    if reason is None and chars(text) < FAR_SHORTER * page_chars:
        reason = "far shorter than the page's text"
    return reason


def prefer_fallback(fast: str, fallback: str) -> bool:
    """Whether the fallback extractor's text should replace an implausible fast one: it must be
    fit for an article itself, and either the fast text was not, or the fallback found more."""
    if unfit(fallback) is not None:
        return False
    return unfit(fast) is not None or chars(fallback) > chars(fast)
