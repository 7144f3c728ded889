"""The feeds a page names in its <head>: <link rel="alternate" type="application/rss+xml">
(pure: HTML text in, absolute http(s) URLs out, in document order)."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

from claimwatch.flows.seeds import check_url

# Types that name a feed, best first: a page may list a generic XML link after its real feeds.
FEED_TYPES = {"application/rss+xml": 0, "application/atom+xml": 0, "application/rdf+xml": 0,
              "application/xml": 1, "text/xml": 1}


@dataclass(frozen=True, slots=True)
class PageLinks:
    """What a page says about itself: the feeds it links to and its title."""

    feeds: tuple[str, ...]
    title: str


class _Head(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base, self.title = base_url, ""
        self.feeds: list[tuple[int, str]] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k.lower(): (v or "").strip() for k, v in attrs}
        if tag == "base" and found.get("href"):
            self.base = urljoin(self.base, found["href"])
        elif tag == "title":
            self._in_title = True
        elif tag == "link" and found.get("href"):
            rels = found.get("rel", "").lower().split()
            kind = found.get("type", "").split(";")[0].strip().lower()
            if "alternate" in rels and kind in FEED_TYPES:
                url = urljoin(self.base, found["href"])
                if check_url(url) is None:
                    self.feeds.append((FEED_TYPES[kind], url))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title and len(self.title) < 300:
            self.title += data


def page_links(html: str, base_url: str) -> PageLinks:
    """The feed URLs a page advertises (RSS and Atom first-class, XML as a fallback) and its
    <title>; relative links resolved against the page (or its <base href>)."""
    parser = _Head(base_url)
    parser.feed(html)
    parser.close()
    ranked = dict.fromkeys(url for _, url in sorted(parser.feeds, key=lambda f: f[0]))
    return PageLinks(tuple(ranked), " ".join(parser.title.split()))
