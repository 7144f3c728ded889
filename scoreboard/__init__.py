"""Scoreboard for the claim engine: labelled articles, round by round, against pinned floors.

Runs the labelled set through the same pure functions the pipeline uses (duplicates, claims.match,
developments.decide), keeping claim states and known developments in memory the way
flows/stages/matching.py keeps them in the database, and scores a plain TF-IDF baseline in the same run.
Like trafilatura's evaluation, the figures are the contract: tests/test_scoreboard.py pins floors.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from claimwatch.flows.engine.claims import RELATIONS, ArticleText, Claim, ClaimMatch, match, same_value
from claimwatch.flows.engine.developments import KnownDevelopment, NewDevelopment, Supports, decide
from claimwatch.flows.extract import duplicates
from claimwatch.flows.seeds import load_claims
from scoreboard.baseline import THRESHOLDS, Baseline

ROOT = Path(__file__).resolve().parent.parent
CLAIMS = ROOT / "seeds" / "claims.toml"
LABELLED = ROOT / "tests" / "scoreboard" / "articles.toml"
# Written before tuning on LABELLED and never tuned on: the check against over-fitting.
HELDOUT = ROOT / "tests" / "scoreboard" / "heldout.toml"


@dataclass(frozen=True, slots=True)
class Expect:
    claim: str
    relation: str
    facts: Mapping[str, str]
    development: bool | None


@dataclass(frozen=True, slots=True)
class Labelled:
    id: str
    round: int
    url: str
    title: str
    text: str
    published_at: datetime | None
    kind: str
    duplicate_of: str | None
    edit_of: str | None
    expect: tuple[Expect, ...]


@dataclass(slots=True)
class Outcome:
    """What one system said about one article: claim id -> relation, and developments made."""

    relations: dict[str, str] = field(default_factory=dict)
    facts: dict[str, Mapping[str, str]] = field(default_factory=dict)
    developments: dict[str, NewDevelopment] = field(default_factory=dict)
    skipped: bool = False  # same text as the stored version: the pipeline makes no new version


def load_set(path: Path) -> tuple[Labelled, ...]:
    """The labelled articles, ordered by round then publication time."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))["articles"]
    items = tuple(_labelled(a) for a in raw)
    return tuple(sorted(items, key=lambda a: (a.round, a.published_at or datetime.min)))


def _labelled(a: Mapping[str, Any]) -> Labelled:
    published = a.get("published_at")
    when = datetime.fromisoformat(str(published).replace("Z", "+00:00")) if published else None
    expect = tuple(
        Expect(
            str(e["claim"]),
            str(e["relation"]),
            {k: str(v) for k, v in e.get("facts", {}).items()},
            e.get("development"),
        )
        for e in a.get("expect", [])
    )
    return Labelled(
        str(a["id"]),
        int(a["round"]),
        str(a["url"]),
        str(a.get("title", "")),
        str(a["text"]),
        when,
        str(a.get("kind", "")),
        a.get("duplicate_of"),
        a.get("edit_of"),
        expect,
    )


class Engine:
    """The pipeline's decisions in memory: states, developments and the latest text per URL."""

    def __init__(self, claims: Sequence[Claim]) -> None:
        self.claims = tuple(claims)
        self.states: dict[str, dict[str, str]] = {c.id: dict(c.facts) for c in claims}
        self.known: list[KnownDevelopment] = []
        self.texts: dict[str, str] = {}
        self.round = 0
        self.round_states: dict[str, dict[str, str]] = dict(self.states)

    def process(self, article: Labelled) -> Outcome:
        if article.round != self.round:
            # Labels are relative to the state at the start of a round (one poll), so matching
            # sees that snapshot while decide() sees the live state, as one poll's batch would.
            self.round, self.round_states = (
                article.round,
                {k: dict(v) for k, v in self.states.items()},
            )
        previous = self.texts.get(article.url)
        if previous is not None and not duplicates.changed(previous, article.text):
            return Outcome(skipped=True)
        self.texts[article.url] = article.text
        fp = duplicates.fingerprint(article.text)
        text = ArticleText(article.url, article.title, article.text, article.published_at)
        out = Outcome()
        for m in match(text, self.claims, self.round_states):
            out.relations[m.claim_id] = m.relation
            out.facts[m.claim_id] = m.facts
            self._decide(m, fp, article.published_at or datetime.min, out)
        return out

    def _decide(self, m: ClaimMatch, fp: int, now: datetime, out: Outcome) -> None:
        mine = [k for k in self.known if k.claim_id == m.claim_id]
        decision = decide(m, self.states[m.claim_id], mine, fp, now)
        if isinstance(decision, NewDevelopment):
            dev = KnownDevelopment(
                len(self.known) + 1, m.claim_id, decision.relation, dict(decision.new_state), (fp,)
            )
            self.known.append(dev)
            self.states[m.claim_id] = dict(decision.new_state)
            out.developments[m.claim_id] = decision
        elif isinstance(decision, Supports):
            i = decision.development_id - 1
            k = self.known[i]
            self.known[i] = KnownDevelopment(k.id, k.claim_id, k.relation, k.facts, (*k.fingerprints, fp))


