"""Scoreboard for the claim engine: labelled stories, blind ones apart, beside TF-IDF.

Each story (tests/scoreboard/FORMAT.md) is run through the same pure functions the pipeline
uses (claims.match with states as of each article, developments.decide) by pipeline.Pipeline,
and scored with plain comparisons of its own (compare.py, scoring.py). Blind stories were
written before the engine changes they judge and are never tuned on.
"""

from __future__ import annotations

from collections.abc import Sequence

from scoreboard.baseline import THRESHOLDS, Baseline
from scoreboard.pipeline import Outcome, Pipeline
from scoreboard.scoring import Score, score
from scoreboard.stories import Labelled, Story, all_stories

__all__ = ["Outcome", "Score", "Story", "all_stories", "run_baseline", "run_engine"]


def run_engine(story: Story) -> tuple[Score, dict[str, Outcome]]:
    pipeline = Pipeline(story.claims)
    outs = {a.id: pipeline.process(a) for a in story.articles}
    return score(story.articles, outs, [c.id for c in story.claims]), outs


def run_baseline(story: Story) -> Score:
    """The baseline at its best threshold on this story (tuned on it: a generous baseline)."""
    best: Score | None = None
    for threshold in THRESHOLDS:
        baseline = Baseline(story.claims, [a.text for a in story.articles], threshold)
        outs = {a.id: baseline.process(a.url, a.title, a.text) for a in story.articles}
        result = score(story.articles, outs, [c.id for c in story.claims])
        if best is None or result.f1 > best.f1:
            best = result
    assert best is not None
    return best


def pooled(scores: Sequence[Score]) -> tuple[float, float]:
    """Mean relevance F1 and relation macro-F1 over stories (each story weighs the same)."""
    return (sum(s.f1 for s in scores) / len(scores), sum(s.relation_macro_f1 for s in scores) / len(scores))


def articles_of(story: Story) -> Sequence[Labelled]:
    return story.articles
