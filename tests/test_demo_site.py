"""The bundled demo site: feeds parse, linked pages extract, validators and rounds behave."""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import feedparser
import httpx
import pytest
import trafilatura

from claimwatch.flows.app.demo_site import DATA_DIR, DemoSite
from claimwatch.flows.seeds import load_sources

FEEDS = {
    "/harborwire/rss.xml": ("application/rss+xml", "rss20"),
    "/kyivledger/atom.xml": ("application/atom+xml", "atom10"),
    "/capitolrecord/rss.xml": ("application/rss+xml", "rss20"),
}
BILL = "/capitolrecord/bills/s2219-sanctioning-russia-act.html"
EDITED = "/kyivledger/news/2026/01/26/abu-dhabi-round-confidence-building-agenda.html"
MOVED = "/kyivledger/news/2026/01/31/abu-dhabi-talks-moved-to-february-7.html"
SYNDICATED = "/harborwire/world/2026/01/31/trilateral-talks-abu-dhabi-delayed.html"
ROUNDS = [1, 2, 3]
EXPECTATIONS = tomllib.loads((DATA_DIR / "expectations.toml").read_text(encoding="utf-8"))


@pytest.fixture
def site() -> Iterator[DemoSite]:
    with DemoSite() as demo:
        yield demo


@pytest.fixture
def client(site: DemoSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url, timeout=5) as http:
        yield http


def fetch_feed(client: httpx.Client, path: str) -> feedparser.FeedParserDict:
    response = client.get(path)
    response.raise_for_status()
    return feedparser.parse(response.content)  # bytes, never a URL (STYLE.md)


def linked_urls(client: httpx.Client) -> list[str]:
    return [entry.link for path in FEEDS for entry in fetch_feed(client, path).entries]


def extract(html: str) -> dict[str, str]:
    result = trafilatura.extract(
        html, output_format="json", with_metadata=True, include_comments=False
    )
    assert result, "trafilatura extracted nothing"
    return json.loads(result)


def body_text(client: httpx.Client, path: str) -> str:
    return extract(client.get(path).text)["text"]


def test_demo_bundles_three_rounds(site: DemoSite) -> None:
    assert site.rounds == 3


@pytest.mark.parametrize("round_number", ROUNDS)
def test_every_feed_parses_with_dated_items_newest_first(
    site: DemoSite, client: httpx.Client, round_number: int
) -> None:
    site.set_round(round_number)
    for path, (content_type, version) in FEEDS.items():
        response = client.get(path)
        assert response.headers["content-type"].startswith(content_type)
        feed = feedparser.parse(response.content)
        assert (feed.version, feed.bozo) == (version, False)
        assert len(feed.entries) >= 2
        for entry in feed.entries:
            assert entry.id and entry.title
            assert entry.link.startswith(site.base_url + "/")
        # dict.get: the entry's own <updated>, without feedparser's deprecated stand-in
        stamps = [dict.get(entry, "updated_parsed") or entry.published_parsed
                  for entry in feed.entries]
        assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize("round_number", ROUNDS)
def test_every_linked_page_extracts_title_date_and_100_words_without_comments(
    site: DemoSite, client: httpx.Client, round_number: int
) -> None:
    site.set_round(round_number)
    for url in [*linked_urls(client), site.base_url + BILL]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert f'<link rel="canonical" href="{url}">' in response.text
        article = extract(response.text)
        assert article["title"] and article["date"], url
        assert len(article["text"].split()) >= 100, url
        assert "Comments are moderated" not in article["text"], url
        assert "Most read" not in article["text"], url


@pytest.mark.parametrize("round_number", ROUNDS)
def test_no_placeholder_survives_serving(
    site: DemoSite, client: httpx.Client, round_number: int
) -> None:
    site.set_round(round_number)
    for url in [*FEEDS, *linked_urls(client), BILL]:
        assert "{{BASE}}" not in client.get(url).text, url