# ---------------------------------------------------------------- scoring


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float
    f1: float
    per_claim: Mapping[str, tuple[float, float, float]]
    relation_accuracy: float
    relation_macro_f1: float
    duplicate_developments: int
    duplicates: int
    edits_detected: int
    edits: int
    facts_right: int
    facts_total: int
    development_right: int
    development_total: int


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _relevance(
    items: Sequence[Labelled], outs: Mapping[str, Outcome], claim_ids: Sequence[str]
) -> tuple[tuple[float, float, float], dict[str, tuple[float, float, float]]]:
    counts = {c: [0, 0, 0] for c in claim_ids}
    for a in items:
        if outs[a.id].skipped:
            continue
        want = {e.claim for e in a.expect}
        got = set(outs[a.id].relations)
        for c in claim_ids:
            counts[c][0] += c in want and c in got
            counts[c][1] += c in got and c not in want
            counts[c][2] += c in want and c not in got
    total = [sum(v[i] for v in counts.values()) for i in range(3)]
    return _prf(*total), {c: _prf(*v) for c, v in counts.items() if any(v)}


def _relations(items: Sequence[Labelled], outs: Mapping[str, Outcome]) -> tuple[float, float]:
    """Accuracy and macro-F1 over the four relations on the expected pairs (a miss counts wrong)."""
    pairs = [
        (e.relation, outs[a.id].relations.get(e.claim, "none"))
        for a in items
        if not outs[a.id].skipped
        for e in a.expect
    ]
    if not pairs:
        return 1.0, 1.0
    accuracy = sum(w == g for w, g in pairs) / len(pairs)
    f1s = []
    for rel in RELATIONS:
        tp = sum(w == rel and g == rel for w, g in pairs)
        fp = sum(w != rel and g == rel for w, g in pairs)
        fn = sum(w == rel and g != rel for w, g in pairs)
        if tp + fp + fn:
            f1s.append(_prf(tp, fp, fn)[2])
    return accuracy, sum(f1s) / len(f1s)


def _edited_facts(a: Labelled, by_id: Mapping[str, Labelled]) -> list[tuple[str, str, str]]:
    """(claim, slot, new value) for each fact the edit changed from the version it edits."""
    original = by_id.get(a.edit_of or "")
    if original is None:
        return []
    before = {e.claim: e.facts for e in original.expect}
    return [
        (e.claim, slot, value)
        for e in a.expect
        if e.claim in before
        for slot, value in e.facts.items()
        if before[e.claim].get(slot) != value
    ]


def _edits(items: Sequence[Labelled], outs: Mapping[str, Outcome]) -> tuple[int, int]:
    by_id = {a.id: a for a in items}
    found = total = 0
    for a in items:
        if not a.edit_of:
            continue
        for claim, slot, value in _edited_facts(a, by_id):
            total += 1
            dev = outs[a.id].developments.get(claim)
            found += dev is not None and slot in dev.changes and _same(slot, dev.changes[slot][1], value)
    return found, total


def _same(slot: str, got: str | None, want: str) -> bool:
    return got is not None and same_value(slot, got, want)


