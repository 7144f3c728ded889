"""The report's dates say when the news happened, and developments.xml is a valid Atom feed:
written from a real SQLite file, parsed back with feedparser."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from claimwatch.flows.app.cli import main
from claimwatch.flows.report import publish, report
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Article, ClaimRecord
from tests.test_report import HOSTILE_TITLE, Builder, at, build_fixture

RUN = datetime(2026, 12, 4, 20, 37, tzinfo=UTC)  # a run long after the news


def _late_run(db_url: str) -> None:
    """A claim whose development was seen on 2026-12-04 from articles published in February,
    and one whose only source gives no publication date."""
    with session(engine_for(db_url)) as s:
        s.add(ClaimRecord(id="late", statement="The vote is due in March.", facts={"status": "due"},
                          state={"status": "held"}, added_at=at(1)))
        s.add(ClaimRecord(id="undated", statement="A ruling is pending.", facts={"status": "pending"},
                          state={"status": "issued"}, added_at=at(1)))
        s.flush()
        b = Builder(s)
        for claim, published in (("late", [at(3), at(2)]), ("undated", [None])):
            dev = b.development(claim, "updates", 1, {"status": ["due", "held"]}, {"status": "held"})
            dev.first_seen_at = RUN
            for n, when in enumerate(published):
                version = b.article(f"{claim} story", 2, url=f"https://{claim}.example/{n}")
                article = s.get(Article, version.article_id)
                assert article is not None
                article.published_at = when
                b.match(claim, version, "updates", "The vote was held.", dev)


def test_last_development_is_the_reported_date_and_the_run_time_only_as_a_last_resort(
        db_url: str, tmp_path: Path) -> None:
    _late_run(db_url)
    rep = report.load(engine_for(db_url))
    views = {c.id: c for c in rep.claims}
    assert (views["late"].last_development_at, views["late"].last_development_reported) == (at(2), True)
    assert (views["undated"].last_development_at, views["undated"].last_development_reported) == (RUN, False)
    html = report.render(rep)
    late_row = html[html.index('href="#claim-late"'):].split("</tr>")[0]
    assert "2026-02-02" in late_row and "2026-12-04" not in late_row
    undated_row = html[html.index('href="#claim-undated"'):].split("</tr>")[0]
    assert "2026-12-04" in undated_row and "first seen" in undated_row


def _feed(db_url: str, out: Path, monkeypatch: pytest.MonkeyPatch, url: str | None) -> dict:  # type: ignore[type-arg]
    if url:
        monkeypatch.setenv("CLAIMWATCH_REPORT_URL", url)
    else:
        monkeypatch.delenv("CLAIMWATCH_REPORT_URL", raising=False)
    publish.write(engine_for(db_url), out)
    return feedparser.parse((out / publish.FEED).read_bytes())


def test_developments_feed_parses_back_with_one_entry_per_development(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fixture = build_fixture(db_url)
    feed = _feed(db_url, tmp_path / "site", monkeypatch, "https://intranet.example/claims/index.html")
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "claimwatch: developments"
    assert feed.feed.links[1].href == "https://intranet.example/claims/developments.xml"
    entries = feed.entries
    assert len(entries) == 4  # three developments of "talks", one of "deal"
    assert len({e.id for e in entries}) == 4 and all(e.id.startswith("urn:uuid:") for e in entries)
    talks = [e for e in entries if e.title.startswith("talks ")]
    assert [e.title for e in talks] == [  # newest first
        "talks updates: status: postponed → held", "talks updates: date: 2026-02-07 → 2026-02-10",
        "talks updates: date: 2026-02-04 → 2026-02-07; status: scheduled → postponed"]
    first = talks[-1]
    assert first.link == "https://intranet.example/claims/index.html#claim-talks"
    assert first.published_parsed[:3] == (2026, 2, 1)
    assert {t.term for t in first.tags} == {"updates", "talks"}
    related = [link.href for link in first.links if link.rel == "related"]
    assert related == ["https://news.example/1", "https://news.example/2"]  # the copy is a source too
    body = first.content[0].value
    for expected in ("Talks are scheduled for February 4 in Abu Dhabi.",
                     "The talks were moved to February 7.", "Harbor Wire", "Syndicated Daily",
                     "2026-02-04 → 2026-02-07"):
        assert expected in body
    assert fixture.talks_order  # the fixture's developments are the feed's


def test_feed_ids_are_stable_across_rewrites_and_hostile_text_stays_text(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_fixture(db_url)
    with session(engine_for(db_url)) as s:  # characters XML cannot carry, in a title
        b = Builder(s)
        dev = b.development("quiet", "contradicts", 7, {}, {"status": "stated"})
        b.match("quiet", b.article("Bad\x0b bytes\x01 in a title", 7, url="https://odd.example/1"),
                "contradicts",
                "It never \x0cwas.", dev)
    first = _feed(db_url, tmp_path / "a", monkeypatch, None)
    again = _feed(db_url, tmp_path / "a", monkeypatch, None)
    assert first.bozo == 0 and again.bozo == 0, first.get("bozo_exception")
    assert [e.id for e in first.entries] == [e.id for e in again.entries]
    assert first.feed.id == again.feed.id
    raw = (tmp_path / "a" / publish.FEED).read_text()
    assert "<script" not in raw and "<i>Evil" not in raw  # escaped twice: XML, then HTML
    deal = next(e for e in first.entries if e.title.startswith("deal "))
    assert deal.link.startswith("https://news.example/")  # no report URL: its first source
    assert 'href="javascript' not in raw
    assert HOSTILE_TITLE.split("<script>")[0] in deal.content[0].value
    odd = next(e for e in first.entries if e.title.startswith("quiet "))
    assert "Bad bytes in a title" in odd.content[0].value


def test_cli_report_writes_the_feed_beside_index_html(db_url: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    build_fixture(db_url)
    assert main(["report", "--db", db_url, "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "out" / "index.html")
    assert feedparser.parse((tmp_path / "out" / "developments.xml").read_bytes()).entries
    assert 'href="developments.xml"' in (tmp_path / "out" / "index.html").read_text()


def test_a_report_that_cannot_be_written_after_a_cycle_is_logged_not_raised(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    build_fixture(db_url)
    monkeypatch.delenv("CLAIMWATCH_REPORT_DIR", raising=False)
    assert publish.after_cycle(engine_for(db_url)) is None  # not configured: nothing written
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CLAIMWATCH_REPORT_DIR", str(blocker / "report"))
    assert publish.after_cycle(engine_for(db_url)) is None
    assert "the report could not be written into" in caplog.text
    monkeypatch.setenv("CLAIMWATCH_REPORT_DIR", str(tmp_path / "report"))
    assert publish.after_cycle(engine_for(db_url)) == tmp_path / "report" / "index.html"
    assert (tmp_path / "report" / "developments.xml").is_file()
