"""A claim compiled for matching: its anchors (names), topic words, typed slots and kind (pure).

Everything comes from the claim itself (statement, keywords, facts), its brief's vocabulary file
and general knowledge (knowledge.py): a place brings the names of the country that holds it and
the ways news names its capital ("the Latvian capital"), a person's surname stands for them, an
organisation's initials for it. Nothing here knows any story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from claimwatch.flows.engine import figures, knowledge, lexicon
from claimwatch.flows.engine.figures import Figure
from claimwatch.flows.engine.model import Claim
from claimwatch.flows.engine.text import content, digits, informativeness, lemma, tokens
from claimwatch.flows.engine.words import STOP_WORDS

CONTEXT_SLOTS = frozenset({"parties", "person", "sponsor", "court", "body", "company", "topic",
                           "people", "party", "organisation", "organization", "country"})
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:/\d{4}-\d{2}-\d{2})?$")
STANCES = ("supports", "opposes", "cautious", "reversed", "disowned", "hardened", "neutral")
# A run of capitalized words, allowing the small words names contain ("Bank of England",
# "Court of Appeal", "Federal Trade Commission").
_NAME = re.compile(r"(?:[A-Z][\w'’&.-]*|[A-Z]{2,})(?:\s+(?:(?:of|the|and|for|de|du|von|al|&)\s+)*"
                   r"(?:[A-Z][\w'’&.-]*))*")
_CALENDAR = re.compile(r"^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?$|"
                       r"^(?:mon|tues|wednes|thurs|fri|satur|sun)day$")
_SMALL = {"of", "the", "and", "for", "de", "du", "von", "al", "&"}


# Facts news reports about each kind of thing even when the claim does not name them: a
# meeting's date and place, a ruling's vote and date, a bill's vote. Read, stored and shown;
# the claim moves when one appears or changes.
IMPLICIT: dict[str, tuple[tuple[str, str], ...]] = {
    "event": (("date", "date"), ("location", "place")),
    "decision": (("vote", "vote"), ("date", "date")),
    "measure": (("vote", "vote"),),
}


def _implicit(name: str, shape: str) -> Slot:
    figure = figures.Figure("vote", 0.0, "0-0", 0, 0, False, (), ()) if shape == "vote" else None
    return Slot(name, shape, "", figure, frozenset({name}))


@dataclass(frozen=True, slots=True)
class Anchor:
    """A name the claim is about, and every form that names it."""

    name: str
    forms: tuple[str, ...]  # lowercase phrases, matched on whole words
    cased: tuple[str, ...]  # forms matched with their case ("US", "UK": "us" is a pronoun)
    weight: float
    place: bool = False  # a city or region: where things happen (a venue)
    country: bool = False  # a country: one of the parties, or where a figure is measured


@dataclass(frozen=True, slots=True)
class Slot:
    name: str
    shape: str  # date | percent | money | vote | count | status | stance | place | text
    value: str
    figure: Figure | None
    nouns: frozenset[str]  # lemmas that tie a figure in a sentence to this slot


@dataclass(frozen=True, slots=True)
class Profile:
    claim: Claim
    kind: str
    anchors: tuple[Anchor, ...]
    topic: dict[str, float]  # lemma -> weight
    phrases: dict[str, float]  # multiword keywords ("vote split") -> weight
    event_nouns: frozenset[str]
    slots: tuple[Slot, ...]
    forecast: bool  # the claim is itself an expectation ("the Bank expects inflation to peak")
    statement_lemmas: frozenset[str]

    def slot(self, name: str) -> Slot | None:
        return next((s for s in self.slots if s.name == name), None)


@lru_cache(maxsize=256)
def compile_claims(claims: tuple[Claim, ...]) -> tuple[Profile, ...]:
    """The claims of one brief, each weighed against the others: a name or a word that several
    claims share says less about any one of them ("the Monetary Policy Committee" in five)."""
    alone = [compile_claim(c) for c in claims]
    anchor_df: dict[str, int] = {}
    word_df: dict[str, int] = {}
    for p in alone:
        for a in {a.name.lower() for a in p.anchors}:
            anchor_df[a] = anchor_df.get(a, 0) + 1
        for w in p.topic:
            word_df[w] = word_df.get(w, 0) + 1
    return tuple(
        replace(p,
                anchors=tuple(replace(a, weight=a.weight / anchor_df[a.name.lower()] ** 0.5)
                              for a in p.anchors),
                topic={w: v / word_df[w] ** 0.5 for w, v in p.topic.items()})
        for p in alone)


@lru_cache(maxsize=4096)
def compile_claim(claim: Claim) -> Profile:
    lex = lexicon.get()
    statement_words = tokens(digits(claim.statement).lower())
    statement_lemmas = content(statement_words)
    anchors = _anchors(claim)
    anchored = {lemma(w) for a in anchors for f in a.forms for w in tokens(f)}
    topic: dict[str, float] = {}
    for source, boost in ((claim.statement, 1.0), *((k, 1.3) for k in claim.keywords)):
        for word in content(tokens(digits(source).lower())):
            if word not in anchored and not word.isdigit():
                topic[word] = max(topic.get(word, 0.0), informativeness(word) * boost)
    for concept, forms in claim.vocabulary.concepts:
        if lemma(concept.lower()) in topic:
            for form in forms:
                for word in content(tokens(form.lower())):
                    topic.setdefault(word, topic[lemma(concept.lower())])
    slots = tuple(_slot(name, value, claim.statement) for name, value in claim.facts.items()
                  if name.lower() not in CONTEXT_SLOTS)
    kind = _kind(claim, statement_lemmas)
    slots += tuple(_implicit(name, shape) for name, shape in IMPLICIT.get(kind, ())
                   if not any(s.name == name or s.shape == shape for s in slots))
    anchor_forms = {f for a in anchors for f in a.forms}
    phrases = {k.lower(): 1.2 for k in claim.keywords
               if len(k.split()) > 1 and k.lower() not in anchor_forms}
    own_nouns = frozenset(n for k in lex.kinds.values() for n in k.nouns) & statement_lemmas
    return Profile(claim, kind, anchors, topic, phrases, lex.same_things(own_nouns),
                   slots, bool(lex.forecast.search(claim.statement.lower())), statement_lemmas)


def _kind(claim: Claim, lemmas: frozenset[str]) -> str:
    lex = lexicon.get()
    status = claim.facts.get("status", "").lower()
    if status in lex.kinds["statement"].order:
        return "statement"  # "stated", "planned": a background fact or a stance
    by_status = lex.status_kind.get(status)
    if by_status:
        # "held" is both a meeting that took place and a rate kept: the nouns decide.
        if status == "held" and lemmas & lex.kinds["decision"].nouns and not (
                lemmas & lex.kinds["event"].nouns - {"decision"}):
            return "decision"
        return by_status
    scores = {k.name: len(lemmas & k.nouns) for k in lex.kinds.values()}
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] else "statement"


def _slot(name: str, value: str, statement: str) -> Slot:
    shape, figure = _shape(name, value)
    nouns = set(content(tokens(name.replace("_", " ").lower())))
    if figure is not None:
        nouns |= _around(figure, statement)
    return Slot(name, shape, value, figure, frozenset(nouns))


def _shape(name: str, value: str) -> tuple[str, Figure | None]:
    lowered = value.lower().strip()
    if name == "status":
        return "status", None
    if name == "stance" or lowered in STANCES:
        return "stance", None
    if name in ("location", "place", "venue", "city"):
        return "place", None
    if DATE.match(lowered):
        return "date", None
    figure = figures.parse_value(value)
    if figure is not None:
        return figure.kind, figure
    return "text", None


def _around(figure: Figure, statement: str) -> set[str]:
    """Lemmas near the slot's value where the statement writes it ("45,000 dockworkers")."""
    norm = digits(statement).lower()
    for found in figures.figures(norm):
        if found.kind == figure.kind and figures.same_number(found.value, figure.value):
            near = (*found.before[-3:], *found.after[:3])
            return {lemma(w) for w in near if w not in STOP_WORDS}
    return set()


