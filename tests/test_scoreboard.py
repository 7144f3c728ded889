"""The claim engine's pinned floors on the stories it is tuned on (python -m scoreboard).

Like trafilatura's evaluation gate: if a change makes judgement worse, this fails. The TF-IDF
baseline is measured in the same run. Blind stories are never pinned here: they are reported
apart by `python -m scoreboard --blind` and must not steer anyone's tuning.
"""

from __future__ import annotations

from functools import cache

from scoreboard import Score, Story, all_stories, pooled, run_baseline, run_engine

MEAN_RELEVANCE_F1 = 0.72
MEAN_RELATION_MACRO_F1 = 0.38


@cache
def _tuned() -> tuple[list[Story], list[Score], list[Score]]:
    stories = [s for s in all_stories() if not s.blind]
    return stories, [run_engine(s)[0] for s in stories], [run_baseline(s) for s in stories]


def test_at_least_four_new_stories_two_of_them_blind() -> None:
    stories = all_stories()
    new = [s for s in stories if not s.name.startswith("seed")]
    assert len(new) >= 4 and len({s.domain for s in new}) >= 4
    assert sum(s.blind for s in new) >= 2
    assert all(len(s.articles) >= 40 for s in new)


def test_mean_floors_on_the_tuned_stories() -> None:
    _, engine, _ = _tuned()
    relevance, relation = pooled(engine)
    assert relevance >= MEAN_RELEVANCE_F1, relevance
    assert relation >= MEAN_RELATION_MACRO_F1, relation


def test_the_engine_beats_tfidf_on_relations_in_every_tuned_story() -> None:
    stories, engine, baseline = _tuned()
    for story, e, b in zip(stories, engine, baseline, strict=True):
        assert e.relation_macro_f1 > b.relation_macro_f1, story.name


def test_near_duplicates_rarely_make_a_development() -> None:
    _, engine, _ = _tuned()
    assert sum(e.duplicate_developments for e in engine) <= sum(e.duplicates for e in engine) // 5
