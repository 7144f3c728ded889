"""The claim timeline report: built from a real SQLite file, opened in a real headless Chromium."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from claimwatch.flows.app.cli import main
from claimwatch.flows.extract.duplicates import fingerprint
from claimwatch.flows.report import chart as chart_module
from claimwatch.flows.report import links, markdown, report
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Article, ArticleVersion, ClaimRecord, Development, Match

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
HOSTILE_TITLE = ('Talks <script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
                 '<b>collapse</b> & "fail"')
HOSTILE_OUTLET = "<i>Evil</i> Outlet"
STORY = ("Negotiators from the three delegations met in the Emirati capital on Saturday and agreed "
         "to resume the talks next week after a long day of consultations behind closed doors.")


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 2, day, hour, tzinfo=UTC)


@dataclass
class Fixture:
    db_url: str
    talks_order: list[int]  # development ids of claim "talks" in date order


class Builder:
    """Writes claims, articles, developments and matches straight into the tables."""

    def __init__(self, s: object) -> None:
        self.s = s
        self.articles = 0

    def article(self, title: str, day: int, outlet: str | None = "Harbor Wire",
                text: str | None = None, url: str | None = None) -> ArticleVersion:
        self.articles += 1
        body = text or f"Story {self.articles}: {title}. " * 20
        article = Article(url=url or f"https://news.example/{self.articles}", title=title,
                          outlet=outlet, published_at=at(day), first_seen_at=at(day, 10),
                          latest_version=1)
        self.s.add(article)  # type: ignore[attr-defined]
        self.s.flush()  # type: ignore[attr-defined]
        version = ArticleVersion(article_id=article.id, version=1, title=title, text=body,
                                 text_hash=str(self.articles), fingerprint=fingerprint(body),
                                 fetched_at=at(day, 10), matched_at=at(day, 11))
        self.s.add(version)  # type: ignore[attr-defined]
        self.s.flush()  # type: ignore[attr-defined]
        return version

    def development(self, claim: str, relation: str, day: int, changes: dict[str, list[str]],
                    facts: dict[str, str]) -> Development:
        summary = "; ".join(f"{k}: {a} → {b}" for k, (a, b) in changes.items()) or "disputed"
        dev = Development(claim_id=claim, relation=relation, summary=summary, changes=changes,
                          facts=facts, first_seen_at=at(day, 12))
        self.s.add(dev)  # type: ignore[attr-defined]
        self.s.flush()  # type: ignore[attr-defined]
        return dev

    def match(self, claim: str, version: ArticleVersion, relation: str, evidence: str,
              dev: Development | None = None) -> None:
        self.s.add(Match(claim_id=claim, article_version_id=version.id,  # type: ignore[attr-defined]
                         relation=relation, evidence=evidence, score=0.9,
                         development_id=dev.id if dev else None, matched_at=version.fetched_at))


def build_fixture(db_url: str) -> Fixture:
    """Three claims: "talks" moved three times, "deal" contradicted by a hostile page, "quiet"."""
    with session(engine_for(db_url)) as s:
        s.add(ClaimRecord(id="talks", statement="Talks are scheduled for February 4 in Abu Dhabi.",
                          facts={"date": "2026-02-04", "status": "scheduled", "location": "Abu Dhabi"},
                          state={"date": "2026-02-10", "status": "held", "location": "Abu Dhabi"},
                          added_at=at(1)))
        s.add(ClaimRecord(id="deal", statement="A $12 trillion deal is on the table.",
                          facts={"status": "proposed"}, state={"status": "proposed"}, added_at=at(1)))
        s.add(ClaimRecord(id="quiet", statement="Nothing happens to this claim.",
                          facts={"status": "stated"}, state={"status": "stated"}, added_at=at(1)))
        s.flush()
        b = Builder(s)
        # Inserted out of date order on purpose: the timeline must sort by date, not by id.
        held = b.development("talks", "updates", 9, {"status": ["postponed", "held"]},
                             {"date": "2026-02-10", "status": "held"})
        moved = b.development("talks", "updates", 1, {"date": ["2026-02-04", "2026-02-07"],
                                                      "status": ["scheduled", "postponed"]},
                              {"date": "2026-02-07", "status": "postponed"})
        again = b.development("talks", "updates", 5, {"date": ["2026-02-07", "2026-02-10"]},
                              {"date": "2026-02-10", "status": "postponed"})
        original = b.article("Abu Dhabi talks delayed to February 7", 1, text=STORY)
        copy = b.article("Delay for Abu Dhabi talks", 1, outlet="Syndicated Daily", text=STORY + " AP")
        b.match("talks", original, "updates", "The talks were moved to February 7.", moved)
        b.match("talks", copy, "updates", "The talks were moved to February 7.", moved)
        b.match("talks", b.article("Talks pushed to February 10", 5), "updates",
                "Talks are now set for February 10.", again)
        b.match("talks", b.article("Talks held at last", 9), "updates", "The talks were held.", held)
        b.match("talks", b.article("Talks still on", 2), "confirms", "Talks go ahead.")
        denial = b.development("deal", "contradicts", 6, {"status": ["proposed", "denied"]},
                               {"status": "proposed"})
        b.match("deal", b.article(HOSTILE_TITLE, 6, outlet=HOSTILE_OUTLET), "contradicts",
                "Officials said <script>window.pwned = 3</script> no offer was made.", denial)
        b.match("deal", b.article("Sneaky link", 6, url="javascript:window.pwned=4"), "contradicts",
                "No such offer exists.", denial)
        b.match("quiet", b.article("Quiet day", 3), "mentions", "Someone mentioned it.")
        order = [moved.id, again.id, held.id]
    return Fixture(db_url, order)  # type: ignore[arg-type]


@pytest.fixture()
def fixture(db_url: str) -> Fixture:
    return build_fixture(db_url)


def claim(rep: report.Report, claim_id: str) -> report.ClaimView:
    return next(c for c in rep.claims if c.id == claim_id)


# ---------------------------------------------------------------- what the report holds


def test_index_gives_each_claim_a_status_its_last_development_and_its_sources(
        fixture: Fixture) -> None:
    rep = report.load(engine_for(fixture.db_url))
    rows = {c.id: (c.status, c.last_development_at, c.source_count) for c in rep.claims}
    # The last development's date is when its news was published, not when the run saw it.
    assert rows == {"talks": ("updated", at(9), 5), "deal": ("contradicted", at(6), 2),
                    "quiet": ("unchanged", None, 1)}


def test_timeline_is_in_date_order_whatever_order_developments_were_stored(
        fixture: Fixture) -> None:
    talks = claim(report.load(engine_for(fixture.db_url)), "talks")
    assert [e.id for e in talks.timeline] == fixture.talks_order
    assert [e.seen_at for e in talks.timeline] == [at(1, 12), at(5, 12), at(9, 12)]


def test_near_duplicate_copy_is_folded_under_the_first_source(fixture: Fixture) -> None:
    first = claim(report.load(engine_for(fixture.db_url)), "talks").timeline[0]
    (group,) = first.groups
    assert group.primary.outlet_name == "Harbor Wire"
    assert [r.outlet_name for r in group.copies] == ["Syndicated Daily"]


def test_changed_slots_pair_the_seed_with_the_current_value(fixture: Fixture) -> None:
    talks = claim(report.load(engine_for(fixture.db_url)), "talks")
    changed = {f.slot: (f.seed, f.now) for f in talks.facts if f.changed}
    assert changed == {"date": ("2026-02-04", "2026-02-10"), "status": ("scheduled", "held")}


def test_chart_counts_each_day_by_relation(fixture: Fixture) -> None:
    chart = claim(report.load(engine_for(fixture.db_url)), "talks").chart
    assert (chart.first_day, chart.last_day, chart.peak, chart.total) == (
        at(1).date(), at(9).date(), 2, 5)
    labels = {bar.label for bar in chart.bars}
    assert labels == {"2026-02-01: 2 updates", "2026-02-02: 1 confirms", "2026-02-05: 1 updates",
                      "2026-02-09: 1 updates"}
    tallest = [bar for bar in chart.bars if bar.label.startswith("2026-02-01")]
    assert len(tallest) == 1 and tallest[0].h == chart_module.CHART_H and tallest[0].y == 0


def test_chart_draws_at_most_its_window_and_counts_the_rest() -> None:
    rows = [report.SourceRow(i, "c", "confirms", "", None, at(9), i, 1, "", 0, at(9),
                             "https://a.example/", "", None, published)
            for i, published in enumerate([datetime(1970, 1, 1, tzinfo=UTC), at(8), at(9)])]
    chart = chart_module.chart((r.day, r.relation) for r in rows)
    assert (chart.first_day, chart.last_day, chart.total, chart.hidden) == (
        date(2025, 10, 13), date(2026, 2, 9), 3, 1)


def test_since_and_claim_narrow_the_report(fixture: Fixture) -> None:
    rep = report.load(engine_for(fixture.db_url), "talks", since=at(4))
    (talks,) = rep.claims
    assert [e.seen_at for e in talks.timeline] == [at(5, 12), at(9, 12)]
    assert talks.chart.first_day == at(5).date()


def test_a_javascript_url_is_never_a_link() -> None:
    assert links.safe_href("javascript:window.pwned=4") is None
    assert links.safe_href("data:text/html,hi") is None
    assert links.safe_href("https://news.example/a?b=1") == "https://news.example/a?b=1"
    assert links.safe_href("http:///nohost") is None


def test_claim_anchor_is_an_html_id_and_report_url_links_to_it(monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    assert links.claim_anchor("abu-dhabi-talks") == "claim-abu-dhabi-talks"
    assert links.claim_anchor('a b"<c>') == "claim-a.20b.22.3cc.3e"
    monkeypatch.delenv("CLAIMWATCH_REPORT_URL", raising=False)
    assert links.claim_url("talks") is None
    monkeypatch.setenv("CLAIMWATCH_REPORT_URL", "https://intranet.example/claims/index.html")
    assert links.claim_url("talks") == "https://intranet.example/claims/index.html#claim-talks"


# ---------------------------------------------------------------- the HTML and the artifact


def test_untrusted_text_reaches_the_html_escaped(fixture: Fixture, tmp_path: Path) -> None:
    html = report.write(engine_for(fixture.db_url), tmp_path).read_text()
    assert "<script" not in html and "onerror=\"" not in html and "<i>Evil" not in html
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in html
    assert 'href="javascript' not in html and "(javascript:window.pwned=4)" in html
    assert "<img" not in html and "http://" not in html  # nothing to fetch: self-contained


def test_cli_report_writes_index_html_and_prints_its_path(
        fixture: Fixture, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "site"
    assert main(["report", "--db", fixture.db_url, "--out", str(out), "--claim", "deal",
                 "--since", "2026-02-02"]) == 0
    assert capsys.readouterr().out.strip() == str(out / "index.html")
    html = (out / "index.html").read_text()
    assert 'id="claim-deal"' in html and 'id="claim-talks"' not in html


def test_markdown_rows_link_sources_by_outlet_and_claims_to_the_report() -> None:
    rows = markdown.markdown_rows([{
        "claim": "talks", "relation": "updates", "summary": "date: a | b → [c](javascript:x)",
        "urls": ["https://news.example/a_(1)", "javascript:alert(1)"],
        "outlets": ["Harbor *Wire*", None]}], report_url="https://r.example/index.html")
    assert rows[:2] == ["| claim | relation | what changed | sources |", "|---|---|---|---|"]
    assert rows[2] == ("| [talks](https://r.example/index.html#claim-talks) | updates"
                       " | date: a \\| b → \\[c\\]\\(javascript:x\\)"
                       " | [Harbor \\*Wire\\*](https://news.example/a_%281%29), source 2 |")


def test_run_artifact_carries_the_developments_table(monkeypatch: pytest.MonkeyPatch) -> None:
    from claimwatch.flows.cycle import CycleSummary
    from claimwatch.flows.stages.matching import MatchSummary
    from claimwatch.flows.stages.polls import PollSummary
    from claimwatch.flows.stages.reads import ReadSummary

    monkeypatch.delenv("CLAIMWATCH_REPORT_URL", raising=False)
    summary = CycleSummary(7, PollSummary(polled=2), ReadSummary(), MatchSummary(developments=[3]))
    summary.developments = [{"id": 3, "claim": "talks", "relation": "updates",
                             "summary": "status: scheduled → held",
                             "urls": ["https://news.example/1"], "outlets": ["Harbor Wire"]}]
    text = markdown.cycle(summary)
    assert "| talks | updates | status: scheduled → held | [Harbor Wire](https://news.example/1) |" \
        in text


# ---------------------------------------------------------------- in a real browser


def png_colours(png: bytes) -> int:
    """Distinct colours in an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", (0, 0, 0, 0)
    while pos < len(png):
        (length,), kind = struct.unpack(">I", png[pos:pos + 4]), png[pos + 4:pos + 8]
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", data[:10])
            assert depth == 8 and colour in (2, 6) and data[12] == 0
            header = (width, height, 3 if colour == 2 else 4, 0)
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    width, height, bpp, _ = header
    raw, stride, previous, colours = zlib.decompress(idat), width * bpp, bytearray(width * bpp), set()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        colours.update(bytes(line[i:i + bpp]) for i in range(0, stride, bpp))
        previous = line
    return len(colours)