def _anchors(claim: Claim) -> tuple[Anchor, ...]:
    names: dict[str, None] = {}
    for source in (claim.statement, *claim.keywords):
        for m in _NAME.finditer(source):
            # "Estonia and Latvia", "Ford and Toyota": two names, each its own anchor
            for i, part in enumerate(re.split(r"\s+and\s+", m.group(0))):
                name = _trim(part, source, m.start() if i == 0 else 1)
                if name:
                    names[name] = None
    for key, value in claim.facts.items():
        if key.lower() in CONTEXT_SLOTS - {"topic"} or key.lower() in ("location", "place", "venue"):
            for part in re.split(r",|\band\b", value):
                if part.strip():
                    names[part.strip()] = None
    found: dict[str, Anchor] = {}
    for name in names:
        anchor = _anchor(name, claim)
        if anchor is not None and not any(set(anchor.forms) & set(a.forms) for a in found.values()):
            found[anchor.name] = anchor
    # The country that holds a claim's venue is part of the venue ("the Latvian capital"), not a
    # party to what happens there.
    k = knowledge.get()
    venues = {k.places[a.name.lower()][1] for a in found.values() if a.place and a.name.lower() in k.places}
    return tuple(replace(a, place=True, country=False)
                 if a.country and _code(a.name) in venues else a for a in found.values())


