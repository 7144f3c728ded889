"""The report in a real headless Chromium at a phone's width (390 px) and a desktop's (1400 px):
no sideways scroll, nothing clipped or pushed off-screen, slot names never broken mid-word."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from claimwatch.flows.report import publish
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import ClaimRecord
from tests.test_report import CHROMIUM, CHROMIUM_ARGS, Builder, at, build_fixture

# Every element's box must stay inside the viewport and hold its own content (a cell whose
# text spills out is clipped or overlaps); inline boxes and SVG shapes are checked by their parents.
OVERFLOWS = """() => {
  const width = document.documentElement.clientWidth, found = [];
  if (document.documentElement.scrollWidth > width)
    found.push(`page is ${document.documentElement.scrollWidth}px wide in ${width}px`);
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (!box.width && !box.height) continue;  // not shown (inside a closed <details>)
    const name = `${el.tagName.toLowerCase()}.${el.getAttribute('class') || ''}`;
    if (box.left < -0.5 || box.right > width + 0.5)
      found.push(`${name} off-screen ${box.left}..${box.right}`);
    const inline = getComputedStyle(el).display === 'inline' || el instanceof SVGElement;
    if (!inline && el.scrollWidth > el.clientWidth + 1)
      found.push(`${name} content ${el.scrollWidth}px in ${el.clientWidth}px`);
  }
  return found;
}"""
# A slot name broken mid-word ("locati on") has a word laid out on two lines.
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('.facts td.slot, ul.changes .slot')) {
    const text = cell.firstChild;
    if (!text || text.nodeType !== Node.TEXT_NODE) continue;
    let at = 0;
    for (const part of text.data.split(/(\\s+)/)) {
      if (part.trim()) {
        const range = document.createRange();
        range.setStart(text, at); range.setEnd(text, at + part.length);
        if (range.getClientRects().length > 1) broken.push(part);
      }
      at += part.length;
    }
  }
  return broken;
}"""


@pytest.fixture()
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _long_slots(db_url: str) -> None:
    """Slot names and values that strain a narrow screen: long words, a long URL-like value."""
    with session(engine_for(db_url)) as s:
        s.add(ClaimRecord(
            id="confidence-building-measures-on-the-agenda",
            statement="Confidence-building measures are on the agenda of the trilateral meeting.",
            facts={"location": "Abu Dhabi", "counterparty_delegation": "Ukraine, Russia, United States",
                   "topic": "prisoner-exchange-and-energy-infrastructure-moratorium"},
            state={"location": "Abu Dhabi", "counterparty_delegation": "Ukraine, Russia",
                   "topic": "prisoner-exchange"}, added_at=at(1)))
        s.flush()
        b = Builder(s)
        dev = b.development("confidence-building-measures-on-the-agenda", "updates", 8,
                            {"topic": ["prisoner-exchange-and-energy-infrastructure-moratorium",
                                       "prisoner-exchange"]}, {"topic": "prisoner-exchange"})
        b.match("confidence-building-measures-on-the-agenda",
                b.article("An extraordinarily-long-headline-without-any-spaces-" * 3, 8,
                          url="https://news.example/" + "very-long-path-segment/" * 8),
                "updates", "The energy moratorium was removed from the agenda.", dev)


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 1400])
def test_report_fits_the_screen_with_nothing_clipped(db_url: str, tmp_path: Path, browser: object,
                                                     width: int) -> None:
    build_fixture(db_url)
    _long_slots(db_url)
    index = publish.write(engine_for(db_url), tmp_path / "site")
    page = browser.new_page(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page.goto(index.as_uri())
    assert page.evaluate(OVERFLOWS) == []
    for details in page.locator("details").all():  # what folds open must fit as well
        details.evaluate("d => d.open = true")
    assert page.evaluate(OVERFLOWS) == []
    assert page.evaluate(BROKEN_WORDS) == []
    assert page.locator(".facts td.slot").count() >= 6  # the check above looked at slots
    # Every column of the index is on screen, each value with what it is.
    row = page.locator(".index tbody tr").first
    assert row.locator("td").count() == 4 and all(
        cell.is_visible() for cell in row.locator("td").all())
    if width == 390:
        assert page.locator(".index thead").is_hidden()
        labels = row.locator("td[data-label]").evaluate_all(
            "cells => cells.map(c => getComputedStyle(c, '::before').content)")
        assert len(labels) == 3 and "none" not in labels  # "Status: ", "Last development: "…
    else:
        assert page.locator(".index thead").is_visible()
