"""What an article says about a claim, whatever the claim's state (pure; no clock).

For each claim: is the article about it (anchors, topic words, its own figures), which sentences
are the evidence, and what do they assert, with negation, hedging and denial read as
computational linguistics reads them (../shared/JUDGEMENT.md). Comparing that with the claim's
state is relate.py's job, so an assessment can be worked out once, ahead, and judged later
against whatever the state was when the article was published.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from claimwatch.flows.engine import findings, knowledge
from claimwatch.flows.engine.findings import Finding
from claimwatch.flows.engine.model import ArticleText, Claim
from claimwatch.flows.engine.profile import Anchor, Profile, compile_claims
from claimwatch.flows.engine.text import Sentence, sentence, split_sentences

EVIDENCE = 1.6  # weight a sentence needs to be evidence (a distinctive name and a word or two)
MAX_SENTENCES = 400  # a very long page: the rest is not read


@dataclass(frozen=True, slots=True)
class Assessment:
    claim_id: str
    score: float
    evidence: tuple[str, ...]  # evidence sentences, best first
    findings: tuple[Finding, ...]
    denial: str | None  # the sentence denying the claim, if one does
    texts: tuple[tuple[int, str], ...]  # sentence index -> text, for the findings' evidence

    def text_of(self, index: int) -> str:
        return next((t for i, t in self.texts if i == index), self.evidence[0] if self.evidence else "")


def read(article: ArticleText) -> tuple[Sentence, ...]:
    body = split_sentences(article.text)[:MAX_SENTENCES]
    title = (sentence(-1, article.title),) if article.title.strip() else ()
    return title + tuple(sentence(i, s) for i, s in enumerate(body))



def assess(article: ArticleText, claims: Sequence[Claim]) -> list[Assessment]:
    """The claims this article is about, with what it asserts of each; in the claims' order."""
    sentences = read(article)
    found = []
    for profile in compile_claims(tuple(claims)):
        result = assess_one(profile, sentences, article.published_at)
        if result is not None:
            found.append(result)
    return found


@dataclass(frozen=True, slots=True)
class _Hit:
    s: Sentence
    anchors: frozenset[str]
    anchor_weight: float
    topic: float
    own_figures: int  # the claim's own values written in the sentence
    event: bool

    @property
    def score(self) -> float:
        return self.anchor_weight + self.topic + 1.2 * self.own_figures + 0.3 * self.event


def assess_one(p: Profile, sentences: Sequence[Sentence], published: datetime | None
               ) -> Assessment | None:
    gate = _gate(p.anchors)
    hits = [_hit(p, s, gate) for s in sentences]
    named = frozenset().union(*(h.anchors for h in hits)) if hits else frozenset()
    actors = {a.name for a in p.anchors if not a.place}
    if actors and named and not named & actors:
        return None  # only the venue is named: something else happening there
    if p.anchors and not named and not any((h.own_figures and h.topic >= STRONG_TOPIC / 2)
                                           or h.topic >= STRONG_TOPIC for h in hits):
        return None  # nothing names what the claim is about, nor says much of it
    evidence = [h for h in hits if _is_evidence(p, h, named) and not _elsewhere(p, h)]
    if not evidence:
        return None
    evidence.sort(key=lambda h: (-h.score, h.s.index))
    best = sum(a.weight for a in p.anchors) + sum(sorted(p.topic.values())[-4:]) + 1.0
    score = min(1.0, evidence[0].score / best)
    total = sum(a.weight for a in p.anchors) + sum(p.topic.values()) or 1.0
    found = [f for h in evidence
             for f in findings.read(p, h.s, published, (h.anchor_weight + h.topic) / total,
                                    bool(h.anchors))]
    denial = next((h.s.text for h in evidence
                   if findings.denies(p, h.s, h.topic, h.own_figures)), None)
    if not found and denial is None and not _about(p, hits):
        return None  # a passing reference: neither a fact about the claim nor a piece about it
    texts = tuple((h.s.index, h.s.text) for h in evidence)
    return Assessment(p.claim.id, round(score, 3), tuple(h.s.text for h in evidence[:3]),
                      tuple(found), denial, texts)


