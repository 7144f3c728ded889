"""`claimwatch sources add | import | export` against a real local HTTP server and real files:
a page finds its feed, the sources file keeps its comments, bad input changes nothing, OPML
from feed readers goes in and comes back out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from claimwatch.flows.app import opml
from claimwatch.flows.app.cli import main
from claimwatch.flows.app.commands import EXIT_BAD_INPUT, EXIT_FAILED_SOURCES, EXIT_OK
from claimwatch.flows.seeds import load_sources
from tests.servers import FeedEntry, Route, SiteServer, rss

OPML = Path(__file__).parent / "fixtures" / "opml"
HEAD = """\
# Sources for the desk. This comment must survive every command.
allow_private_networks = true   # the test server lives on 127.0.0.1

[[feeds]]
name = "Existing wire"   # kept as written
url = "https://kyivledger.example/atom.xml"
tags = ["ukraine"]
"""


@pytest.fixture()
def site() -> Iterator[SiteServer]:
    with SiteServer() as server:
        server.routes["/world/rss.xml"] = Route(rss("Harbor Wire — World", server.base_url, [
            FeedEntry("Talks resume", server.url("/a/1"), "1")]), "application/rss+xml")
        server.routes["/world/"] = Route(
            b"<!doctype html><html><head><title>World | Harbor Wire</title>"
            b'<link rel="alternate" type="application/rss+xml" title="World" href="rss.xml">'
            b"</head><body><h1>World</h1><p>News.</p></body></html>")
        server.routes["/plain"] = Route(
            b"<!doctype html><html><head><title>A court's opinions page</title></head>"
            b"<body><article><p>Opinions of the court, listed daily.</p></article></body></html>")
        server.routes["/dead-link"] = Route(
            b'<html><head><link rel="alternate" type="application/atom+xml" href="/gone.xml">'
            b"</head><body>x</body></html>")
        yield server


@pytest.fixture()
def sources(tmp_path: Path) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(HEAD)
    return path


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_adding_a_feed_url_names_it_after_the_feed_and_keeps_the_file(
        site: SiteServer, sources: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = site.url("/world/rss.xml")
    code, out, _ = _cli(capsys, "sources", "add", url, "--tag", "world", "--tag", "europe",
                        "--interval", "30", "--sources", str(sources))
    assert code == EXIT_OK and out == f"added feed 'Harbor Wire — World': {url} to {sources}\n"
    assert sources.read_text().startswith(HEAD)
    added = load_sources(sources).sources[-1]
    assert (added.kind, added.name, added.url, added.tags, added.interval_min) == (
        "feed", "Harbor Wire — World", url, ("world", "europe"), 30)


def test_a_page_url_finds_its_feed_through_link_rel_alternate(
        site: SiteServer, sources: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = site.url("/world/")
    code, out, _ = _cli(capsys, "sources", "add", page, "--name", "HW World", "--sources", str(sources))
    assert code == EXIT_OK, out
    assert f"(named by {page})" in out
    added = load_sources(sources).sources[-1]
    assert (added.kind, added.name, added.url) == ("feed", "HW World", site.url("/world/rss.xml"))
    # The same feed again, through its page or its own URL: refused, nothing written twice.
    before = sources.read_text()
    code, _, err = _cli(capsys, "sources", "add", page, "--sources", str(sources))
    assert code == EXIT_BAD_INPUT and "already in" in err and sources.read_text() == before


def test_a_page_without_a_feed_is_refused_unless_it_is_watched_as_a_page(
        site: SiteServer, sources: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = site.url("/plain")
    code, _, err = _cli(capsys, "sources", "add", url, "--sources", str(sources))
    assert code == EXIT_BAD_INPUT and "add --page" in err and sources.read_text() == HEAD
    code, _, _ = _cli(capsys, "sources", "add", url, "--page", "--sources", str(sources))
    assert code == EXIT_OK
    added = load_sources(sources).sources[-1]
    assert (added.kind, added.name, added.url) == ("page", "A court's opinions page", url)


@pytest.mark.parametrize("path", ["closed", "/dead-link"])
def test_a_source_that_does_not_answer_changes_nothing(
        site: SiteServer, sources: Path, capsys: pytest.CaptureFixture[str], path: str) -> None:
    url = "http://127.0.0.1:9/rss.xml" if path == "closed" else site.url(path)
    code, _, err = _cli(capsys, "sources", "add", url, "--sources", str(sources))
    assert code == EXIT_FAILED_SOURCES and err.endswith("; nothing was changed\n")
    assert sources.read_text() == HEAD


def test_adding_goes_through_the_address_guard(site: SiteServer, sources: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    sources.write_text(HEAD.replace("= true", "= false"))
    code, _, err = _cli(capsys, "sources", "add", site.url("/world/rss.xml"), "--sources", str(sources))
    assert code == EXIT_FAILED_SOURCES and "non-public address" in err
    assert site.hits("/world") == []  # refused when connecting: the server never saw a request


def test_an_option_for_another_action_is_refused(sources: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "sources", "import", str(OPML / "feedly.opml"), "--name", "x",
                        "--sources", str(sources))
    assert code == EXIT_BAD_INPUT and err == "error: --name goes with `claimwatch sources add`\n"
    assert sources.read_text() == HEAD


def test_importing_a_feed_readers_opml_turns_folders_into_tags(
        sources: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "sources", "import", str(OPML / "feedly.opml"), "--sources", str(sources))
    assert code == EXIT_OK
    assert out.endswith("imported 2 feed(s) from "
                        f"{OPML / 'feedly.opml'} into {sources}; 1 already listed, left as they were\n")
    assert sources.read_text().startswith(HEAD)
    assert [(s.name, s.url, s.tags) for s in load_sources(sources).sources] == [
        ("Existing wire", "https://kyivledger.example/atom.xml", ("ukraine",)),
        ("Harbor Wire - Europe", "https://harborwire.example/europe/rss.xml", ("ukraine", "europe")),
        ("Uncategorized wire", "http://wire.example/feed", ())]


@pytest.mark.parametrize("reader", ["thunderbird.opml", "feedly.opml"])
def test_opml_round_trips_through_the_sources_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], reader: str) -> None:
    original = opml.parse((OPML / reader).read_bytes())
    first, second = tmp_path / "first.toml", tmp_path / "second.toml"
    assert _cli(capsys, "sources", "import", str(OPML / reader), "--sources", str(first))[0] == EXIT_OK
    exported = tmp_path / "exported.opml"
    code, out, _ = _cli(capsys, "sources", "export", "--opml", "--out", str(exported),
                        "--sources", str(first))
    assert code == EXIT_OK and out == f"wrote {len(original)} feed(s) to {exported}\n"
    assert opml.parse(exported.read_bytes()) == original  # names, URLs and categories kept
    assert _cli(capsys, "sources", "import", str(exported), "--sources", str(second))[0] == EXIT_OK
    assert load_sources(second) == load_sources(first)
    text = exported.read_text()
    assert text.startswith('<?xml version=\'1.0\' encoding=\'utf-8\'?>\n<opml version="2.0">')
    assert "<dateCreated>" in text and 'type="rss"' in text


def test_thunderbird_folders_become_tags(tmp_path: Path) -> None:
    feeds = opml.parse((OPML / "thunderbird.opml").read_bytes())
    assert [(f.name, f.tags) for f in feeds] == [
        ("Harbor Wire - World", ("World desk",)), ("Kyiv Ledger", ("World desk",)),
        ("Capitol Record", ("Courts & Congress",))]


def test_export_prints_opml_and_says_which_pages_it_left_out(
        sources: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources.write_text(HEAD + '\n[[pages]]\nname = "Court"\nurl = "https://court.example/"\n')
    code, out, err = _cli(capsys, "sources", "export", "--sources", str(sources))
    assert code == EXIT_OK
    assert [f.url for f in opml.parse(out.encode())] == ["https://kyivledger.example/atom.xml"]
    assert err == "note: 1 watched page(s) left out: OPML lists feeds only\n"


BAD_OPML = [
    ("not-xml", b"<opml version='2.0'><body><outline", "not well-formed XML"),
    ("html", b"<html><body><p>hi</p></body></html>", "not an OPML file: its root element is <html>"),
    ("no-body", b"<opml version='2.0'><head/></opml>", "no <body>"),
    ("no-feeds", b"<opml version='2.0'><body><outline text='folder'/></body></opml>", "no feeds"),
    ("entities", b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
                 b"<opml version='2.0'><body><outline text='&b;' xmlUrl='https://x.example/'/></body></opml>",
     "declares XML entities"),
    ("external", b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY s SYSTEM "file:///etc/passwd">]>'
                 b"<opml version='2.0'><body><outline text='&s;' xmlUrl='https://x.example/'/></body></opml>",
     "declares XML entities"),
    ("bad-url", b"<opml version='2.0'><body><outline text='Evil' xmlUrl='javascript:alert(1)'/>"
                b"</body></opml>", "outline 'Evil': xmlUrl 'javascript:alert(1)'"),
]


@pytest.mark.parametrize(("name", "data", "problem"), BAD_OPML, ids=[b[0] for b in BAD_OPML])
def test_bad_opml_gets_a_clear_error_and_changes_nothing(
        tmp_path: Path, sources: Path, capsys: pytest.CaptureFixture[str],
        name: str, data: bytes, problem: str) -> None:
    bad = tmp_path / f"{name}.opml"
    bad.write_bytes(data)
    code, out, err = _cli(capsys, "sources", "import", str(bad), "--sources", str(sources))
    assert code == EXIT_BAD_INPUT and out == ""
    assert err.startswith(f"error: {bad}: ") and problem in err and err.endswith("nothing was imported\n")
    assert sources.read_text() == HEAD
