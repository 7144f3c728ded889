"""A smoke run of the benchmark (`python -m bench`) at tiny sizes: it runs and says something.

The benchmark itself is not a test: speed is measured by running it, never asserted here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import quality
from bench.__main__ import main
from bench.layouts import LAYOUTS
from bench.matching import claim_set
from bench.site import feed_body, feed_templates

pytestmark = pytest.mark.slow


def test_token_f1_counts_shared_words() -> None:
    assert quality.token_f1("the talks were held", "the talks were held") == 1.0
    assert quality.token_f1("", "anything") == 0.0
    assert 0.0 < quality.token_f1("talks held in Abu Dhabi", "talks postponed") < 1.0


def test_snippets_found_in_the_text_count_as_true_or_false_positives() -> None:
    truth = {"with": ["kept  fragment"], "without": ["menu item", "footer"]}
    assert quality.snippet_counts("a kept fragment and a menu item", truth) == (1, 1, 0)


def test_claim_sets_grow_with_distinct_ids() -> None:
    claims = claim_set(50)
    assert len(claims) == 50 and len({c.id for c in claims}) == 50


def test_bench_feeds_parse_with_rewritten_links(corpus: Path) -> None:
    import feedparser

    templates = feed_templates(corpus)
    assert templates
    parsed = feedparser.parse(feed_body(templates, "http://127.0.0.9:1", 3, 0, 5))
    assert [e.link for e in parsed.entries] == [
        f"http://127.0.0.9:1/articles/3/0/{j}.html" for j in range(5)]
    assert len({e.id for e in parsed.entries}) == 5


def test_smoke_run_writes_every_figure(corpus: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "latest.json"
    assert main(["--feeds", "2", "--articles", "6", "--processes", "2", "--rss-articles", "0",
                 "--idle-feeds", "4", "--new-entries", "3", "--match-articles", "3",
                 "--quality-pages", "6", "--fixed-repeats", "1", "--layout-pages", "2", "--no-prefect",
                 "--output", str(output)]) == 0
    result = json.loads(output.read_text())
    assert result["extraction"]["floor"]["pages"] == 6
    layouts = result["extraction"]["layouts"]
    assert layouts["pages"] == 12 and set(layouts["by_layout"]) == set(LAYOUTS)
    assert set(result["extraction"]["lost"]) == {"claimwatch", "fast_path"}
    assert result["verdicts"]["lost_articles"]["value"] == \
        len(result["extraction"]["lost"]["claimwatch"]) + len(layouts["lost"]["claimwatch"])
    assert result["end_to_end"]["read"] == 6 and result["end_to_end"]["failed_pages"] == 0
    assert result["unchanged"]["not_modified"] == 4 and result["unchanged"]["read"] == 0
    assert result["new_items"]["new_items"] == 4 * 3
    assert [m["claims"] for m in result["matching"]] == [10, 50, 200]
    assert result["end_to_end"]["peak_rss_mb"] > 0
    assert result["fixed_cost"]["claimwatch_run"]["wall_s"] > 0
    assert "fixed_cost_s" in result["verdicts"]
    out = capsys.readouterr().out
    assert "| figure | value | vs floor |" in out and "| lost articles: claimwatch" in out
