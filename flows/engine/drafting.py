"""Draft claims from a new brief for a person to review (pure).

Picks the check-worthy sentences -- those carrying facts that later coverage can confirm,
move on or deny (a status, a date, a rate or amount, a venue, named parties) -- and writes them
in the seeds/claims.toml format with the facts filled in. It proposes; a person decides.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date

from claimwatch.flows.engine import facts as fx
from claimwatch.flows.engine.words import STOP_WORDS

MAX_CLAIMS = 12
_MIN_WORTH = 2
_MAX_WORDS = 60
_BULLET = re.compile(r"^\s*(?:[-•*]|\d+[.)])\s*")


def _statement(sentence: str) -> str:
    return _BULLET.sub("", sentence).strip().rstrip(",;:")


def claim_facts(sentence: str, as_of: date | None = None) -> dict[str, str]:
    """The slots a claim drafted from this sentence starts with."""
    found = fx.extract(sentence, as_of)
    out: dict[str, str] = {}
    for f in found:
        if (
            f.slot in ("date", "location", "rate", "amount", "outcome", "prisoners", "vote")
            and f.slot not in out
        ):
            out[f.slot] = f.value
    status = next((f for f in found if f.slot == "status" and not f.negated), None)
    if status is not None:
        out["status"] = status.value
    parties = sorted({f.value for f in found if f.slot == "party"})
    if len(parties) >= 2:
        out["parties"] = ", ".join(parties)
    person = next((f.value for f in found if f.slot == "person"), None)
    if person:
        out["sponsor" if out.get("status") == "proposed" else "person"] = person
    return out


def worth(facts: Mapping[str, str]) -> int:
    """How check-worthy a sentence is: facts that can later change weigh most."""
    score = 2 * sum(slot in facts for slot in ("date", "rate", "amount", "outcome", "prisoners"))
    score += 2 if facts.get("status", "stated") != "stated" else 0
    score += sum(slot in facts for slot in ("location", "parties", "person", "sponsor"))
    return score


def _slug(statement: str, taken: set[str]) -> str:
    words = [w for w in re.findall(r"[a-z0-9%$]+", statement.lower()) if w not in STOP_WORDS]
    base = "-".join(w.strip("%$") or "n" for w in words[:4]) or "claim"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def _keywords(sentence: str) -> list[str]:
    found = fx.places(sentence) + fx.parties(sentence) + fx.quantities(sentence)
    words = [f.text for f in found if f.slot in ("location", "person", "rate", "amount")]
    return list(dict.fromkeys(words))


def _toml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _entry(claim_id: str, statement: str, facts: Mapping[str, str], keywords: list[str]) -> str:
    lines = [
        "[[claims]]",
        f"id = {_toml(claim_id)}",
        f"statement = {_toml(statement)}",
        f"keywords = [{', '.join(_toml(k) for k in keywords)}]",
        "[claims.facts]",
    ]
    lines += [f"{slot} = {_toml(value)}" for slot, value in facts.items()]
    return "\n".join(lines)


def draft(brief_text: str, as_of: date | None = None) -> str:
    """Proposed claims in claims.toml format, the most check-worthy kept, in brief order.

    `as_of` (the brief's date) gives year-less dates their year; without it they stay "--MM-DD".
    """
    picked: list[tuple[int, str, dict[str, str]]] = []
    for i, sentence in enumerate(fx.split_sentences(brief_text)):
        statement = _statement(sentence)
        if len(statement.split()) > _MAX_WORDS or statement.endswith("?"):
            continue
        facts = claim_facts(statement, as_of)
        if worth(facts) >= _MIN_WORTH:
            picked.append((i, statement, facts))
    best = sorted(picked, key=lambda p: -worth(p[2]))[:MAX_CLAIMS]
    taken: set[str] = set()
    entries = [_entry(_slug(s, taken), s, f, _keywords(s)) for _, s, f in sorted(best)]
    header = "# Drafted from a brief by flows/drafting.py: review every claim before tracking it.\n"
    return header + "\n\n".join(entries) + "\n"