def _facts(items: Sequence[Labelled], outs: Mapping[str, Outcome]) -> tuple[int, int]:
    right = total = 0
    for a in items:
        for e in a.expect:
            got = outs[a.id].facts.get(e.claim, {})
            for slot, value in e.facts.items():
                if slot in ("parties", "court", "topic"):
                    continue  # context slots, not extracted as facts
                total += 1
                right += _same(slot, got.get(slot), value)
    return right, total


def _developments(items: Sequence[Labelled], outs: Mapping[str, Outcome]) -> tuple[int, int]:
    pairs = [
        (e.development, e.claim in outs[a.id].developments)
        for a in items
        for e in a.expect
        if e.development is not None
    ]
    return sum(w == g for w, g in pairs), len(pairs)


def score(items: Sequence[Labelled], outs: Mapping[str, Outcome], claim_ids: Sequence[str]) -> Score:
    overall, per_claim = _relevance(items, outs, claim_ids)
    accuracy, macro = _relations(items, outs)
    dups = [a for a in items if a.duplicate_of]
    dup_devs = sum(bool(outs[a.id].developments) for a in dups)
    return Score(
        *overall,
        per_claim,
        accuracy,
        macro,
        dup_devs,
        len(dups),
        *_edits(items, outs),
        *_facts(items, outs),
        *_developments(items, outs),
    )


def run(path: Path = LABELLED, claims_path: Path = CLAIMS) -> tuple[Score, Score]:
    """Score the engine and the TF-IDF baseline on the labelled set; (engine, baseline)."""
    items = load_set(path)
    claims = load_claims(claims_path)
    engine = Engine(claims)
    outs = {a.id: engine.process(a) for a in items}
    ids = [c.id for c in claims]
    return score(items, outs, ids), _best_baseline(items, claims, ids)


def _best_baseline(items: Sequence[Labelled], claims: Sequence[Claim], ids: Sequence[str]) -> Score:
    """The baseline at its best threshold on this set (tuned on the set: a generous baseline)."""
    best: Score | None = None
    for threshold in THRESHOLDS:
        baseline = Baseline(claims, [a.text for a in items], threshold)
        outs = {a.id: baseline.process(a.url, a.title, a.text) for a in items}
        result = score(items, outs, ids)
        if best is None or result.f1 > best.f1:
            best = result
    assert best is not None
    return best


def render(engine: Score, base: Score) -> str:
    """A plain-text table, engine beside baseline."""
    rows = [
        ("relevance precision", f"{engine.precision:.3f}", f"{base.precision:.3f}"),
        ("relevance recall", f"{engine.recall:.3f}", f"{base.recall:.3f}"),
        ("relevance F1", f"{engine.f1:.3f}", f"{base.f1:.3f}"),
        ("relation accuracy", f"{engine.relation_accuracy:.3f}", f"{base.relation_accuracy:.3f}"),
        ("relation macro-F1", f"{engine.relation_macro_f1:.3f}", f"{base.relation_macro_f1:.3f}"),
        (
            "developments from near-duplicates",
            f"{engine.duplicate_developments}/{engine.duplicates}",
            f"{base.duplicate_developments}/{base.duplicates}",
        ),
        (
            "edited facts detected",
            f"{engine.edits_detected}/{engine.edits}",
            f"{base.edits_detected}/{base.edits}",
        ),
        (
            "facts right",
            f"{engine.facts_right}/{engine.facts_total}",
            f"{base.facts_right}/{base.facts_total}",
        ),
        (
            "development decisions right",
            f"{engine.development_right}/{engine.development_total}",
            f"{base.development_right}/{base.development_total}",
        ),
    ]
    lines = [f"{'':38}{'engine':>12}{'tf-idf':>12}"] + [f"{n:38}{a:>12}{b:>12}" for n, a, b in rows]
    lines.append("per claim relevance (P / R / F1), engine | tf-idf:")
    for claim in sorted(set(engine.per_claim) | set(base.per_claim)):
        e = engine.per_claim.get(claim, (1.0, 1.0, 1.0))
        b = base.per_claim.get(claim, (1.0, 1.0, 1.0))
        lines.append(
            f"  {claim:34}{e[0]:.2f} / {e[1]:.2f} / {e[2]:.2f}  |  {b[0]:.2f} / {b[1]:.2f} / {b[2]:.2f}"
        )
    return "\n".join(lines)