@pytest.fixture()
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.mark.slow
def test_report_opens_in_chromium_shows_the_timeline_and_runs_nothing(
        fixture: Fixture, tmp_path: Path, browser: object) -> None:
    index = report.write(engine_for(fixture.db_url), tmp_path / "site")
    page = browser.new_page(viewport={"width": 900, "height": 700})  # type: ignore[attr-defined]
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith("file://") else problems.append(r.url))
    page.goto(index.as_uri())

    assert problems == []
    entries = page.locator("#claim-talks ol.timeline > li")
    assert entries.count() == 3
    assert [int(x) for x in entries.evaluate_all("els => els.map(e => e.dataset.development)")] \
        == fixture.talks_order
    times = entries.locator(".when").all_inner_texts()
    assert [t[:10] for t in times] == ["2026-02-01", "2026-02-05", "2026-02-09"]

    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator("img").count() == 0 and page.locator("#claim-deal b:text('collapse')").count() == 0
    assert HOSTILE_TITLE in page.locator("#claim-deal").inner_text()
    assert page.get_by_text(HOSTILE_TITLE).first.is_visible()
    assert page.locator("a[href^='javascript']").count() == 0

    shot = page.screenshot(clip={"x": 0, "y": 0, "width": 640, "height": 480})
    assert png_colours(shot) > 20  # a blank or single-colour page has one or two
