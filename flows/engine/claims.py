"""Claims and how an article relates to them (pure: no I/O, no clock).

CONTRACT used by flows/monitor.py and storage/ -- keep these names and fields stable:
  Claim, ArticleText, ClaimMatch, match(article, claims, states) -> list[ClaimMatch]

How match() decides, in one paragraph: each claim is compiled once into weighted *terms*
(concepts from a small synonym lexicon, places, people, parties, its own dates and numbers). A
sentence is about the claim when it covers enough of that weight with at least two distinct
non-party terms -- so "Abu Dhabi Grand Prix" (one place) or "tariffs on Chinese steel" (one
concept) is not, while "three-way talks in the Emirati capital" is. Facts found in the evidence
are then compared with the claim's current state; facts that belong to another event of the same
kind (an earlier or a later round, another venue without a word of change) are set aside.

Longer than 300 lines, and holding one story's vocabulary, until issue 13 rebuilds the engine
from general rules and data files; it is kept whole here so that the layout change (issue 12)
changes no judgement.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Literal

from claimwatch.flows.engine import facts as fx
from claimwatch.flows.engine.words import STOP_WORDS

Relation = Literal["confirms", "updates", "contradicts", "mentions"]
RELATIONS: tuple[Relation, ...] = ("confirms", "updates", "contradicts", "mentions")


@dataclass(frozen=True, slots=True)
class Claim:
    """One tracked statement from the seed brief, with its checkable slots."""

    id: str
    statement: str
    keywords: tuple[str, ...] = ()
    facts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ArticleText:
    """What matching needs of an article: its body text, never navigation or comments."""

    url: str
    title: str
    text: str
    published_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClaimMatch:
    """An article found to be about a claim, with the sentence and facts that decided it."""

    claim_id: str
    relation: Relation
    evidence: str
    facts: Mapping[str, str]  # facts found in the evidence, same slot names as Claim.facts
    score: float  # relevance in [0, 1]


# ---------------------------------------------------------------- lexicon

# Concept -> surface forms. Paraphrase lives here: "three-way talks" and "trilateral meeting"
# meet on the same two concepts. Kept to the vocabulary of the brief's kinds of story.
CONCEPTS: dict[str, tuple[str, ...]] = {
    "talks": (
        "talks",
        "meeting",
        "meetings",
        "meet",
        "met",
        "negotiations",
        "negotiation",
        "negotiate",
        "negotiating",
        "negotiators",
        "round",
        "summit",
        "consultations",
        "discussions",
        "conversations",
        "dialogue",
        "sit down",
        "sat down",
        "session",
        "sessions",
        "delegations",
        "parley",
        "peace process",
        "envoys",
    ),
    "trilateral": (
        "trilateral",
        "three-way",
        "three-party",
        "tri-party",
        "tripartite",
        "three-sided",
        "trilaterally",
        "all three sides",
        "three sides",
        "all three countries",
        "three delegations",
        "three countries",
    ),
    "follow-up": (
        "follow-up",
        "followup",
        "follow up",
        "second round",
        "second meeting",
        "next round",
        "new round",
        "fresh round",
        "round two",
        "second session",
    ),
    "first": ("first", "first-ever", "inaugural", "opening round", "first round"),
    "in-person": (
        "in-person",
        "in person",
        "face-to-face",
        "face to face",
        "direct talks",
        "sat down together",
        "same room",
        "across the table",
        "in the same room",
    ),
    "neutral venue": ("neutral venue", "neutral ground", "neutral site", "neutral"),
    "saturday": ("saturday",),
    "tariff": ("tariff", "tariffs", "duties", "levies", "levy", "import taxes"),
    "bill": (
        "bill",
        "legislation",
        "act",
        "measure",
        "sanctions bill",
        "sanctioning russia act",
        "s.1241",
        "s. 1241",
    ),
    "imports": ("imports", "import", "goods", "oil", "buyers", "purchases", "trade"),
    "senator": ("senator", "sen.", "senators", "senate", "lawmakers", "lawmaker", "congress"),
    "supreme court": ("supreme court", "justices", "high court", "scotus", "the court"),
    "ieepa": (
        "ieepa",
        "emergency economic powers",
        "emergency powers",
        "emergency law",
        "learning resources",
    ),
    "deal": (
        "deal",
        "agreement",
        "offer",
        "package",
        "pact",
        "bargain",
        "economic cooperation",
        "business deals",
        "deals",
        "offers",
        "offered",
        "offering",
        "proposal",
        "economic projects",
        "joint projects",
        "economic package",
        "economic arrangements",
    ),
    "sidelined": (
        "sidelined",
        "sideline",
        "sidelining",
        "cut out",
        "excluded",
        "left out",
        "bypassed",
        "marginalized",
        "marginalised",
        "frozen out",
        "over its head",
        "behind its back",
        "without kyiv",
        "without ukraine",
    ),
    "ceasefire": (
        "ceasefire",
        "ceasefires",
        "cease-fire",
        "cease-fires",
        "truce",
        "truces",
        "halt to fighting",
        "energy truce",
        "pause in strikes",
        "pause on strikes",
        "pause in russian strikes",
        "strike pause",
        "moratorium",
    ),
    "withdrawal": (
        "withdrawal",
        "withdrawals",
        "pullback",
        "pull-back",
        "pullout",
        "pull back",
        "withdraw",
        "pull out",
        "pulled back",
        "pulling back",
        "pull back from",
        "separation of forces",
        "disengagement",
    ),
    "confidence-building": (
        "confidence-building",
        "confidence building",
        "trust-building",
        "confidence measures",
        "goodwill measures",
    ),
    "rare earth": (
        "rare earth",
        "rare earths",
        "rare-earth",
        "critical minerals",
        "rare earth minerals",
    ),
    "supply chain": (
        "supply chain",
        "supply chains",
        "supply-chain",
        "processing",
        "refining",
        "refines",
        "refine",
        "refiners",
        "mines",
        "mining",
        "production",
        "exports",
    ),
    "dominates": (
        "dominates",
        "dominate",
        "dominance",
        "dominant",
        "controls",
        "grip",
        "monopoly",
        "stranglehold",
    ),
    "optimism": ("optimism", "optimistic", "hopeful", "encouraged", "upbeat"),
    "step forward": (
        "step forward",
        "step in the right direction",
        "progress",
        "constructive",
        "productive",
        "positive step",
    ),
    "cautious": ("cautious", "cautiously", "guarded", "measured"),
    "focus": ("focus", "focused", "focuses", "agenda", "priority", "first item"),
}
# Words that name a kind of event/status rather than the topic; facts compare them, not relevance.
_STATUS_WORDS = frozenset(
    [
        "scheduled",
        "held",
        "struck",
        "down",
        "proposed",
        "planned",
        "champions",
        "champion",
        "described",
        "expressed",
        "tempting",
        "stated",
        "set",
    ]
)
_MONTH_PREFIXES = frozenset(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
)
_WORD = re.compile(r"[a-z0-9][a-z0-9'’.-]*[a-z0-9%]|[a-z0-9]")


def _phrase_regex(table: Mapping[str, Iterable[str]]) -> tuple[re.Pattern[str], dict[str, str]]:
    lookup = {form.lower(): key for key, forms in table.items() for form in forms}
    # Case-sensitive over lowercased text (_concept_matches): Python's re is about 5x slower on
    # a long alternation with IGNORECASE, and this regex runs over every sentence.
    return re.compile(rf"(?<![\w-])(?:{fx.alternation(lookup)})(?![\w-])"), lookup


_CONCEPT_RE, _CONCEPT_OF = _phrase_regex(CONCEPTS)


def _concept_matches(lowered: str) -> Iterator[re.Match[str]]:
    """Concept phrases in text that the caller has already lowercased."""
    return _CONCEPT_RE.finditer(lowered)


def _stem(word: str) -> str:
    """Crude suffix stripping: enough to meet "withdrawals" and "withdrawal"."""
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


# ---------------------------------------------------------------- terms

# Concepts every story of a kind shares say little on their own.
_CONCEPT_WEIGHT = {"concept:talks": 0.7, "concept:focus": 0.5, "concept:first": 0.7}
_KIND_WEIGHT = {
    "concept": 1.0,
    "place": 1.5,
    "region": 0.5,  # "the Gulf" points at Abu Dhabi only loosely
    "scale": 0.5,  # a number of the same order hints at a revised figure
    "person": 1.5,
    "party": 0.4,
    "value": 1.5,
    "word": 0.6,
}


def _terms(text: str) -> set[str]:
    """Relevance terms of text: concepts, places, people, parties, numbers."""
    return _terms_of(text, list(_concept_matches(text.lower())))


def _terms_of(text: str, concepts: Sequence[re.Match[str]]) -> set[str]:
    """_terms, given the concept matches of the lowercased text."""
    terms = {f"concept:{_CONCEPT_OF[m.group(0)]}" for m in concepts}
    for place in _places_named(text):
        # A sentence names a region only by naming it ("in the Gulf"); the claim's venue lists
        # the regions holding it, so the two meet on "region:Gulf" at a lower weight.
        terms.add(f"place:{place}")
        if place in fx.WITHIN.values():
            terms.add(f"region:{place}")
    for fact in fx.parties(text):
        terms.add(f"{fact.slot}:{fact.value}")
        if fact.value in fx.AFFILIATION:
            terms.add(f"party:{fx.AFFILIATION[fact.value]}")  # Dmitriev speaks for Russia
    for fact in fx.quantities(text):
        terms.add(f"value:{fact.value}")
        terms.add(f"scale:{_scale(fact.value)}")  # "$14 trillion" is the same order as "$12 trillion"
    if "concept:first" in terms and not _FIRST_OF_KIND.search(text):
        terms.discard("concept:first")  # "the first such swap" is not the first meeting
    if {"party:Russia", "party:Ukraine", "party:United States"} <= terms:
        terms.add("concept:trilateral")  # naming all three sides is saying "trilateral"
    return terms


_FIRST_OF_KIND = re.compile(
    r"\b(?:first|first-ever|inaugural|opening)\b(?:\s+[\w-]+){0,3}?\s+(?:talks|meetings?|rounds?"
    r"|sessions?|time|trilateral|face-to-face|in-person|direct|contact|encounter|summit)\b",
    re.IGNORECASE,
)


def _scale(value: str) -> str:
    """The unit and order of a quantity: "$ trillion", "$ billion", "%"."""
    if value.endswith("%"):
        return "%"
    return "$ " + value.split(" ", 1)[1] if " " in value else "$"


def _places_named(text: str) -> set[str]:
    """Places mentioned anywhere (not just as venue), folded to the city the brief names."""
    return set(fx.place_names(text))


def _words(text: str) -> set[str]:
    """Content words not already covered by a concept, stemmed."""
    lowered = text.lower()
    return _words_of(lowered, list(_concept_matches(lowered)))


def _words_of(lowered: str, concepts: Sequence[re.Match[str]]) -> set[str]:
    """_words, given the lowercased text and its concept matches."""
    # The text between concepts, as _CONCEPT_RE.sub(" ", lowered) would leave it.
    gaps, end = [], 0
    for m in concepts:
        gaps.append(lowered[end : m.start()])
        end = m.end()
    gaps.append(lowered[end:])
    return {term for term in map(_word_term, _WORD.findall(" ".join(gaps))) if term}


@lru_cache(maxsize=65536)
def _word_term(word: str) -> str | None:
    """The term of a content word ("word:<stem>"), None for stopwords, numbers and months.

    Cached: news repeats its words, and judging each one costs more than looking it up.
    """
    if (
        word in STOP_WORDS
        or word in _STATUS_WORDS
        or len(word) <= 2
        or any(ch.isdigit() for ch in word)
        or word[:3] in _MONTH_PREFIXES
    ):
        return None
    return f"word:{_stem(word)}"


# ---------------------------------------------------------------- compiled claims

ORDINALS = {
    "first": 1,
    "inaugural": 1,
    "opening": 1,
    "second": 2,
    "follow-up": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
}
_ORDINAL_RE = re.compile(
    r"\b(first|inaugural|opening|second|follow-up|third|fourth|fifth|next|another|new|fresh|later"
    r"|subsequent|further|upcoming)\b(?:\s+[\w-]+){0,2}?\s+(?:rounds?|meetings?|sessions?|talks|summits?)\b",
    re.IGNORECASE,
)
_CHANGE_CUE = re.compile(
    r"\b(?:postponed|delayed|pushed|moved|shifted|rescheduled|relocated|switched|instead|now|"
    r"no longer|changed|put off|bumped|deferred|new date|new venue)\b",
    re.IGNORECASE,
)
_EVENT_SLOTS = ("date", "location", "status")
_OUTCOME_SLOTS = ("outcome", "prisoners", "vote")
_VALUE_SLOTS = ("rate", "amount")


@dataclass(frozen=True, slots=True)
class _Compiled:
    claim: Claim
    weights: Mapping[str, float]
    total: float
    what_total: float
    ordinal: int | None
    event: bool  # a dated/located event (talks) rather than a bill, ruling or statement
    keys: frozenset[str]  # the weighted terms, as a set for fast intersection
    parties: frozenset[str]  # "party:Russia", ... when the claim names who takes part
    people: frozenset[str]  # "person:...", the claim's speaker or sponsor
    # Its keys of one kind, asked of every sentence (_figure_in_context): computed once here.
    party_keys: frozenset[str]
    figure_keys: frozenset[str]  # "value:..." and "scale:..."
    concept_keys: frozenset[str]


def _claim_terms(claim: Claim) -> set[str]:
    text = " ".join((claim.statement, *claim.keywords))
    terms = _terms(text) | _words(claim.statement)
    for slot, value in claim.facts.items():
        if slot in ("rate", "amount"):
            terms |= {f"value:{value}", f"scale:{_scale(value)}"}
        elif slot == "location":
            terms.add(f"place:{fx.canonical_place(value)}")
            terms |= {f"region:{wider}" for wider in fx.containers(value)[1:]}
        elif slot in ("sponsor", "person"):
            terms |= {f"person:{f.value}" for f in fx.parties(value) if f.slot == "person"}
    says_trilateral = any(
        _CONCEPT_OF.get(m.group(0)) == "trilateral" for m in _concept_matches(claim.statement.lower())
    )
    if "concept:talks" not in terms and not says_trilateral:
        # Naming three countries is "trilateral" only for a meeting; a deal between two of them
        # that a third fears is not a three-way anything.
        terms.discard("concept:trilateral")
    words = {t for t in terms if t.startswith("word:")}
    return (terms - words) | {w for w in words if not _covered_by_entity(w, terms)}


def _covered_by_entity(word: str, terms: set[str]) -> bool:
    """Drop words that only repeat a named entity ("russian", "richard", "dhabi")."""
    w = word[5:]
    return any(w in t.lower() for t in terms if not t.startswith("word:")) or w in {
        "u.s",
        "us-russia-ukraine",
        "russia",
        "ukraine",
        "abu",
        "dhabi",
        "richard",
        "volodymyr",
    }


@lru_cache(maxsize=8192)
def _ordinal(text: str) -> int | None:
    for m in _ORDINAL_RE.finditer(text):
        number = ORDINALS.get(m.group(1).lower())
        if number:
            return number
    return None


_CacheKey = tuple[tuple[str, str, tuple[str, ...], tuple[tuple[str, str], ...]], ...]
_COMPILED: dict[_CacheKey, tuple[_Compiled, ...]] = {}


def _compiled(claims: Sequence[Claim]) -> tuple[_Compiled, ...]:
    """Compile once per distinct claims list; Claim holds a dict so it cannot key lru_cache."""
    key = tuple((c.id, c.statement, c.keywords, tuple(sorted(c.facts.items()))) for c in claims)
    if key not in _COMPILED:
        if len(_COMPILED) > 16:
            _COMPILED.clear()
        _COMPILED[key] = _compile(tuple(claims))
    return _COMPILED[key]


def _compile(claims: tuple[Claim, ...]) -> tuple[_Compiled, ...]:
    """Per-claim weights (terms shared by many claims weigh less)."""
    term_sets = [_claim_terms(c) for c in claims]
    df: dict[str, int] = {}
    for terms in term_sets:
        for t in terms:
            df[t] = df.get(t, 0) + 1
    n = max(len(claims), 1)
    compiled = []
    for claim, terms in zip(claims, term_sets, strict=True):
        weights = {
            t: _CONCEPT_WEIGHT.get(t, _KIND_WEIGHT[t.split(":", 1)[0]]) * (1 + math.log(n / df[t]) / 2)
            for t in terms
        }
        event = "date" in claim.facts or "location" in claim.facts or "concept:talks" in terms
        what_total = sum(w for t, w in weights.items() if not _is_who(t)) or 1.0
        parties = frozenset(
            f"party:{p.strip()}" for p in claim.facts.get("parties", "").split(",") if p.strip()
        )
        people = frozenset(
            t
            for t in terms
            if t.startswith("person:")
            and any(t[7:] == v for k, v in claim.facts.items() if k in ("person", "sponsor"))
        )
        compiled.append(
            _Compiled(
                claim,
                weights,
                sum(weights.values()),
                what_total,
                _ordinal(claim.statement),
                event,
                frozenset(weights),
                parties,
                people,
                _of_kind(weights, "party:"),
                _of_kind(weights, "value:", "scale:"),
                _of_kind(weights, "concept:"),
            )
        )
    return tuple(compiled)


def _of_kind(terms: Iterable[str], *prefixes: str) -> frozenset[str]:
    """The terms of some kinds: _of_kind(terms, "party:")."""
    return frozenset(t for t in terms if t.startswith(prefixes))


# ---------------------------------------------------------------- relevance

_STRONG = 0.34  # share of the claim's term weight a sentence must cover to be about it
_RESTATES = 0.6  # coverage at which a sentence restates a statement claim
_WEAK = 0.2  # a neighbouring sentence carrying facts may cover less
_MIN_TERMS = 2  # distinct topic terms: one shared word is a keyword hit, not a match
_WHAT_SHARE = 0.3  # share of the claim's topic weight (actors aside) a sentence must cover


@dataclass(frozen=True, slots=True)
class _Sentence:
    index: int
    text: str
    terms: frozenset[str]
    parties: frozenset[str]  # its "party:" terms, which _others_meeting asks for every claim


def _is_who(term: str) -> bool:
    """Actors: they say who is involved, not what the claim is about."""
    return term.startswith(("party:", "person:")) or term == "concept:senator"


def _coverage(c: _Compiled, terms: frozenset[str]) -> tuple[float, int]:
    """Share of the claim's weight covered, and how many distinct topic (non-actor) terms matched.

    Actors alone never make a match: Sen. Blumenthal on another bill shares the senator and the
    word "bill" with the tariff claim but none of its topic.
    """
    if c.keys.isdisjoint(terms):
        return 0.0, 0  # most sentences share nothing with a given claim
    matched = c.keys & terms
    # A vaguer form of a term already matched adds nothing ("$12 trillion" is its own order).
    if any(t.startswith("value:") for t in matched):
        matched = frozenset(t for t in matched if not t.startswith("scale:"))
    what = [t for t in matched if not _is_who(t)]
    what_share = sum(c.weights[t] for t in what) / c.what_total
    distinct = len(what) if what_share >= _WHAT_SHARE else 0
    return sum(c.weights[t] for t in matched) / c.total, distinct


def _sentences(article: ArticleText) -> tuple[_Sentence, ...]:
    texts = ((article.title,) if article.title else ()) + fx.split_sentences(article.text)
    return tuple(_sentence(i, text) for i, text in enumerate(texts))


def _sentence(index: int, text: str) -> _Sentence:
    """A sentence with _terms(text) | _words(text), lowercasing it and finding concepts once."""
    lowered = text.lower()
    concepts = list(_concept_matches(lowered))
    terms = _terms_of(text, concepts)
    return _Sentence(index, text, frozenset(terms | _words_of(lowered, concepts)), _of_kind(terms, "party:"))


# Per-sentence readings every claim asks for: cached by text (pure, read-only results), so
# fifty claims cost one regex pass per sentence, not fifty.
_outcomes = lru_cache(maxsize=8192)(fx.outcomes)
_stances = lru_cache(maxsize=8192)(fx.stances)
_statuses = lru_cache(maxsize=8192)(fx.statuses)


@lru_cache(maxsize=8192)
def _later_round(text: str) -> bool:
    return bool(_LATER_ROUND.search(text))


def _about_other_round(c: _Compiled, s: _Sentence) -> bool:
    """A sentence naming another round than the claim's ("the second round" for a claim about
    the first) is about that round, however many words it shares with the claim."""
    if c.ordinal is None:
        return False
    ordinal = _ordinal(s.text)
    if ordinal is not None:
        return ordinal != c.ordinal
    return c.ordinal == 1 and _later_round(s.text)


_LATER_ROUND = re.compile(
    r"\b(?:next|another|new|fresh|later|latest|subsequent|further|upcoming|this week's)\b"
    r"(?:\s+[\w-]+){0,2}?\s+(?:rounds?|meetings?|sessions?)\b",
    re.IGNORECASE,
)


def _topical_outcome(c: _Compiled, s: _Sentence, distinct: int) -> bool:
    """The sentence reports an outcome on the claim's own topic: a truce that ended, for a claim
    about truces, named in the sentence; what a meeting produced, in a sentence about it."""
    for f in _outcomes(s.text):
        if f.slot != "outcome" or not _outcome_fits(c, f.value):
            continue
        topic = OUTCOME_TOPICS.get(f.value, "event")
        if (topic == "event" and distinct >= 1) or topic in s.terms:
            return True
    return False


def _outcome_fits(c: _Compiled, value: str) -> bool:
    """Which claims an outcome can update: what a meeting produced belongs to the meeting's claim,
    what happened to a truce belongs to a claim about truces."""
    topic = OUTCOME_TOPICS.get(value, "event")
    if fx.canonical_status(c.claim.facts.get("status", "")) == "stated":
        return False  # what someone said has no outcomes
    if topic == "event":
        return c.event and "concept:ceasefire" not in c.keys
    return topic in c.keys


OUTCOME_TOPICS = {
    "prisoner exchange": "event",
    "energy-strike pause ended": "concept:ceasefire",
    "truce ended": "concept:ceasefire",
    "ceasefire monitoring nearly agreed": "concept:ceasefire",
}


def _figure_in_context(c: _Compiled, terms: frozenset[str]) -> bool:
    """The claim's figure (or one of its order, a revision) with what it is a figure of and
    between whom: "$15 trillion" of joint projects between Russia and the US. The figure alone,
    or with other parties ("funds holding $12 trillion"), is not enough."""
    if c.figure_keys.isdisjoint(terms) or c.concept_keys.isdisjoint(terms):
        return False
    return len(c.party_keys & terms) >= min(2, len(c.party_keys))


def _firstness_ok(c: _Compiled, sentences: Sequence[_Sentence]) -> bool:
    """A claim about the *first* of something is about first-ness: an article that never says
    "first" (or says it only of another round) is about a later meeting of the same parties."""
    if c.ordinal != 1:
        return True
    return any("concept:first" in s.terms and not _about_other_round(c, s) for s in sentences)


def _parties_named(c: _Compiled, sentences: Sequence[_Sentence]) -> bool:
    """A meeting of named parties is about them: an article naming none of them, nor how many
    sides meet ("three delegations"), is about another meeting at the same venue ("contract talks
    concluded in the Emirati capital")."""
    if len(c.parties) < 2:
        return True
    terms = frozenset().union(*(s.terms for s in sentences))
    sides = "concept:trilateral" in terms and "concept:trilateral" in c.keys
    return sides or len(terms & c.parties) >= 2


def _speaks(c: _Compiled, sentences: Sequence[_Sentence], s: _Sentence) -> bool:
    """For a claim about what someone said: the sentence gives that person's stance on the talks,
    naming them or going on from a sentence that does ("He said ...")."""
    if not c.people or not _stances(s.text):
        return False
    prev = sentences[s.index - 1] if s.index > 0 else None
    named = bool(c.people & s.terms) or (
        prev is not None and bool(c.people & prev.terms) and bool(_PRONOUN.match(s.text))
    )
    on_talks = "concept:talks" in s.terms or (prev is not None and "concept:talks" in prev.terms)
    return named and on_talks


_PRONOUN = re.compile(r"[\"“]?(?:He|She|His|Her)\b")


def _relevant(c: _Compiled, sentences: Sequence[_Sentence]) -> list[tuple[_Sentence, float]]:
    """Sentences about the claim: strong ones, plus fact-bearing neighbours of a strong one."""
    if c.people and not any(c.people & s.terms for s in sentences):
        return []  # a statement by someone is about them: "officials in Seoul" are not Zelensky
    if not _firstness_ok(c, sentences) or not _parties_named(c, sentences):
        return []
    # A strong sentence shares a term with the claim, and most sentences share none: look for
    # strong ones among the few that do, and score the rest only when there is one.
    sharing = [s for s in sentences if not c.keys.isdisjoint(s.terms)]
    strong = [
        (s, cov)
        for s, cov, n in _scored(c, sharing)
        if (cov >= _STRONG and n >= _MIN_TERMS)
        or (cov >= _WEAK and _topical_outcome(c, s, n))
        or (cov >= _WEAK and _speaks(c, sentences, s))
        or _figure_in_context(c, s.terms)
    ]
    if not strong:
        return []
    scored = _scored(c, sentences)
    near = {s.index + d for s, _ in strong for d in (-1, 1, 2)}
    first = min(s.index for s, _ in strong)
    chosen = {s.index for s, _ in strong}
    weak = [
        (s, cov)
        for s, cov, n in scored
        if s.index not in chosen
        and _has_event_facts(s.text)
        and (
            (s.index in near and cov >= _WEAK and (n >= 1 or cov >= _STRONG))
            or (s.index > first and _refers_back(c, s.text))
        )
    ]
    return sorted(strong + weak, key=lambda pair: pair[0].index)


def _scored(c: _Compiled, sentences: Sequence[_Sentence]) -> list[tuple[_Sentence, float, int]]:
    """(sentence, coverage, distinct topic terms) of the sentences that may be about the claim."""
    return [
        (s, *_coverage(c, s.terms))
        for s in sentences
        if not _others_meeting(c, s) and not _about_other_round(c, s)
    ]


# "the bill", "the measure", "the ruling": a definite reference back to what the article is about.
_ANAPHORA = re.compile(
    r"\b(?:the|this|that)\s+(bill|measure|legislation|ruling|decision|court|talks|meeting|round"
    r"|offer|package|deal|swap|exchange)\b",
    re.IGNORECASE,
)


def _refers_back(c: _Compiled, sentence: str) -> bool:
    """The sentence refers back, by a definite noun of the claim's own kind, to the thing an
    earlier sentence established the article is about, and says where it stands ("the measure
    has stalled" for a bill, not "the decision" of a court)."""
    family = _FAMILY.get(fx.canonical_status(c.claim.facts.get("status", "")), ("", 0))[0]
    if not family:
        return False
    same_kind = any(_FAMILY.get(f.value, ("", 0))[0] == family for f in _statuses(sentence))
    for m in _ANAPHORA.finditer(sentence):
        concept = _CONCEPT_OF.get(m.group(1).lower())
        if same_kind and concept is not None and f"concept:{concept}" in c.keys:
            return True
    return False


def _others_meeting(c: _Compiled, s: _Sentence) -> bool:
    """Two or more countries outside the claim's parties: their meeting, not this one."""
    if len(c.parties) < 2:
        return False
    others = s.parties - c.parties
    return len(others) >= 2 and len(c.parties & s.terms) < 2


_NEGATED_BEFORE = re.compile(
    r"\b(?:not|never|no longer|no|hardly|n't|nor|without|lost|loses|losing|myth of|end "
    r"of)\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)
_DISMISSED = re.compile(
    r"\b(?:myth|fake|not true|untrue|false|no such|overstated|exaggerated|pessimis\w*|no illusions"
    r"|(?:does|did) not believe|sceptical|skeptical|a step back(?:ward)?)\b",
    re.I,
)


def _negates(c: _Compiled, sentence: str) -> bool:
    """The sentence denies what a statement claim says ("China does not dominate ...")."""
    lowered = sentence.lower()
    for m in _concept_matches(lowered):
        term = f"concept:{_CONCEPT_OF[m.group(0)]}"
        if term in c.weights and term != "concept:talks" and _NEGATED_BEFORE.search(lowered[: m.start()]):
            return True
    return bool(_DISMISSED.search(sentence))


def _all_elsewhere(
    c: _Compiled,
    relevant: Sequence[tuple[_Sentence, float]],
    state: Mapping[str, str],
    published_at: datetime | None,
) -> bool:
    """True when some evidence clause carried facts and all such clauses were another event's."""
    claimed = state.get("status", "")
    clauses = [cl for s, _ in relevant for cl in _clauses(s.text)]
    with_facts = [(cl, _clause_facts(cl, published_at, c.event, claimed)) for cl in clauses]
    with_facts = [(cl, got) for cl, got in with_facts if got]
    return bool(with_facts) and all(_other_event(c, cl, got, state) for cl, got in with_facts)


@lru_cache(maxsize=8192)
def _has_event_facts(text: str) -> bool:
    return any(
        f.slot in ("status", "date", "outcome", "prisoners") and f.value != "stated"
        for f in fx.statuses(text) + fx.dates(text) + fx.outcomes(text)
    )


# ---------------------------------------------------------------- facts in evidence

_CLAUSE = re.compile(r";|\s[—–]\s|,\s(?=(?:but|while|whereas|after|before|following|which|where|when)\b)")


def _clauses(sentence: str) -> list[str]:
    return [c for c in _CLAUSE.split(sentence) if c.strip()]


def _flip(f: fx.Fact, event: bool, claimed: str) -> str | None:
    """What a negated status asserts: denying what the claim says is a denial; "not yet
    scheduled" asserts nothing for a bill; "denied it was postponed" leaves the claim standing."""
    if f.value == claimed or (event and f.value in ("scheduled", "held")):
        return "denied"
    return {"passed": "stalled", "advanced": "stalled", "struck down": "pending", "decided": "pending"}.get(
        f.value
    )


def _effective_status(found: Sequence[fx.Fact], event: bool, claimed: str) -> fx.Fact | None:
    """The decisive status of a clause, with negation and "denied that X" folded in."""
    statuses = [f for f in found if f.slot == "status"]
    denial = next((f for f in statuses if f.value == "denied"), None)
    for f in statuses:
        if f.value in ("denied", "stated"):
            continue
        if not (f.negated or (denial is not None and denial.start < f.start)):
            return f
        flipped = _flip(f, event, claimed)
        if flipped:
            return fx.Fact("status", flipped, f.text, f.start, tense=f.tense)
        if denial is not None:
            return fx.Fact("status", "stated", f.text, f.start)  # "denied it was postponed"
    return denial or next((f for f in statuses if f.value == "stated"), None)


@lru_cache(maxsize=8192)
def _clause_facts(
    clause: str, published_at: datetime | None, event: bool, claimed: str
) -> Mapping[str, fx.Fact]:
    """Facts of one clause; cached because every claim looks at the same sentences (read-only)."""
    found = fx.extract(clause, published_at) + fx.stances(clause)
    out: dict[str, fx.Fact] = {}
    status = _effective_status(found, event, claimed)
    if status is not None:
        out["status"] = status
    denied = status is not None and status.value == "denied"
    for f in found:
        if f.slot in ("status", "party"):
            continue
        if denied and f.slot in _VALUE_SLOTS:
            f = fx.Fact(f.slot, f.value, f.text, f.start, old=True)  # the figure being denied
        slot = "person" if f.slot == "person" else f.slot
        if slot not in out or (out[slot].old and not f.old):
            out[slot] = f
    return _ahead(out, published_at)


# Present-tense forms of "held": "is taking place this weekend" can announce as well as report.
_PRESENT_HELD = re.compile(
    r"tak(?:ing|es) place|under ?way|begin(?:s|ning)|open(?:s|ing)|start(?:s|ing)", re.IGNORECASE
)


def _ahead(out: dict[str, fx.Fact], published_at: datetime | None) -> dict[str, fx.Fact]:
    """A meeting "taking place on Feb 7-8" in a text dated before Feb 7 is scheduled, not held."""
    status, when = out.get("status"), out.get("date")
    if status is None or when is None or published_at is None or status.value != "held":
        return out
    first, _ = fx.date_bounds(when.value)
    ahead = not first.startswith("--") and first > published_at.date().isoformat()
    if not ahead or not _PRESENT_HELD.fullmatch(status.text):
        return out
    return {**out, "status": fx.Fact("status", "scheduled", status.text, status.start, tense="future")}


def _other_event(c: _Compiled, clause: str, got: Mapping[str, fx.Fact], state: Mapping[str, str]) -> bool:
    """True when the clause's facts describe another event of the same kind (another round)."""
    if not c.event:
        return False
    ordinal = _ordinal(clause)
    if ordinal is not None and c.ordinal is not None and ordinal != c.ordinal:
        return True
    status = fx.canonical_status(state.get("status", ""))
    if status == "held" and re.search(
        r"\b(next|another|new|fresh|later|subsequent|further|upcoming)\b"
        r"(?:\s+[\w-]+){0,2}?\s+(round|meeting|session|talks)",
        clause,
        re.I,
    ):
        return True
    return _date_elsewhere(got, state, clause)


def _date_elsewhere(got: Mapping[str, fx.Fact], state: Mapping[str, str], clause: str) -> bool:
    """An earlier held event, or a later one somewhere else, with no word of change."""
    if "date" not in got or "date" not in state or got["date"].old or _CHANGE_CUE.search(clause):
        return False
    new_first, _ = fx.date_bounds(got["date"].value)
    old_first, old_last = fx.date_bounds(state["date"])
    if new_first.startswith("--") or old_first.startswith("--"):
        return False
    if new_first < old_first:
        return True  # an event before the one tracked is a previous round, not a change of this one
    moved_venue = (
        "location" in got
        and "location" in state
        and not fx.same_place(got["location"].value, state["location"])
    )
    return new_first > old_last and moved_venue


def _evidence_facts(
    c: _Compiled, evidence: Sequence[str], state: Mapping[str, str], published_at: datetime | None
) -> tuple[dict[str, fx.Fact], list[str]]:
    """Merge facts of the evidence clauses that are about this claim's event."""
    merged: dict[str, fx.Fact] = {}
    used: list[str] = []
    undated: list[fx.Fact] = []  # "held" said with no date: weighed once the dates are known
    family = _FAMILY.get(state.get("status", ""), ("", 0))[0]
    for sentence in evidence:
        for clause in _clauses(sentence):
            got = _clause_facts(clause, published_at, c.event, state.get("status", ""))
            if _other_event(c, clause, got, state):
                continue
            if (
                "location" in got
                and "location" in state
                and not _CHANGE_CUE.search(clause)
                and not fx.same_place(got["location"].value, state["location"])
            ):
                got = {k: v for k, v in got.items() if k != "location"}  # a place named, not a venue moved
            if got and sentence not in used:
                used.append(sentence)
            if "date" not in got and "status" in got and got["status"].value == "held":
                undated.append(got["status"])
                got = {k: v for k, v in got.items() if k != "status"}
            for slot, f in got.items():
                if _better(slot, f, merged.get(slot), family):
                    merged[slot] = f
    if not _dated_ahead(merged, published_at):
        for f in undated:
            if _better("status", f, merged.get("status"), family):
                merged["status"] = f
    return merged, used


def _dated_ahead(merged: Mapping[str, fx.Fact], published_at: datetime | None) -> bool:
    """The evidence dates the meeting after the text's own date: an undated "before the talks
    opened" elsewhere in it cannot report the meeting over (an edit written as it began)."""
    when = merged.get("date")
    if when is None or when.old or published_at is None:
        return False
    first, _ = fx.date_bounds(when.value)
    return not first.startswith("--") and first > published_at.date().isoformat()


_PRIORITY = (
    "denied",
    "cancelled",
    "struck down",
    "upheld",
    "vetoed",
    "signed",
    "passed",
    "advanced",
    "stalled",
    "postponed",
    "held",
    "decided",
    "pending",
    "scheduled",
    "proposed",
    "stated",
)


def _better(slot: str, new: fx.Fact, old: fx.Fact | None, family: str) -> bool:
    """Whether `new` should replace `old` as the evidence's value for a slot."""
    if old is None:
        return True
    if slot == "status":
        return _status_key(new, family) < _status_key(old, family)
    if slot == "prisoners" and not (old.old or new.old):
        return "each" in new.value and "each" not in old.value  # "150 each" says more than "300"
    return old.old and not new.old


def _status_key(f: fx.Fact, family: str) -> tuple[bool, int]:
    """Statuses of the claim's own kind first (a bill "awaits" a vote; it is not a pending case)."""
    foreign = f.value in _FAMILY and _FAMILY[f.value][0] != family
    return foreign, _PRIORITY.index(f.value)


# ---------------------------------------------------------------- relation

# Forward moves inside one family of statuses: later rank = the story moved on.
_FAMILY = {
    "scheduled": ("event", 0),
    "postponed": ("event", 1),
    "held": ("event", 2),
    "proposed": ("bill", 0),
    "stalled": ("bill", 1),
    "advanced": ("bill", 2),  # out of committee, not yet through a chamber
    "passed": ("bill", 3),
    "signed": ("bill", 4),
    "vetoed": ("bill", 4),
    "pending": ("ruling", 0),
    "decided": ("ruling", 1),
    "struck down": ("ruling", 2),
    "upheld": ("ruling", 2),
}
_CONTRARY = {
    ("struck down", "upheld"),
    ("upheld", "struck down"),
    ("struck down", "pending"),
    ("upheld", "pending"),
    ("held", "cancelled"),
    ("passed", "stalled"),
    ("signed", "vetoed"),
}


def status_move(old: str, new: str) -> Literal["same", "forward", "contrary", "stale", "other"]:
    """How a reported status relates to the current one."""
    old, new = fx.canonical_status(old), fx.canonical_status(new)
    if new in ("denied", "cancelled") or (old, new) in _CONTRARY:
        return "contrary"
    if old == new or {old, new} in ({"decided", "struck down"}, {"decided", "upheld"}):
        return "same"
    if old in _FAMILY and new in _FAMILY and _FAMILY[old][0] == _FAMILY[new][0]:
        rescheduled = (old, new) == ("postponed", "scheduled")
        return "forward" if _FAMILY[new][1] > _FAMILY[old][1] or rescheduled else "stale"
    return "other"


# Slots whose change is a development (who said it, or a co-sponsor named, is not).
TRACKED_SLOTS: tuple[str, ...] = (*_EVENT_SLOTS, *_VALUE_SLOTS, *_OUTCOME_SLOTS, "stance", "topic")


def same_value(slot: str, a: str, b: str) -> bool:
    """Whether two values of a slot agree ("Feb 4-5" holds "Feb 4"; the UAE holds Abu Dhabi)."""
    if slot == "date":
        return fx.same_date(a, b)
    if slot == "location":
        return fx.same_place(a, b)
    if slot == "status":
        return status_move(b, a) == "same"
    if slot == "prisoners":
        (each_a, total_a), (each_b, total_b) = fx.prisoner_counts(a), fx.prisoner_counts(b)
        return each_a == each_b if each_a and each_b else total_a == total_b
    if slot == "topic":  # the same items in any order
        return {i.strip().lower() for i in a.split(",")} == {i.strip().lower() for i in b.split(",")}
    return a.strip().lower() == b.strip().lower()


def relate(found: Mapping[str, str], state: Mapping[str, str]) -> Relation:
    """Compare the facts of the evidence with the claim's current state."""
    move = status_move(state["status"], found["status"]) if "status" in found and "status" in state else None
    changed = [
        s
        for s in (*_EVENT_SLOTS, *_VALUE_SLOTS, *_OUTCOME_SLOTS, "topic")
        if s in found and s in state and s != "status" and not same_value(s, found[s], state[s])
    ]
    if move == "contrary":
        if "disputed" in state and any(s in _VALUE_SLOTS for s in changed):
            return "updates"  # the denial is on record already; the revised figure is the news
        return "contradicts"
    new_outcome = any(s in found and s not in state for s in _OUTCOME_SLOTS)
    if (
        "disputed" in state
        and move == "same"
        and any(s in found and s not in state for s in ("date", "vote"))
    ):
        return "updates"  # a disputed claim borne out, with when and how: the dispute is over
    if move == "forward" or (changed and move != "stale") or (new_outcome and move != "stale"):
        return "updates"
    same = [
        s
        for s in ("status", "date", *_VALUE_SLOTS, "topic")
        if s in found and s in state and same_value(s, found[s], state[s])
    ]
    return "confirms" if same and move != "stale" else "mentions"


def _reported(merged: Mapping[str, fx.Fact], state: Mapping[str, str], event: bool = True) -> dict[str, str]:
    """The slot values ClaimMatch.facts carries: the claim's slots plus event outcomes."""
    # A figure of the claim's kind only: a ruling's claim is not updated by a tariff rate.
    stated = fx.canonical_status(state.get("status", "")) == "stated"
    keep = set(state) | set(_EVENT_SLOTS) | set(_OUTCOME_SLOTS) | ({"stance"} if stated else set())
    if not event:
        keep.discard("location")  # a bill or a ruling has no venue; "talks in Abu Dhabi" is context
    agenda = "topic" in state
    if agenda:
        keep -= {"date", "location"}  # an agenda is what talks cover: when and where is the meeting's
    out = {slot: f.value for slot, f in merged.items() if slot in keep}
    if agenda and out.get("status") in ("held", "postponed"):
        del out["status"]  # the meeting moved on; what it was to cover did not
    if "status" in out and stated and out["status"] != "denied":
        out["status"] = "stated"  # a statement claim has no life cycle, only who said it
    for slot in ("sponsor", "person"):
        if slot in state and "person" in merged:
            out[slot] = merged["person"].value
    return out


# An item taken off an agenda: "was removed from the agenda", "did not come up", "dropped".
_OFF_AGENDA = re.compile(
    r"\b(?:removed|dropped|taken|struck|pulled|deleted)\s+(?:from|off)\s+(?:the\s+)?(?:agenda|table|list)\b"
    r"|\b(?:was|were|has been|have been|had been)\s+(?:quietly\s+)?(?:dropped|shelved|scrapped|abandoned)\b"
    r"|\bdid not come up\b|\bwas not (?:discussed|raised)\b|\bno longer (?:on|part of) the (?:agenda|table)\b"
    r"|\boff the (?:agenda|table)\b",
    re.IGNORECASE,
)


def _agenda_items(topic: str) -> list[tuple[str, frozenset[str]]]:
    """The items of a topic slot ("partial ceasefires, troop withdrawals"), each with its concepts."""
    items = [item.strip() for item in topic.split(",") if item.strip()]
    return [(item, _concepts(item)) for item in items]


def _concepts(text: str) -> frozenset[str]:
    return frozenset(_CONCEPT_OF[m.group(0)] for m in _concept_matches(text.lower()))


def _agenda(sentences: Sequence[_Sentence], topic: str) -> dict[str, str]:
    """The topic left once the article says an item was taken off the agenda; {} when none was."""
    items = _agenda_items(topic)
    dropped: set[str] = set()
    for s in sentences:
        for clause in _clauses(s.text):
            cue = _OFF_AGENDA.search(clause)
            if cue is None or fx.negated_before(clause[max(0, cue.start() - 30) : cue.start()]):
                continue
            named = _concepts(clause[: cue.start()])
            dropped |= {item for item, concepts in items if concepts and concepts <= named}
    left = [item for item, _ in items if item not in dropped]
    return {"topic": ", ".join(left)} if dropped and left else {}


def _rescheduled(found: dict[str, str], state: Mapping[str, str]) -> dict[str, str]:
    """A planned meeting "now scheduled for" a later date than the state's has been postponed,
    and one postponed to a date is scheduled for it: said either way ("moved to Feb 7", "now set
    for Feb 7"), it is the same development."""
    if "date" not in found or "date" not in state or found.get("status", "scheduled") != "scheduled":
        return found
    status = fx.canonical_status(state.get("status", ""))
    if status == "postponed" and fx.same_date(found["date"], state["date"]):
        return {**found, "status": "postponed"}
    new_first, _ = fx.date_bounds(found["date"])
    _, old_last = fx.date_bounds(state["date"])
    if status not in ("scheduled", "postponed") or new_first.startswith("--") or old_last.startswith("--"):
        return found
    return {**found, "status": "postponed"} if new_first > old_last else found


# ---------------------------------------------------------------- match


def _state_of(claim: Claim, states: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    state = dict(states.get(claim.id) or claim.facts)
    if "status" in state:
        state["status"] = fx.canonical_status(state["status"])
    return state


def _match_one(
    c: _Compiled,
    sentences: Sequence[_Sentence],
    state: Mapping[str, str],
    published_at: datetime | None,
) -> ClaimMatch | None:
    relevant = _relevant(c, sentences)
    if not relevant:
        return None
    score = max(cov for _, cov in relevant)
    merged, used = _evidence_facts(c, [s.text for s, _ in relevant], state, published_at)
    if not used and _all_elsewhere(c, relevant, state, published_at):
        return None  # every sentence about an event like this one was about another one
    merged = {
        slot: f for slot, f in merged.items() if slot != "outcome" or _outcome_fits(c, f.value)
    }
    if not merged.get("outcome"):
        merged = {k: v for k, v in merged.items() if k != "prisoners"}  # counts of what, then?
    found = _rescheduled(_reported(merged, state, c.event), state)
    if "topic" in state:  # items named in the brief: a later article dropping one again confirms
        found.update(_agenda(sentences, c.claim.facts.get("topic") or state["topic"]))
    relation = relate(found, state)
    if state.get("status") == "stated":
        relation, found = _statement_relation(c, relevant, found, state, score)
    if _stale(found, state, published_at):
        relation = "mentions"  # "no ruling yet", written before the ruling the state records
    if relation == "contradicts" and _in_passing(c, relevant, sentences):
        relation = "mentions"  # "the tariff case pending before the court", in a story on steel
    evidence = used[0] if used else max(relevant, key=lambda p: p[1])[0].text
    return ClaimMatch(c.claim.id, relation, evidence, found, round(min(score, 1.0), 3))


_PASSING_MIN_SENTENCES = 5  # shorter pieces are briefs: one sentence may be the whole story


def _in_passing(
    c: _Compiled, relevant: Sequence[tuple[_Sentence, float]], sentences: Sequence[_Sentence]
) -> bool:
    """The claim comes up in one sentence of a longer story about something else (no other
    sentence, headline included, touches two of its topic terms): background, not a report that
    disputes it."""
    if len(relevant) != 1 or len(sentences) < _PASSING_MIN_SENTENCES:
        return False
    touching = [s for s in sentences if len({t for t in c.keys & s.terms if not _is_who(t)}) >= _MIN_TERMS]
    return len(touching) <= 1


def _stale(found: Mapping[str, str], state: Mapping[str, str], published_at: datetime | None) -> bool:
    """An earlier stage of the story, published before the state's own date, is old news rather
    than a contradiction: a pending case reported before the ruling day."""
    if published_at is None or "date" not in state or "status" not in found:
        return False
    if status_move(state.get("status", ""), found["status"]) not in ("contrary", "stale"):
        return False
    if found["status"] in ("denied", "cancelled"):
        return False  # a denial or a cancellation is news whenever it is published
    first, _ = fx.date_bounds(state["date"])
    return not first.startswith("--") and published_at.date().isoformat() < first


def _statement_relation(
    c: _Compiled,
    relevant: Sequence[tuple[_Sentence, float]],
    found: dict[str, str],
    state: Mapping[str, str],
    score: float,
) -> tuple[Relation, dict[str, str]]:
    """A statement claim has no life cycle, but it may be *about a stance* ("cautious optimism"):
    then the same stance confirms it, a doubting one contradicts it, another one updates it."""
    own = state.get("stance") or _claim_stance(c.claim.statement)
    stance = found.pop("stance", None)
    if not c.people or own is None:
        stance = None  # a stance belongs to a claim about what someone said
    if stance == "skeptical" or any(_negates(c, s.text) for s, _ in relevant):
        return "contradicts", {**found, "status": "denied"}
    if stance is not None and stance != own:
        return "updates", {**found, "stance": stance}
    if stance is not None:
        return "confirms", {**found, "stance": stance}
    # Restating it confirms, touching on it mentions.
    return ("confirms" if score >= _RESTATES else "mentions"), found


@lru_cache(maxsize=1024)
def _claim_stance(statement: str) -> str | None:
    found = fx.stances(statement)
    return found[0].value if found else None


def match(
    article: ArticleText,
    claims: Sequence[Claim],
    states: Mapping[str, Mapping[str, str]],
) -> list[ClaimMatch]:
    """Return one match per claim the article is about; `states` maps claim id to current facts."""
    compiled = _compiled(claims)
    sentences = _sentences(article)
    out: list[ClaimMatch] = []
    unmatched: list[_Compiled] = []
    for c in compiled:
        m = _match_one(c, sentences, _state_of(c.claim, states), article.published_at)
        if m is not None:
            out.append(m)
        else:
            unmatched.append(c)
    matched_keys = [c.keys for c in compiled if any(m.claim_id == c.claim.id for m in out)]
    article_terms = frozenset().union(*(s.terms for s in sentences))
    for c in unmatched:
        m = _mention(c, sentences, article_terms, matched_keys)
        if m is not None:
            out.append(m)
    return out


_MENTION = 0.4  # share of the claim's weight the whole article must cover to allude to it


def _may_cover(c: _Compiled, article_terms: frozenset[str], share: float) -> bool:
    """Whether the article could cover `share` of the claim's weight: an upper bound of
    _coverage over any of its sentences, so that most claims skip the per-sentence checks."""
    # The margin absorbs rounding: the same weights summed in another order may differ in the
    # last bit, and a bound must never turn away a claim the exact sum would let through.
    return sum(c.weights[t] for t in c.keys & article_terms) / c.total >= share - 1e-9


def _mention(
    c: _Compiled,
    sentences: Sequence[_Sentence],
    article_terms: frozenset[str],
    matched_keys: Sequence[frozenset[str]],
) -> ClaimMatch | None:
    """An article on the claim's topic with no sentence strong enough: an op-ed alluding to "the
    talks in the Gulf". No facts are read from it; it can only be a mention.

    The article as a whole must cover the claim's topic and touch its anchors -- its place (or
    a region holding it) and its parties -- and the overlap must not be explained by a claim the
    article is plainly about (a report on the Feb 4 round shares "talks" with the first round).
    """
    if c.people and not any(c.people & s.terms for s in sentences):
        return None
    if not _may_cover(c, article_terms, _MENTION) or not _firstness_ok(c, sentences):
        return None
    usable = [s for s in sentences if not _others_meeting(c, s) and not _about_other_round(c, s)]
    terms = frozenset().union(*(s.terms for s in usable)) if usable else frozenset()
    coverage, distinct = _coverage(c, terms)
    if coverage < _MENTION or distinct < _MIN_TERMS:
        return None
    places = {t for t in c.keys if t.startswith(("place:", "region:"))}
    if places and not places & terms:
        return None
    parties = {t for t in c.keys if t.startswith("party:")}
    if len(parties & terms) < min(2, len(parties)):
        return None
    topic = {t for t in c.keys if not _is_who(t)}
    if any(len(topic & keys) >= _MIN_TERMS for keys in matched_keys):
        return None  # the article is plainly about a sibling claim of the same story
    best = max(usable, key=lambda s: _coverage(c, s.terms)[0])
    return ClaimMatch(c.claim.id, "mentions", best.text, {}, round(min(coverage, 1.0), 3))
