"""An assessment against the claim's state as of the article: confirms, updates, contradicts or
mentions, with the sentence that decided it (pure).

FactBank's mapping (../shared/JUDGEMENT.md): a certain-positive statement of the same facts
confirms; of another value, or a later status, updates; a denial, or a status that says the
claim will not come true, contradicts; anything uncommitted (hedged, or no checkable value)
only mentions. Repeating news first reported less than 48 hours before carries that news'
relation: it is another source for the same development (tests/scoreboard/FORMAT.md rule 5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from claimwatch.flows.engine import dates, figures, knowledge, lexicon
from claimwatch.flows.engine.assess import Assessment
from claimwatch.flows.engine.findings import Finding
from claimwatch.flows.engine.model import ClaimMatch, Relation
from claimwatch.flows.engine.profile import Profile

SAME_NEWS = timedelta(hours=48)
RATE_DECISIONS = frozenset({"held", "cut", "raised"})


@dataclass(frozen=True, slots=True)
class Recent:
    """A development reported shortly before the article (within SAME_NEWS)."""

    relation: Relation
    changed: frozenset[str]  # the slots it changed
    state: Mapping[str, str]  # the claim's state right after it


def same_value(slot: str, a: str, b: str) -> bool:
    """Two values of a slot are the same fact: dates overlap, numbers agree within rounding."""
    a, b = a.strip(), b.strip()
    if a.lower() == b.lower():
        return True
    if slot == "status" or slot == "stance":
        return False
    if dates_like(a) and dates_like(b):
        return dates.same_date(a, b)
    fa, fb = figures.parse_value(a), figures.parse_value(b)
    if fa is not None and fb is not None and fa.kind == fb.kind:
        if fa.kind == "vote":
            return fa.unit == fb.unit
        if fa.kind == "money" and fa.unit != fb.unit:
            return False
        if fa.unit == "each" or fb.unit == "each":
            return fa.unit == fb.unit and figures.same_number(fa.value, fb.value)
        return figures.same_number(fa.value, fb.value, fa.approx or fb.approx)
    place_a, place_b = knowledge.get().places.get(a.lower()), knowledge.get().places.get(b.lower())
    return place_a is not None and place_a == place_b


def dates_like(value: str) -> bool:
    return len(value) >= 10 and value[4] == "-" and value[:4].isdigit()


def relate(a: Assessment, p: Profile, state: Mapping[str, str],
           recent: Sequence[Recent] = ()) -> ClaimMatch:
    """The relation of an assessed article to the claim's state as of its publication."""
    kind = lexicon.get().kinds[p.kind]
    usable = _same_event([f for f in a.findings if not f.hedged], p, state)
    status = _status(usable, state.get("status"), kind, p)
    changed: dict[str, Finding] = {}
    same: dict[str, Finding] = {}
    if a.denial is not None:
        return _match(a, "contradicts", {"status": "denied"}, a.denial)
    if status is not None and status[0] == "contradicts":
        f = status[1]
        return _match(a, "contradicts", {"status": f.value}, a.text_of(f.sentence))
    if status is not None:
        (changed if status[0] == "updates" else same)["status"] = status[1]
    for f in usable:  # "Daggett does not oppose all automation": the stance claimed, denied
        if f.slot != "status" and f.negated and state.get(f.slot) and same_value(
                f.slot, f.value, state[f.slot]) and p.slot(f.slot) is not None \
                and p.slot(f.slot).shape == "stance":  # type: ignore[union-attr]
            return _match(a, "contradicts", {"status": "denied"}, a.text_of(f.sentence))
    for slot in p.slots:
        if slot.shape == "status":
            continue
        values = [f for f in usable if f.slot == slot.name and not f.negated]
        verdict = _slot_verdict(values, state.get(slot.name), slot.name)
        if verdict is not None:
            (changed if verdict[0] == "updates" else same)[slot.name] = verdict[1]
    if changed:
        first = min(changed.values(), key=lambda f: _rank(a, f))
        facts = {k: f.value for k, f in {**same, **changed}.items()}
        return _match(a, "updates", facts, a.text_of(first.sentence))
    if same:
        first = min(same.values(), key=lambda f: _rank(a, f))
        facts = {k: f.value for k, f in same.items()}
        relation: Relation = "confirms"
        for r in recent:  # the same update again, within 48 hours: another source for it
            if r.relation == "updates" and r.changed & set(same) and all(
                    same_value(k, v, r.state.get(k, "")) for k, v in facts.items() if k in r.changed):
                relation = r.relation
        return _match(a, relation, facts, a.text_of(first.sentence))
    return _match(a, "mentions", {}, a.evidence[0] if a.evidence else "")