def test_etag_revalidation_answers_304_without_body(client: httpx.Client) -> None:
    first = client.get("/harborwire/rss.xml")
    again = client.get("/harborwire/rss.xml", headers={"If-None-Match": first.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == first.headers["etag"]


def test_if_modified_since_answers_304_when_unchanged(client: httpx.Client) -> None:
    first = client.get(BILL)
    since = first.headers["last-modified"]
    assert client.get(BILL, headers={"If-Modified-Since": since}).status_code == 304


def test_stale_validators_get_the_full_page(client: httpx.Client) -> None:
    stale = {
        "If-None-Match": '"not-the-etag"',
        "If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT",
    }
    response = client.get(BILL, headers=stale)
    assert response.status_code == 200
    assert response.content


def test_unknown_and_escaping_paths_are_404(client: httpx.Client) -> None:
    for path in ["/nope.html", "/harborwire/", "/sources.toml", "/%2e%2e/rounds.toml", "/"]:
        assert client.get(path).status_code == 404, path


def test_article_from_a_later_round_is_404_until_that_round(
    site: DemoSite, client: httpx.Client
) -> None:
    assert client.get(MOVED).status_code == 404
    site.set_round(2)
    assert client.get(MOVED).status_code == 200


def test_set_round_adds_feed_items_and_edits_the_article_in_place(
    site: DemoSite, client: httpx.Client
) -> None:
    before_ids = {entry.id for entry in fetch_feed(client, "/kyivledger/atom.xml").entries}
    before = client.get(EDITED)
    site.set_round(3)
    after_ids = {entry.id for entry in fetch_feed(client, "/kyivledger/atom.xml").entries}
    after = client.get(EDITED, headers={"If-None-Match": before.headers["etag"]})
    assert before_ids < after_ids
    assert after.status_code == 200
    assert after.headers["last-modified"] != before.headers["last-modified"]
    assert "limited withdrawal of troops" in extract(before.text)["text"]
    assert "was removed from the agenda" in extract(after.text)["text"]


def test_edited_article_keeps_its_guid_and_gains_a_later_updated(
    site: DemoSite, client: httpx.Client
) -> None:
    def entry_for(path: str) -> feedparser.FeedParserDict:
        entries = fetch_feed(client, "/kyivledger/atom.xml").entries
        return next(e for e in entries if e.link == site.base_url + path)

    original = entry_for(EDITED)
    site.set_round(3)
    edited = entry_for(EDITED)
    assert edited.id == original.id
    assert edited.updated_parsed > original.updated_parsed


def test_watched_page_changes_in_round_2_and_not_in_round_3(
    site: DemoSite, client: httpx.Client
) -> None:
    round_1 = client.get(BILL)
    site.set_round(2)
    round_2 = client.get(BILL, headers={"If-None-Match": round_1.headers["etag"]})
    assert round_2.status_code == 200
    assert "19–8" in extract(round_2.text)["text"]
    site.set_round(3)
    assert client.get(BILL, headers={"If-None-Match": round_2.headers["etag"]}).status_code == 304


def test_feed_untouched_by_a_round_keeps_its_validators(
    site: DemoSite, client: httpx.Client
) -> None:
    site.set_round(2)
    etag = client.get("/capitolrecord/rss.xml").headers["etag"]
    site.set_round(3)
    response = client.get("/capitolrecord/rss.xml", headers={"If-None-Match": etag})
    assert response.status_code == 304


def test_syndicated_copy_is_a_near_duplicate_under_its_own_url(
    site: DemoSite, client: httpx.Client
) -> None:
    site.set_round(2)
    original, copy = body_text(client, MOVED), body_text(client, SYNDICATED)
    assert original != copy
    assert difflib.SequenceMatcher(None, original, copy).ratio() > 0.8


@pytest.mark.parametrize("round_number", ROUNDS)
def test_every_path_in_expectations_exists_in_its_round(
    site: DemoSite, client: httpx.Client, round_number: int
) -> None:
    site.set_round(round_number)
    rows = [*EXPECTATIONS["expect"], *EXPECTATIONS["distractor"], *EXPECTATIONS["unchanged"]]
    for row in rows:
        if row["round"] != round_number:
            continue
        paths = [*row.get("articles", []), *row.get("near_duplicates", []), *row.get("paths", [])]
        for path in [*paths, *([row["article"]] if "article" in row else [])]:
            assert client.get(path).status_code == 200, path


def test_write_sources_lists_the_demo_feeds_and_page(site: DemoSite, tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    site.write_sources(path)
    sources = tomllib.loads(path.read_text(encoding="utf-8"))
    assert sources["allow_private_networks"] is True
    assert [feed["url"] for feed in sources["feeds"]] == [site.base_url + p for p in FEEDS]
    assert [page["url"] for page in sources["pages"]] == [site.base_url + BILL]
    assert all(feed["name"] and feed["tags"] for feed in sources["feeds"])


def test_written_sources_load_with_the_seed_loader(site: DemoSite, tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    site.write_sources(path)
    loaded = load_sources(path)
    assert loaded.allow_private_networks
    assert [s.kind for s in loaded.sources] == ["feed", "feed", "feed", "page"]


def test_requests_are_recorded_in_order(site: DemoSite, client: httpx.Client) -> None:
    client.get("/kyivledger/atom.xml")
    client.get("/missing.html?x=1")
    assert site.requests == ["/kyivledger/atom.xml", "/missing.html"]


def test_set_round_rejects_a_round_that_is_not_bundled(site: DemoSite) -> None:
    with pytest.raises(ValueError, match="round"):
        site.set_round(site.rounds + 1)


def test_base_url_needs_a_running_site() -> None:
    with pytest.raises(RuntimeError):
        _ = DemoSite().base_url


def test_stopped_site_refuses_connections() -> None:
    with DemoSite() as demo:
        url = demo.base_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/harborwire/rss.xml", timeout=2)