def _code(name: str) -> str | None:
    k = knowledge.get()
    return k.country_names.get(name.lower()) or k.country_abbrevs.get(name)


def _trim(name: str, source: str, start: int) -> str:
    """Drop a sentence-initial capital that is only a common word ("The", "Russia" stays)."""
    words = name.split()
    while words and (words[0].lower() in STOP_WORDS or words[0].lower() in _SMALL):
        words = words[1:]
    while words and words[-1].lower() in _SMALL:
        words = words[:-1]
    if not words:
        return ""
    k = knowledge.get()
    # "Crews of the Ferry Union": a common word opening the sentence is not part of the name
    if start == 0 and len(words) > 2 and words[1].lower() == "of" and k.frequency(words[0].lower()) > 3.5:
        words = [w for w in words[2:] if w.lower() != "the"] or words
    if len(words) == 1 and _CALENDAR.match(words[0].lower()):
        return ""  # a month or a weekday is a date, not a name
    known = words[0].lower() in k.country_names or words[0] in k.country_abbrevs \
        or words[0].lower() in k.places
    if len(words) == 1 and start == 0 and not known and words[0].lower() in k.zipf \
            and k.frequency(words[0].lower()) > 4.5:
        return ""  # "Judge", "Port", "Dockworkers" opening the statement
    return " ".join(words).strip("'’.,")


def _anchor(name: str, claim: Claim) -> Anchor | None:
    k = knowledge.get()
    lowered = name.lower()
    words = lowered.split()
    if len(words) == 1 and lowered in STOP_WORDS:
        return None
    forms = {lowered, *(f.lower() for f in claim.vocabulary.forms_of(name))}
    cased: set[str] = set()
    place = country = False
    code = k.country_names.get(lowered) or k.country_abbrevs.get(name)
    if code is not None:  # a country, by any of its names, its demonym or its initials
        forms |= {n for n, c in k.country_names.items() if c == code}
        cased |= {a for a, c in k.country_abbrevs.items() if c == code}
        country = True
    elif lowered in k.places:
        canonical, holder = k.places[lowered]
        if k.capitals.get(holder) == canonical:  # "the Latvian capital", "the capital of Latvia"
            names = {n for n, c in k.country_names.items() if c == holder and n not in k.demonyms}
            adjectives = {n for n, c in k.demonyms.items() if c == holder}
            forms |= {f"{n} capital" for n in names | adjectives} | {f"capital of {n}" for n in names}
            cased |= {f"{a} capital" for a, c in k.country_abbrevs.items() if c == holder}
        place = True
    else:
        forms |= _surname(name)
        cased |= _initials(name)
    if name.isupper() and len(name) <= 4:
        cased.add(name)
        forms.discard(lowered)
    weight = max(informativeness(w) for w in words if w not in _SMALL) if words else 0.5
    return Anchor(name, tuple(sorted(forms)), tuple(sorted(cased)), max(weight, 0.8), place, country)


def _core(name: str) -> list[str]:
    return [w for w in re.split(r"\s+", name.replace("’", "'")) if w and w.lower() not in _SMALL]


def _surname(name: str) -> set[str]:
    """A person's surname alone, when it is rare enough to stand for them ("Okonjo-Iweala")."""
    core = _core(name)
    if 2 <= len(core) <= 3 and all(w[0].isupper() for w in core):
        last = core[-1].lower().removesuffix("'s")
        if knowledge.get().frequency(last) < 3.5:
            return {last}
    return set()


def _initials(name: str) -> set[str]:
    """An organisation's initials ("World Health Organization": "WHO")."""
    core = _core(name)
    initials = "".join(w[0] for w in core if w[0].isupper())
    return {initials} if len(core) >= 3 and len(initials) >= 3 else set()