SCHEDULING = frozenset({"scheduled", "postponed"})


def _same_event(found: list[Finding], p: Profile, state: Mapping[str, str]) -> list[Finding]:
    """Keep what belongs to the claim's event. A date the claim's event does not have is news
    only beside a word of scheduling or change ("moved to Feb 10"); a held, ended or cancelled
    meeting dated otherwise than the claim's is another meeting."""
    date_slot = next((s.name for s in p.slots if s.shape == "date"), None)
    if p.kind != "event" or date_slot is None:
        return found
    current = state.get(date_slot)
    by_sentence: dict[int, list[Finding]] = {}
    for f in found:
        by_sentence.setdefault(f.sentence, []).append(f)
    kept: list[Finding] = []
    for group in by_sentence.values():
        statuses = {f.value for f in group if f.slot == "status" and not f.negated}
        other_day = [f for f in group if f.slot == date_slot and not f.old and current
                     and not same_value(date_slot, f.value, current)]
        for f in group:
            if f.slot == date_slot and f in other_day and not statuses & SCHEDULING:
                continue
            if f.slot == "status" and other_day and f.value not in SCHEDULING:
                continue
            kept.append(f)
    return kept


def _rank(a: Assessment, f: Finding) -> int:
    order = [i for i, _ in a.texts]
    return order.index(f.sentence) if f.sentence in order else len(order)


def _match(a: Assessment, relation: Relation, facts: Mapping[str, str], evidence: str
           ) -> ClaimMatch:
    return ClaimMatch(a.claim_id, relation, evidence, dict(facts), a.score)


def _status(found: Sequence[Finding], current: str | None, kind: lexicon.Kind, p: Profile
            ) -> tuple[Relation, Finding] | None:
    """What the statuses the article asserts say against the current status."""
    statuses = [f for f in found if f.slot == "status"]
    if not statuses:
        return None
    order = list(kind.order)
    for f in statuses:  # "no ruling yet" against a claim that one was made; a case merely
        # "pending" somewhere in a sentence is not said to be undecided
        if f.value == "pending" and current and current != "pending" and current in order \
                and f.strength > len("pending"):
            return "contradicts", f
    for f in statuses:
        if f.value in kind.negative and not f.negated:
            return "contradicts", f
        if f.negated and current and f.value == current and f.value not in ("pending",):
            return "contradicts", f  # "the talks were not held", "has not been signed"
    positive = [f for f in statuses if not f.negated]
    if not positive:
        return None
    if current in (None, ""):
        return "updates", positive[0]
    if not (p.event_nouns & kind.open_ended):  # a meeting that ended was held
        positive = [replace(f, value="held") if f.value == "ended" else f for f in positive]
    moved = [f for f in positive if _later(f.value, current, order, kind)]
    if moved:  # a change anywhere in the evidence is the news; the strongest cue says which
        return "updates", max(moved, key=lambda f: f.strength)
    if any(f.value == current for f in positive):
        return "confirms", next(f for f in positive if f.value == current)
    return None  # an earlier stage mentioned in passing: background, not news


def _later(found: str, current: str, order: list[str], kind: lexicon.Kind) -> bool:
    if found == current:
        return False
    if found in kind.detours:
        return True
    if found in RATE_DECISIONS and current in RATE_DECISIONS:
        return True  # another decision; its figure says whether anything moved
    if found in order and current in order:
        return order.index(found) > order.index(current)
    return found in order and current not in order


def _slot_verdict(values: Sequence[Finding], current: str | None, slot: str
                  ) -> tuple[Relation, Finding] | None:
    if not values:
        return None
    fresh = [f for f in values if not f.old]
    if current is None:  # a detail the state lacks does not break a confirmation (FORMAT rule 1)
        return ("confirms", fresh[0]) if fresh else None
    equal = [f for f in fresh if same_value(slot, f.value, current)]
    other = [f for f in fresh if not same_value(slot, f.value, current)]
    moved_from = any(f.old and same_value(slot, f.value, current) for f in values)
    if other and (moved_from or not equal):
        return "updates", other[0]
    if equal:
        return "confirms", equal[0]
    return None
