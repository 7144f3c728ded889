"""Builders for test sites: real corpus pages and our own fixture articles behind real feeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.servers import FeedEntry, Route, SiteServer, rss

FIXTURES = Path(__file__).parent / "fixtures" / "pages"


def fixture_page(name: str, title: str, date: str, canonical: str, body_file: str | None = None
                 ) -> bytes:
    """One of our own articles, laid out like a news page (nav, sidebar, comments)."""
    template = (FIXTURES / "_template.html").read_text()
    body = (FIXTURES / f"{body_file or name}.body").read_text()
    return template.format(title=title, date=date, canonical=canonical, body=body).encode()


def english_corpus_pages(corpus: Path, count: int) -> list[Path]:
    """The first `count` English full-text pages of the corpus, in index order."""
    index = json.loads((corpus / "index.json").read_text())
    chosen = [corpus / r["file"] for r in index
              if r.get("lang") == "en" and r.get("set") == "aeb" and int(r["bytes"]) < 400_000]
    return chosen[:count]


def serve_corpus_feed(server: SiteServer, corpus: Path, count: int, feed_path: str = "/feeds/world.xml"
                      ) -> list[str]:
    """Serve `count` real pages under /articles/ and one RSS feed listing them; return the paths."""
    paths: list[str] = []
    entries: list[FeedEntry] = []
    for i, page in enumerate(english_corpus_pages(corpus, count)):
        path = f"/articles/corpus-{i}.html"
        server.routes[path] = Route(page.read_bytes())
        paths.append(path)
        entries.append(FeedEntry(title=f"Corpus story {i}", link=server.url(path), guid=f"corpus-{i}",
                                 published=datetime(2026, 2, 1, 8, i, tzinfo=UTC)))
    server.routes[feed_path] = Route(rss("Corpus wire", server.base_url, entries),
                                     "application/rss+xml")
    return paths


def write_sources(path: Path, server: SiteServer, feeds: list[str], pages: list[str] = ()  # type: ignore[assignment]
                  ) -> Path:
    lines = ["allow_private_networks = true", ""]
    for i, feed in enumerate(feeds):
        lines += ["[[feeds]]", f'name = "Test feed {i}"', f'url = "{server.url(feed)}"',
                  'tags = ["test"]', ""]
    for i, page in enumerate(pages):
        lines += ["[[pages]]", f'name = "Watched page {i}"', f'url = "{server.url(page)}"', ""]
    path.write_text("\n".join(lines))
    return path
