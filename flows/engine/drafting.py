"""Draft claims, and the brief's vocabulary file, from a new brief for a person to review (pure).

Claims: the check-worthy sentences, those carrying facts that later coverage can confirm, move
on or deny (a status, a date, a figure, a place), written in the claims.toml format with their
slots filled in by the same readers the engine uses. Vocabulary: the names the brief writes in
more than one way ("the World Health Organization (WHO)", "Maria Lopez" then "Lopez"), and whom
a named person speaks for ("Estonian President Maria Lopez"). It proposes; a person decides.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime

from claimwatch.flows.engine import dates, figures, knowledge, lexicon
from claimwatch.flows.engine.text import lemma, sentence, split_sentences
from claimwatch.flows.engine.words import STOP_WORDS

MAX_CLAIMS = 12
_MIN_WORTH = 2
_MAX_WORDS = 60
_BULLET = re.compile(r"^\s*(?:[-•*]|\d+[.)])\s*")
_NAME = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:(?:of|the|and|for|&)\s+)*[A-Z][\w'’.-]*)+")
_ACRONYM = re.compile(r"([A-Z][\w'’.-]*(?:\s+(?:(?:of|the|and|for|&)\s+)*[A-Z][\w'’.-]*){1,8})\s*"
                      r"\(([A-Z][A-Z&.]{1,9})\)")
_TITLE = re.compile(r"\b([A-Z][a-z]+)\s+(?:President|Prime Minister|Foreign Minister|Minister|"
                    r"Senator|Sen\.|Governor|Secretary|Chancellor|Ambassador|envoy|leader)\s+"
                    r"([A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){1,2})")


def _statement(text: str) -> str:
    return _BULLET.sub("", text).strip().rstrip(",;:")


def claim_facts(text: str, as_of: date | None = None) -> dict[str, str]:
    """The slots a claim drafted from this sentence starts with."""
    s = sentence(0, text)
    out: dict[str, str] = {}
    ref = datetime(as_of.year, as_of.month, as_of.day) if as_of else None
    found_dates = [d for d in dates.dates(text, ref) if not d.value.startswith("--") and not d.old]
    if found_dates:
        out["date"] = found_dates[0].value
    spans = [(d.start, d.end) for d in found_dates]
    for f in figures.figures(s.norm):
        name = _figure_slot(f)
        if f.kind == "count" and (f.value < 2 or not name or not name.endswith("s")
                                  or any(a <= f.start <= b for a, b in spans)):
            continue  # "February 4-5", "13:28": not counts of anything
        if name and name not in out:
            out[name] = figures.canonical(f)
    place = _place(text)
    if place:
        out["location"] = place
    status = _status(s.norm)
    if status:
        out["status"] = status
    return out


def _figure_slot(f: figures.Figure) -> str | None:
    if f.kind == "vote":
        return "vote"
    if f.kind == "money":
        return "amount"
    if f.kind == "percent":  # "500% tariffs", else "inflation ... 2.6%"
        after = [w for w in f.after[:1] if w not in STOP_WORDS and w.isalpha()]
        nouns = after or [w for w in reversed(f.before) if w not in STOP_WORDS and w.isalpha()]
        return lemma(nouns[0]) if nouns else "rate"
    nouns = [w for w in f.after[:2] if w not in STOP_WORDS and w.isalpha()]
    return nouns[0] if nouns else None


def _place(text: str) -> str | None:
    k = knowledge.get()
    for m in re.finditer(r"\b(?:in|at)\s+([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?)", text):
        found = k.places.get(m.group(1).lower())
        if found:
            return found[0]
    return None


def _status(norm: str) -> str | None:
    lex = lexicon.get()
    for status in lex.statuses:
        if status.name in ("denied", "stated", "reported") or not status.pattern.search(norm):
            continue
        return status.name
    return None


def worth(facts: Mapping[str, str]) -> int:
    """How check-worthy a sentence is: facts that can later change weigh most."""
    figures_ = [k for k in facts if k not in ("status", "date", "location")]
    score = 2 * ("date" in facts) + 2 * len(figures_)
    score += 2 if facts.get("status", "stated") != "stated" else 0
    return score + ("location" in facts)


def _slug(statement: str, taken: set[str]) -> str:
    words = [w for w in re.findall(r"[a-z0-9%$]+", statement.lower()) if w not in STOP_WORDS]
    base = "-".join(w.strip("%$") or "n" for w in words[:4]) or "claim"
    slug, n = base[:60], 2
    while slug in taken:
        slug, n = f"{base[:56]}-{n}", n + 1
    taken.add(slug)
    return slug


def _keywords(text: str) -> list[str]:
    names = [m.group(0) for m in _NAME.finditer(text) if m.start() > 0]
    return list(dict.fromkeys(names))[:6]


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _entry(claim_id: str, statement: str, facts: Mapping[str, str], keywords: list[str]) -> str:
    lines = ["[[claims]]", f"id = {_toml(claim_id)}", f"statement = {_toml(statement)}"]
    if keywords:
        lines.append(f"keywords = [{', '.join(_toml(k) for k in keywords)}]")
    if facts:
        lines.append("[claims.facts]")
        lines += [f"{_key(k)} = {_toml(v)}" for k, v in facts.items()]
    return "\n".join(lines)


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _toml(name)


def draft(brief_text: str, as_of: date | None = None) -> str:
    """Proposed claims for a brief, in the claims.toml format, most check-worthy first."""
    candidates = []
    for i, raw in enumerate(split_sentences(brief_text)):
        statement = _statement(raw)
        if not statement or len(statement.split()) > _MAX_WORDS or statement.endswith("?"):
            continue
        facts = claim_facts(statement, as_of)
        score = worth(facts)
        if score >= _MIN_WORTH:
            candidates.append((score, i, statement, facts))
    chosen = sorted(sorted(candidates, key=lambda c: -c[0])[:MAX_CLAIMS], key=lambda c: c[1])
    taken: set[str] = set()
    entries = [_entry(_slug(st, taken), st, facts, _keywords(st)) for _, _, st, facts in chosen]
    head = ("# Claims drafted by `claimwatch claims draft` for review: keep, edit or delete each one.\n"
            "# Facts are the checkable slots later coverage can confirm, update or contradict.\n")
    return head + ("\n\n".join(entries) + "\n" if entries else "")


def vocabulary(brief_text: str) -> str:
    """A vocabulary.toml proposal: names the brief writes two ways, and whom people speak for."""
    aliases: dict[str, list[str]] = {}
    for m in _ACRONYM.finditer(brief_text):
        name = re.sub(r"^(?:The|A|An)\s+", "", m.group(1).strip())
        aliases.setdefault(name, []).append(m.group(2).replace(".", ""))
    full = {m.group(0) for m in _NAME.finditer(brief_text)}
    for name in sorted(full):
        words = name.split()
        alone = rf"(?<![A-Z]\w)\b{re.escape(words[-1])}\b(?!\s+[A-Z])"
        if 2 <= len(words) <= 3 and re.search(alone, brief_text.replace(name, "")) \
                and knowledge.get().frequency(words[-1].lower()) < 3.5:
            aliases.setdefault(name, []).append(words[-1])
    k = knowledge.get()
    people: dict[str, str] = {}
    for m in _TITLE.finditer(brief_text):
        code = k.country_names.get(m.group(1).lower())
        if code:
            people.setdefault(m.group(2), k.countries.get(code, code))
        surname = m.group(2).split()[-1]
        rest = brief_text[:m.start(2)] + brief_text[m.end(2):]
        if re.search(rf"\b{re.escape(surname)}\b", rest):  # the brief itself uses it alone
            aliases.setdefault(m.group(2), []).append(surname)
    lines = ["# Vocabulary proposed by `claimwatch claims draft` from the brief: review it, then keep",
             "# it beside claims.toml as vocabulary.toml. General knowledge (places, countries,",
             "# currencies) needs no entry here: only this story's own names.", "", "[aliases]"]
    lines += [f"{_toml(n)} = [{', '.join(_toml(a) for a in dict.fromkeys(forms))}]"
              for n, forms in aliases.items()]
    lines += ["", "[concepts]", "", "[people]"]
    lines += [f"{_toml(p)} = {_toml(c)}" for p, c in people.items()]
    return "\n".join(lines) + "\n"
