"""What an evidence sentence asserts for a claim's slots: statuses, figures, dates, places and
stances, each with negation (NegEx) and hedging (FactBank) read around it (pure).

Longer than 300 lines, on purpose: the reader of each slot shape shares the negation, hedge and
subject helpers of this module, and splitting them would put one rule in two places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from claimwatch.flows.engine import dates, figures, knowledge, lexicon
from claimwatch.flows.engine.profile import Anchor, Profile, Slot
from claimwatch.flows.engine.text import Sentence, lemma, sentence


@dataclass(frozen=True, slots=True)
class Finding:
    """One value a sentence asserts for one of the claim's slots."""

    slot: str  # "status", "date", a figure slot's name, "stance", "location"
    value: str
    sentence: int
    negated: bool = False
    hedged: bool = False
    old: bool = False  # the value a change moved away from
    strength: int = 0  # how specific the words were (a status cue's length)


@lru_cache(maxsize=4096)
def figures_in(norm: str) -> tuple[figures.Figure, ...]:
    """Figures of a sentence, read once for all the claims it is weighed against."""
    return figures.figures(norm)


RESTATES = 0.45  # share of a statement claim's weight a sentence must carry to restate it


def read(p: Profile, s: Sentence, published: datetime | None, coverage: float = 0.0,
         anchored: bool = True) -> list[Finding]:
    """Every value the sentence asserts for the claim's slots; `coverage` is the share of the
    claim's weight the sentence carries (a statement claim restated is confirmed by it).

    Values are tied to the claim in the sentence that states them: a slot the claim did not
    name (a vote, a date it never gave) is read only where the sentence names the claim's
    subject; an event's new date only with a word of scheduling or change beside it; a status
    of an event dated otherwise than the claim's belongs to another event ("the first round,
    held on May 3", read for a claim about the second).
    """
    out = list(_statuses(p, s))
    if not any(f.slot == "status" for f in out):
        out += _tally_held(p, s)
    if p.kind == "statement" and coverage >= RESTATES:
        status = p.claim.facts.get("status", "stated")
        at = max(0, len(s.norm) // 2)
        out.append(Finding("status", status, s.index, _restated_negated(p, s),
                           _clause_hedged(s, at)))
    out += _figures(p, s)
    out += _dates(p, s, published)
    out += _places(p, s)
    out += _stances(p, s)
    given = set(p.claim.facts)
    if not anchored:
        out = [f for f in out if f.slot in given or f.slot == "status"]
    return out


def _restated_negated(p: Profile, s: Sentence) -> bool:
    """A statement restated under a negation its own words do not have ("China does not
    dominate ...", "saw no reason for optimism"), or without one they have ("some stores will
    close" against "no stores will close"): read at the first of the statement's words that is
    not a name."""
    names = _name_words(p.anchors)
    words = zip(s.norm.split(), _word_lemmas(s.norm), strict=True)  # one lemma per word
    first = next(((i, w) for i, (raw, w) in enumerate(words)
                  if w in p.statement_lemmas and w not in names and raw not in names), None)
    if first is None:
        return False
    return _negated_at(s, first[0]) != _statement_negates(p.claim.statement, first[1])


@lru_cache(maxsize=1024)
def _name_words(anchors: tuple[Anchor, ...]) -> frozenset[str]:
    return frozenset(w for a in anchors for form in a.forms for w in form.split())


@lru_cache(maxsize=4096)
def _statement_negates(statement: str, word: str) -> bool:
    """Whether the claim's own statement negates this (lemmatized) word of it."""
    own = sentence(-2, statement)
    at = next((i for i, w in enumerate(_word_lemmas(own.norm)) if w == word), None)
    return at is not None and _negated_at(own, at)


def _negated_at(s: Sentence, word: int) -> bool:
    """NegEx at the word-th space-separated word of the sentence."""
    return _negated(s, sum(len(w) + 1 for w in s.norm.split()[:word]))


_VOTING = frozenset({"vote", "ballot", "reading", "referendum", "division", "poll"})


def _tally_held(p: Profile, s: Sentence) -> list[Finding]:
    """A vote's tally reported is the vote held ("gave the bill a second reading by 330 votes
    to 275"), for a claim about a vote that names no status of its own in the sentence."""
    if p.kind != "event" or p.slot("status") is None or not (p.event_nouns & _VOTING & s.lemmas):
        return []
    tallies = [f for f in figures_in(s.norm) if f.kind == "vote"]
    return [Finding("status", "held", s.index, False, _clause_hedged(s, f.start))
            for f in tallies[:1]]


_REPORTED_CLAIM = re.compile(r"^\W*(?:claim|rumou?r|the claim|what was claimed|allegation)\s*:")


def _clause_hedged(s: Sentence, at: int) -> bool:
    """A hedge or modal in the words shortly before position `at` (FactBank: uncommitted), or a
    sentence that only reports a claim ("CLAIM: ...", as fact-checks open)."""
    if _REPORTED_CLAIM.match(s.norm):
        return True
    window = s.norm[max(0, at - 60):at]
    window = re.split(r"[;:]|\bbut\b|\bwhile\b", window)[-1]
    return bool(lexicon.get().hedges.search(window))


def _negated(s: Sentence, at: int) -> bool:
    """NegEx: a negation cue within a few words before, no scope end or pseudo-negation between."""
    lex = lexicon.get()
    words = s.norm[:at].split()[-lex.negation_window:]
    window = " ".join(words)
    cue = None
    for m in lex.negation.finditer(window):
        cue = m
    if cue is None:
        return False
    between = window[cue.end():]
    return not (lex.scope_end.search(between)
                or lex.pseudo_negation.search(window[max(0, cue.start() - 5):]))


NEAR = 12  # words between a status word and the thing it is about ("the vote was postponed")


def _subject_positions(p: Profile, s: Sentence) -> list[int]:
    """Word positions of what the claim is about in the sentence: its event nouns ("vote",
    "bill", "strike") and its names."""
    positions = [i for i, w in enumerate(_word_lemmas(s.norm)) if w in p.event_nouns]
    lowered = s.norm
    for a in p.anchors:
        if a.place:
            continue  # a venue is where things happen, not what happens ("Riga's marathon")
        for form in a.forms:
            at = lowered.find(form)
            if at >= 0:
                positions.append(len(lowered[:at].split()))
    return positions


_NOT_WORD = re.compile(r"[^a-z'-]")


@lru_cache(maxsize=4096)
def _word_lemmas(norm: str) -> tuple[str, ...]:
    """The lemma of each space-separated word of a sentence, by position; read once for all
    the claims the sentence is weighed against."""
    return tuple(lemma(_NOT_WORD.sub("", word)) for word in norm.split())


def _near(s: Sentence, at: int, positions: list[int]) -> bool:
    here = len(s.norm[:at].split())
    return any(abs(here - pos) <= NEAR for pos in positions)


def _statuses(p: Profile, s: Sentence) -> list[Finding]:
    lex = lexicon.get()
    positions = _subject_positions(p, s)
    if not positions:
        return []
    # The sentence's one event noun is its subject however long the clause between them is
    # ("the meeting ... that had been planned for May 4 in Riga has been postponed").
    nouns = [i for i, w in enumerate(_word_lemmas(s.norm)) if w in p.event_nouns]
    out: list[tuple[bool, Finding]] = []
    for status in lex.statuses_for(p.kind):
        if status.name == "denied":
            continue  # denials are read by _denies, with their own scope
        for m in status.pattern.finditer(s.norm):
            at = len(s.norm[:m.start()].split())
            if not _near(s, m.start(), positions) and not (len(nouns) == 1 and nouns[0] < at):
                continue
            out.append((_background(s, m.start()), Finding(
                "status", status.name, s.index, _negated(s, m.start()),
                _clause_hedged(s, m.start()) and not _schedule(status.name),
                strength=len(m.group(0)))))
            break
    # "will meet again on May 4, after the first round ended": the main clause is the news;
    # a status in a clause of what came before counts only when it is the sentence's only one.
    main = [f for background, f in out if not background]
    return main or [f for _, f in out]


_BACKGROUND = re.compile(r"^\W*(?:after|following|before|since)\b")


def _background(s: Sentence, at: int) -> bool:
    """The status at `at` sits in a temporal clause of what came before ("after the talks
    ended"): the clause runs from the last comma, semicolon or dash to `at`."""
    clause = re.split(r"[,;:]|\s[-\u2013\u2014]\s", s.norm[:at])[-1]
    return bool(_BACKGROUND.match(clause))


def _schedule(status: str) -> bool:
    # "will meet on Feb 4", "is expected to take place": a schedule is written in the future.
    return status in ("scheduled", "pending")


def _figures(p: Profile, s: Sentence) -> list[Finding]:
    found = figures_in(s.norm)
    if not found:
        return []
    out = []
    for f in found:
        slot = slot_for(p, f, s)
        if slot is None:
            continue
        hedged = _clause_hedged(s, f.start) and not (p.forecast and _forecasting(s))
        if p.forecast and not _forecasting(s):
            continue  # a forecast claim is moved by forecasts, not by outcomes
        if not p.forecast and _forecasting(s) and _near_forecast(s, f):
            continue  # a prediction is not the figure itself
        value = figures.canonical(f) if f.kind != "money" or not f.word or slot.shape == "money" \
            else figures.canonical(figures.Figure("count", f.value, "", f.start, f.end, f.approx,
                                                  f.before, f.after))
        out.append(Finding(slot.name, value, s.index, _negated(s, f.start), hedged,
                           _was(s, f.start)))
    return out


def slot_for(p: Profile, f: figures.Figure, s: Sentence) -> Slot | None:
    """The claim's slot a figure fills: its kind must fit, and its words must tie it to the slot
    ("45,000 dockworkers" to `workers`); a claim's only slot of that kind takes an untied figure
    that equals its value."""
    candidates = [slot for slot in p.slots if _fits(slot, f)]
    if not candidates:
        return None
    if f.kind == "vote" and len(candidates) == 1:
        return candidates[0]  # a tally is a tally: the claim's one vote slot
    if f.kind == "count" and _identifier(f, s):
        return None  # a name's number ("Local 333", "Section 122", "Flight 1282"), not a count
    if f.kind == "count" and _RIGHT_BEFORE_A_WORD.match(s.norm, f.end):
        # a count is of the noun right after it ("45,000 dockworkers", "for nine years")
        near = {lemma(w) for w in f.after[:2]}
    else:  # or, ending a clause, of what the clause counts ("members ... at some 47,000")
        near = {lemma(w) for w in (*f.before[-10:], *f.after[:4])}
    scored = [(len(slot.nouns & near), slot) for slot in candidates]
    best = max(scored, key=lambda t: t[0])
    if best[0] > 0:
        return best[1]
    alone = [slot for slot in candidates if slot.figure is not None
             and figures.same_number(f.value, slot.figure.value, f.approx)]
    return alone[0] if len(candidates) == 1 and alone else None


_RIGHT_BEFORE_A_WORD = re.compile(r" +[a-z]")
# A number right after a capitalized word names something; months and weekdays date it instead.
_NAMED_NUMBER = re.compile(r"(?<![.!?] )\b([A-Z][A-Za-z]+) (\d{1,6})\b(?![,.:/-]?\d)")
_NOT_NAMES = {"about", "some", "nearly", "almost", "around", "over", "under", "just", "only",
              "all", "the", "and", "of", "at", "by"}  # capitalized in a headline


@lru_cache(maxsize=4096)
def _named_numbers(text: str) -> frozenset[int]:
    return frozenset(int(m.group(2)) for m in _NAMED_NUMBER.finditer(text)
                     if m.start(1) > 0 and m.group(1).lower() not in _NOT_NAMES
                     and not dates.calendar_word(m.group(1).capitalize()))


def _identifier(f: figures.Figure, s: Sentence) -> bool:
    return not f.approx and f.value.is_integer() and int(f.value) in _named_numbers(s.text)


def _fits(slot: Slot, f: figures.Figure) -> bool:
    if slot.figure is None:
        return False
    if slot.shape == f.kind:
        return slot.shape != "money" or slot.figure.unit == f.unit
    # "207,000 pounds" is a count of pounds when the claim counts pounds
    return slot.shape == "count" and f.kind == "money" and bool(f.word) and lemma(f.word) in slot.nouns


def _forecasting(s: Sentence) -> bool:
    return bool(lexicon.get().forecast.search(s.norm))


def _near_forecast(s: Sentence, f: figures.Figure) -> bool:
    window = s.norm[max(0, f.start - 50):f.start]
    return bool(lexicon.get().forecast.search(window))


def _was(s: Sentence, at: int) -> bool:
    """The value a change moved away from: "from 4.5%", "than the 3.75% it expected"."""
    clause = re.split(r"[,;]|\bnow\b|\bbut\b", s.norm[max(0, at - 45):at])[-1]
    return bool(lexicon.get().old_time.search(clause)) or bool(
        re.search(r"\b(?:from|than|versus|vs)\s+(?:the\s+|a\s+|its\s+)?(?:[a-z]+\s+){0,2}$", clause))


def _dates(p: Profile, s: Sentence, published: datetime | None) -> list[Finding]:
    slot = next((x for x in p.slots if x.shape == "date"), None)
    if slot is None:
        return []
    lex = lexicon.get()
    positions = _subject_positions(p, s) + [
        len(s.norm[:m.start()].split()) for st in lex.statuses_for(p.kind)
        for m in st.pattern.finditer(s.norm)]
    found = [d for d in dates.dates(s.text, published)
             if not d.value.startswith("--") and _near(s, d.start, positions)
             and not _reporting_after(s, d)]
    # "planned for May 4-5, has been moved to May 7-8": the date a move goes to is the new one,
    # every other date of that sentence the one it left.
    moved_to = [d for d in found if _MOVED_TO.search(s.text[max(0, d.start - 30):d.start])]
    seed = p.claim.facts.get(slot.name, "")
    return [Finding(slot.name, _claims_year(d, seed), s.index, False,
                    _clause_hedged(s, d.start) and not _schedule_words(s),
                    d.old or bool(moved_to and d not in moved_to)) for d in found]


_MONTH = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", re.IGNORECASE)
_MOVED_TO = re.compile(r"\b(?:moved|postponed|pushed(?: back)?|delayed|rescheduled|shifted|bumped"
                       r"|brought forward|put off|deferred)\s+(?:to|until|till|for)\s+(?:\w+,?\s+)?$"
                       r"|\bnow (?:set|scheduled|slated|due) (?:for|on)\s+(?:\w+,?\s+)?$",
                       re.IGNORECASE)


def _claims_year(d: dates.Dated, seed: str) -> str:
    """A date written without its year was given the year nearest the article's date; when the
    claim has a date of its own, the year nearest that one is the better guess ("February 10"
    in a December piece about February's meeting)."""
    if d.year_given or len(seed) < 10 or not seed[:4].isdigit():
        return d.value
    best, best_gap = d.value, None
    for shift in (-1, 0, 1):
        moved = "/".join(f"{int(part[:4]) + shift:04d}{part[4:]}" for part in d.value.split("/"))
        try:
            gap = abs((date.fromisoformat(moved[:10]) - date.fromisoformat(seed[:10])).days)
        except ValueError:
            continue
        if best_gap is None or gap < best_gap:
            best, best_gap = moved, gap
    return best


def _reporting_after(s: Sentence, d: dates.Dated) -> bool:
    """"The Kremlin on Monday confirmed that...": a weekday right before a reporting verb is
    the day of the report."""
    if re.search(r"[A-Za-z]{3}", s.text[d.start:d.end]) is None or _MONTH.search(s.text[d.start:d.end]):
        return False  # a written-out date ("February 10, officials said") is the event's
    after = s.text[d.end:d.end + 25].lower()
    return bool(re.match(r"\W*(?:\w+\s+){0,1}?(?:said|says|confirmed|announced|told|wrote|added"
                         r"|denied|reported|posted)\b", after))


def _schedule_words(s: Sentence) -> bool:
    return bool(re.search(r"\b(?:will|set|scheduled|due|slated|planned|now)\b", s.norm))


_VENUE = re.compile(r"\b(?:in|at|to|host|hosts|hosted by|venue)\s+(?:the\s+)?"
                    r"([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?)")


def _places(p: Profile, s: Sentence) -> list[Finding]:
    slot = next((x for x in p.slots if x.shape == "place"), None)
    if slot is None:
        return []
    k = knowledge.get()
    out = []
    for m in _VENUE.finditer(s.text):
        name = m.group(1)
        place = k.places.get(name.lower())
        if place is not None:
            # s.text offsets stand in for s.norm's: close enough for a hedge a few words before
            out.append(Finding(slot.name, place[0], s.index, hedged=_clause_hedged(s, m.start())))
    return out


def _stances(p: Profile, s: Sentence) -> list[Finding]:
    slot = next((x for x in p.slots if x.shape == "stance"), None)
    if slot is None:
        return []
    out = []
    stances = lexicon.get().stances
    # A change of stance is the news when it is there: look for it first.
    for name in sorted(stances, key=lambda n: n not in ("reversed", "disowned")):
        m = stances[name].search(s.norm)
        if m:
            out.append(Finding(slot.name, name, s.index, _negated(s, m.start()),
                               _clause_hedged(s, m.start())))
            break
    return out


def denies(p: Profile, s: Sentence, topic: float, own_figures: int) -> bool:
    """A denial of the claim: a denial cue near what the claim is about, neither negated nor
    hedged, in an evidence sentence carrying the claim's own words (`topic`) or figures."""
    if topic < 0.5 and not own_figures:
        return False  # a denial of something else the sentence names ("dismissed that package")
    positions = _subject_positions(p, s) + [
        i for i, w in enumerate(_word_lemmas(s.norm)) if w in p.topic]
    for m in lexicon.get().denial.finditer(s.norm):
        if _near(s, m.start(), positions) and not _negated(s, m.start()) \
                and not _clause_hedged(s, m.start()):
            return True
    return False