@lru_cache(maxsize=1024)
def _gate(anchors: tuple[Anchor, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """One search for any of the anchors' forms, lowercase and cased: a sentence it finds
    nothing in names none of them, so the exact per-anchor test is skipped (speed only)."""
    def either(forms: list[str]) -> re.Pattern[str]:
        return re.compile("|".join(map(re.escape, forms)) if forms else "(?!)")
    return (either([f for a in anchors for f in a.forms]),
            either([f for a in anchors for f in a.cased]))


def _hit(p: Profile, s: Sentence, gate: tuple[re.Pattern[str], re.Pattern[str]]) -> _Hit:
    # Called for every (claim, sentence) pair, so cheap C-level tests go first each time (most
    # pairs share nothing); sums keep the profile's order, so scores are exactly as before.
    named = [a for a in p.anchors if _names(a, s)] \
        if gate[0].search(s.lower) or gate[1].search(s.text) else []
    anchors = frozenset(a.name for a in named)
    lemmas, lowered = s.lemmas, s.lower
    topic = 0 if p.topic.keys().isdisjoint(lemmas) else \
        sum(w for word, w in p.topic.items() if word in lemmas)
    topic += sum(w for phrase, w in p.phrases.items()
                 if phrase in lowered and _whole(phrase, lowered))
    own = sum(1 for f in findings.figures_in(s.norm) if findings.slot_for(p, f, s) is not None)
    return _Hit(s, anchors, sum(a.weight for a in named), topic, own,
                not p.event_nouns.isdisjoint(lemmas))


def _names(a: Anchor, s: Sentence) -> bool:
    lowered = s.lower
    for form in a.forms:
        if form in lowered and _whole(form, lowered):
            return True
    text = s.text
    return any(form in text and _whole(form, text) for form in a.cased)


def _whole(phrase: str, text: str) -> bool:
    start = text.find(phrase)
    while start >= 0:
        end = start + len(phrase)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or after.isalnum()) or (after == "'" or after == "’"):
            return True
        start = text.find(phrase, start + 1)
    return False


MENTION_COVERAGE = 0.35  # share of the claim's distinctive weight a piece must cover to mention it


def _about(p: Profile, hits: Sequence[_Hit]) -> bool:
    """A piece about the claim without a checkable fact (an opinion, an explainer): across the
    article it covers most of what sets the claim apart."""
    anchors = {a for h in hits for a in h.anchors}
    words = {w for h in hits for w in p.topic if w in h.s.lemmas}
    covered = sum(a.weight for a in p.anchors if a.name in anchors) + sum(p.topic[w] for w in words)
    total = sum(a.weight for a in p.anchors) + sum(p.topic.values())
    return total > 0 and covered / total >= MENTION_COVERAGE


STRONG_TOPIC = 2.0  # topic weight that makes a sentence evidence without a name


def _is_evidence(p: Profile, h: _Hit, named: frozenset[str]) -> bool:
    """Enough of what sets this claim apart from the brief's others, in one sentence. A
    sentence that names nothing can still be the evidence in an article that does ("The
    committee voted five to four" in a piece about the Bank of England)."""
    if not (h.anchors or named) and h.topic < STRONG_TOPIC / 2:
        return False
    return h.score >= EVIDENCE and (h.topic > 0 or h.own_figures > 0 or len(h.anchors) >= 2)


def _elsewhere(p: Profile, h: _Hit) -> bool:
    """The sentence is about another place of the same kind: it names a country (or city) and
    none of the claim's ("US inflation" for a claim about the UK's)."""
    places = [a for a in p.anchors if a.country]
    if not places or any(a.name in h.anchors for a in places):
        return False
    k = knowledge.get()
    mentioned = {k.country_names.get(w) for w in re.findall(r"[a-z]+(?: [a-z]+)?", h.s.text.lower())
                 if w in k.country_names}
    mentioned |= {k.country_abbrevs.get(w) for w in re.findall(r"\b[A-Z]{2,3}\b", h.s.text)}
    mentioned.discard(None)
    return bool(mentioned)


# ---------------------------------------------------------------- what the evidence asserts

