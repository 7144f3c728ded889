"""Figures for one story: relevance, relations, developments, edits, facts (plain comparisons)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scoreboard import compare
from scoreboard.pipeline import Outcome
from scoreboard.stories import Labelled

RELATIONS = ("confirms", "updates", "contradicts", "mentions")
CONTEXT = {"parties", "person", "sponsor", "court", "body", "company", "topic"}


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float
    f1: float
    relation_accuracy: float
    relation_macro_f1: float
    per_relation: Mapping[str, float]
    duplicate_developments: int
    duplicates: int
    edits_right: int
    edits: int
    facts_right: int
    facts_total: int
    development_right: int
    development_total: int
    pairs: int  # expected (article, claim) pairs


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(items: Sequence[Labelled], outs: Mapping[str, Outcome], claim_ids: Sequence[str]) -> Score:
    live = [a for a in items if not outs[a.id].skipped]
    tp = fp = fn = 0
    for a in live:
        want, got = {e.claim for e in a.expect}, set(outs[a.id].relations)
        tp, fp, fn = tp + len(want & got), fp + len(got - want), fn + len(want - got)
    p, r, f1 = _prf(tp, fp, fn)
    pairs = [(e.relation, outs[a.id].relations.get(e.claim, "none")) for a in live for e in a.expect]
    accuracy = sum(w == g for w, g in pairs) / len(pairs) if pairs else 1.0
    per = {}
    for rel in RELATIONS:
        counts = (sum(w == rel == g for w, g in pairs), sum(w != rel == g for w, g in pairs),
                  sum(w == rel != g for w, g in pairs))
        if any(counts):
            per[rel] = _prf(*counts)[2]
    macro = sum(per.values()) / len(per) if per else 1.0
    dups = [a for a in items if a.duplicate_of]
    dev_pairs = [(e.development, e.claim in outs[a.id].developments)
                 for a in live for e in a.expect if e.development is not None]
    edits = [a for a in items if a.edit_of]
    edits_right = sum(_edit_right(a, outs[a.id]) for a in edits)
    facts = [(v, outs[a.id].facts.get(e.claim, {}).get(k)) for a in live for e in a.expect
             if e.relation in ("confirms", "updates") for k, v in e.facts.items() if k not in CONTEXT]
    return Score(p, r, f1, accuracy, macro, per, sum(bool(outs[a.id].developments) for a in dups),
                 len(dups), edits_right, len(edits), sum(compare.same(w, g) for w, g in facts),
                 len(facts), sum(w == g for w, g in dev_pairs), len(dev_pairs), len(pairs))


def _edit_right(a: Labelled, out: Outcome) -> bool:
    """An edit is right when it yields the development its labels ask for (and no other)."""
    want = {e.claim for e in a.expect if e.development}
    return want == set(out.developments) and all(
        out.relations.get(e.claim) == e.relation for e in a.expect if e.development)
