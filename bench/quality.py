"""Extraction quality against the corpus truth files: token F1 (full text) and snippet F1.

Truth schema (../shared/corpus/MANIFEST.md): `full_text*` kinds carry the article body in
`articleBody`; the `snippets` kind carries 'with' fragments that must be in the output (found =
true positive, missing = false negative) and 'without' fragments that must not (found = false
positive), scored as trafilatura's own evaluation scores them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

TOKEN = re.compile(r"\w+", re.UNICODE)
SPACE = re.compile(r"\s+")
LOST_BELOW = 0.5  # an article is lost when claimwatch's text scores under this...
FLOOR_READS = 0.8  # ...on a page where trafilatura's default mode scores at least this


@dataclass(frozen=True, slots=True)
class Quality:
    """Scores for one extractor over the corpus. The headline is `full_text_f1_aeb`."""

    full_text_f1_aeb: float  # mean per-page token F1, human-annotated article bodies (AEB)
    aeb_pages: int
    full_text_f1_np4k: float  # the same against newspaper4k's own expected output (biased)
    np4k_pages: int
    snippets_f1: float  # F1 over all snippet counts (micro), as trafilatura evaluates
    snippets_pages: int
    empty_pages: int  # pages where the extractor returned nothing


def _tokens(text: str) -> Counter[str]:
    return Counter(TOKEN.findall(text.lower()))


def token_f1(extracted: str, truth: str) -> float:
    """Bag-of-words F1 between the extracted text and the expected text."""
    got, want = _tokens(extracted), _tokens(truth)
    common = sum((got & want).values())
    if not got or not want or not common:
        return 1.0 if not got and not want else 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def _flat(text: str) -> str:
    return SPACE.sub(" ", text).strip()


def snippet_counts(extracted: str, truth: Mapping[str, object]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of one page's fragments."""
    text = _flat(extracted)
    with_ = [_flat(str(s)) for s in truth.get("with", []) or []]  # type: ignore[union-attr]
    without = [_flat(str(s)) for s in truth.get("without", []) or []]  # type: ignore[union-attr]
    tp = sum(1 for s in with_ if s and s in text)
    fp = sum(1 for s in without if s and s in text)
    return tp, fp, len([s for s in with_ if s]) - tp


def page_score(extracted: str, truth: Mapping[str, object]) -> float:
    """One page's score: token F1 against the article body, or for a page whose truth is
    fragments (kind `snippets`), the F1 of its fragment counts."""
    if str(truth["kind"]).startswith("full_text"):
        return token_f1(extracted, str(truth.get("articleBody") or ""))
    tp, fp, fn = snippet_counts(extracted, truth)
    return 2 * tp / (2 * tp + fp + fn) if tp else float(not (fp or fn))


def lost(texts: Mapping[str, str | None], floor: Mapping[str, str | None],
         truth: Mapping[str, Mapping[str, object]]) -> list[str]:
    """Pages whose article claimwatch lost: its text scores under LOST_BELOW where the floor's
    (trafilatura's default mode) scores FLOOR_READS or more."""
    return [page for page, record in truth.items() if page in texts and page in floor
            and page_score(floor[page] or "", record) >= FLOOR_READS
            and page_score(texts[page] or "", record) < LOST_BELOW]


def load_truth(corpus: Path) -> dict[str, dict[str, object]]:
    """Page file name (html/x.html) -> its truth record."""
    records = {}
    for path in sorted((corpus / "truth").glob("*.json")):
        record = json.loads(path.read_text())
        records[str(record["page"])] = record
    return records


def score(texts: Mapping[str, str | None], truth: Mapping[str, Mapping[str, object]]) -> Quality:
    """Score extracted texts (page file name -> text, None when nothing was extracted)."""
    full: dict[str, list[float]] = {"full_text": [], "full_text_tool_output": []}
    tp = fp = fn = 0
    snippet_pages = empty = 0
    for page, record in truth.items():
        if page not in texts:
            continue
        text = texts[page] or ""
        empty += not text
        kind = str(record["kind"])
        if kind in full:
            full[kind].append(token_f1(text, str(record.get("articleBody") or "")))
        else:
            t, f, n = snippet_counts(text, record)
            tp, fp, fn = tp + t, fp + f, fn + n
            snippet_pages += 1
    aeb, np4k = full["full_text"], full["full_text_tool_output"]
    return Quality(round(_mean(aeb), 4), len(aeb), round(_mean(np4k), 4), len(np4k),
                   round(2 * tp / (2 * tp + fp + fn) if tp else 0.0, 4), snippet_pages, empty)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0

