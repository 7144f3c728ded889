"""`python -m scoreboard.drafts`: what `claimwatch claims draft` proposes from each story's brief,
against the claims a person wrote from the same brief.

A hand-written claim counts as proposed when a drafted claim shares most of its content words
or one of its checkable values; its slots are right when the drafted claim holds the same
values (compare.same, the scoreboard's own plain comparison).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date

from claimwatch.flows.engine.drafting import draft
from claimwatch.flows.engine.model import Claim
from scoreboard import compare
from scoreboard.stories import ROOT, STORIES, Story, all_stories

CONTEXT = {"parties", "person", "sponsor", "court", "body", "company", "topic", "status"}
_WORD = re.compile(r"[a-z]{4,}")


@dataclass(frozen=True, slots=True)
class DraftScore:
    story: str
    drafted: int
    hand: int
    proposed: int  # hand-written claims a draft covers
    slots_right: int
    slots: int  # checkable slots of the proposed hand-written claims


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _brief(story: Story) -> tuple[str, date | None]:
    folder = STORIES / story.name
    path = folder / "brief.txt" if folder.is_dir() else ROOT / "seeds" / "brief.txt"
    published = [a.published_at for a in story.articles if a.published_at]
    return path.read_text(encoding="utf-8"), (min(published).date() if published else None)


def score(story: Story) -> DraftScore:
    text, as_of = _brief(story)
    drafted = tomllib.loads(draft(text, as_of)).get("claims", [])
    proposed = right = slots = 0
    for claim in story.claims:
        best = max(drafted, key=lambda d: _overlap(claim, d), default=None)
        if best is None or _overlap(claim, best) < 0.34:
            continue
        proposed += 1
        checkable = {k: v for k, v in claim.facts.items() if k not in CONTEXT}
        slots += len(checkable)
        values = list(best.get("facts", {}).values())
        right += sum(any(compare.same(v, got) for got in values) for v in checkable.values())
    return DraftScore(story.name, len(drafted), len(story.claims), proposed, right, slots)


def _overlap(claim: Claim, drafted: dict[str, object]) -> float:
    mine, theirs = _words(claim.statement), _words(str(drafted.get("statement", "")))
    shared = len(mine & theirs) / max(1, min(len(mine), len(theirs)))
    facts = drafted.get("facts", {})
    assert isinstance(facts, dict)
    same_value = any(compare.same(v, str(g)) for v in claim.facts.values() for g in facts.values()
                     if v and v not in ("stated", "reported"))
    return max(shared, 0.5 if same_value else 0.0)


def main() -> int:
    print(f"{'story':18}{'drafted':>8}{'hand':>6}{'proposed':>10}{'slots right':>13}")
    for story in all_stories():
        if story.name in ("seed-heldout", "seed-fresh"):
            continue  # they share the seed's brief and claims
        s = score(story)
        name = f"{s.story} (blind)" if story.blind else s.story
        print(f"{name:18}{s.drafted:>8}{s.hand:>6}{s.proposed:>10}{s.slots_right:>8}/{s.slots}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
