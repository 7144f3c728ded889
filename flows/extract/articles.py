"""HTML -> ExtractedArticle with trafilatura (trafilatura and htmldate live here only)."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import trafilatura
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import (
    Document,
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import use_config
from trafilatura.utils import load_html

from claimwatch.flows.extract import duplicates, plausibility
from claimwatch.flows.extract.plausibility import MIN_TEXT_CHARS
from claimwatch.flows.fetch.charsets import decode

MAX_TREE_SIZE = 100_000  # elements; guards the extractor against pathological pages
# trafilatura 2.x takes the tree cap from its config, not from an argument.
CONFIG = use_config()
CONFIG.set("DEFAULT", "MAX_TREE_SIZE", str(MAX_TREE_SIZE))
# The page's modified time: Open Graph / article meta tags, or schema.org's dateModified.
MODIFIED = re.compile(
    r"<meta[^>]+(?:property|name|itemprop)\s*=\s*[\"'](?:article:modified_time|og:updated_time"
    r"|dateModified|last-modified)[\"'][^>]*content\s*=\s*[\"']([^\"']+)[\"']"
    r"|\"dateModified\"\s*:\s*\"([^\"]+)\"", re.IGNORECASE)
HTML_LANG = re.compile(rb"<html[^>]*\blang\s*=\s*[\"']?([a-zA-Z]{2,3})", re.IGNORECASE)
INVISIBLE = ("script", "style", "noscript", "template")  # text in the tree a reader never sees


@dataclass(frozen=True, slots=True)
class ExtractedArticle:
    """The article body and its metadata; navigation, related links and comments left out."""

    url: str  # the URL the page was fetched from
    canonical_url: str | None  # <link rel=canonical> or og:url as the page declares it
    title: str
    author: str | None
    published_at: datetime | None
    language: str | None
    sitename: str | None
    text: str
    # Worked out here, in the extraction process, so that the one writer does not have to.
    text_hash: str | None = None  # duplicates.text_hash(text)
    fingerprint: int | None = None  # duplicates.fingerprint(text)
    modified_at: datetime | None = None  # the page's own "last modified" date, when it says
    # Why the fast extraction was not believed and trafilatura's default mode was asked instead
    # (flows/extract/plausibility.py); None when the fast text was kept.
    fallback: str | None = None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _language(html: str, declared: str | None) -> str | None:
    if declared:
        return declared.lower()[:8]
    found = HTML_LANG.search(html[:4096].encode("utf-8", "ignore"))
    return found.group(1).decode().lower() if found else None


def _metadata(tree: HtmlElement, url: str) -> Document:
    """Title, author, canonical URL, date and site name from meta tags, JSON-LD and <title>.

    trafilatura's with_metadata=True also searches bylines, categories, tags and licences with
    some forty XPath scans: a third of the extraction time for fields we never store (bench:
    `python -m bench`). This is its own cheap part, in its own order of precedence.
    """
    document = examine_meta(tree)
    if document.author and " " not in document.author:
        document.author = None  # a bare handle, as trafilatura also discards
    # trafilatura's JSON-LD reader has its own bugs (it guards them too); metadata is optional.
    with contextlib.suppress(Exception):
        document = extract_meta_json(tree, document)
    document.title = document.title or extract_title(tree)
    document.url = document.url or extract_url(tree, url)
    document.sitename = document.sitename or extract_sitename(tree)
    # Meta tags, JSON-LD, <time> and the URL, without the page-wide text scan.
    document.date = find_date(tree, url=document.url, original_date=True, extensive_search=False)
    return document


def body_text(tree: HtmlElement, url: str, fast: bool) -> str:
    """The article text trafilatura finds, in its fast mode or its default one."""
    body = trafilatura.bare_extraction(
        tree,  # copied by trafilatura: the metadata below reads the page as it was served
        url=url,
        fast=fast,
        include_comments=False,  # reader comments are not the article
        # Tables in: a standings table or a benchmark's figures can be the story, and an old
        # table layout holds the whole article in one (token F1 0.958 -> 0.961 on the corpus).
        include_tables=True,
        config=CONFIG,
    )
    return (body.text or "").strip() if isinstance(body, Document) else ""


def page_chars(tree: HtmlElement) -> int:
    """Characters of text a reader sees on the page (`plausibility.chars`): the body's text
    less scripts, styles and templates. About 5 ms on a big page, so measured only on demand."""
    body = tree.find("body")
    if body is None:
        return 0
    shown = etree.tostring(body, method="text", encoding="unicode")
    hidden = sum(plausibility.chars("".join(e.itertext())) for e in body.iter(*INVISIBLE))
    return max(0, plausibility.chars(shown) - hidden)


def article_text(tree: HtmlElement, url: str, fallback: bool = True) -> tuple[str, str | None]:
    """(the article's text, why the fast extraction was not believed or None).

    Fast mode first (no fallback extractor: about twice as fast as the default mode; bench);
    when its text is implausible for the page, trafilatura's default mode with its fallback
    extractors, whose text is taken only when it is fit for an article itself. With
    `fallback=False` the fast text is kept whatever it is (the bench's measure of the cost).
    """
    text = body_text(tree, url, fast=True)
    if not fallback or not plausibility.suspect(text):
        return text, None
    reason = plausibility.implausible(text, page_chars(tree))
    if reason is None:
        return text, None
    default = body_text(tree, url, fast=False)
    return (default if plausibility.prefer_fallback(text, default) else text), reason


def extract(html: str, url: str, fallback: bool = True) -> ExtractedArticle | None:
    """Return the article in the page, or None when there is no article text to read.

    `fallback=False` skips the plausibility check and its fallback (for the bench only)."""
    tree = load_html(html)
    if tree is None:
        return None
    text, reason = article_text(tree, url, fallback)
    if len(text) < MIN_TEXT_CHARS:
        return None
    document = _metadata(tree, url)
    text_hash, fingerprint = duplicates.signature(text)
    return ExtractedArticle(
        url=url,
        canonical_url=document.url if document.url and document.url != url else None,
        title=(document.title or "").strip()[:500],
        author=(document.author or None),
        published_at=_date(document.date),
        language=_language(html, document.language),
        sitename=(document.sitename or "").lstrip("@") or None,
        text=text,
        text_hash=text_hash,
        fingerprint=fingerprint,
        modified_at=_modified(html),
        fallback=reason,
    )


def _modified(html: str) -> datetime | None:
    found = MODIFIED.search(html[:200_000])
    return _date(found.group(1) or found.group(2)) if found else None


def extract_page(body: bytes, content_type: str, url: str) -> ExtractedArticle | None:
    """extract() on a page as served: decoded here, in the worker, not in the fetching process
    (decoding and sending the text cost the one fetching process 0.65 ms a page; bytes 0.03)."""
    return extract(decode(body, content_type), url)


def warm() -> None:
    """Import trafilatura's lazy parts, so that a worker's first page is not slower, nor its
    first fallback (jusText's stop lists and regexes: ~40 ms once)."""
    for fast in (True, False):
        trafilatura.bare_extraction("<html><body><p>warm</p></body></html>", fast=fast)
