"""Facts found in text: dates, rates, amounts, places, parties, status words, outcomes (pure).

Everything here is regular expressions over one sentence at a time, tuned to the kind of
coverage the seed brief tracks (diplomatic talks, bills, court rulings). Dates are returned as
ISO 8601 ("2026-02-04", intervals "2026-02-04/2026-02-05"); statuses as a small vocabulary
(STATUSES) so claims and articles compare by equality.

Longer than 300 lines until issue 13 rebuilds the engine (its story-specific tables go to data);
kept whole here so that the layout change (issue 12) changes no judgement.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, TypeAlias

Slot = Literal[
    "date",
    "location",
    "status",
    "rate",
    "amount",
    "outcome",
    "prisoners",
    "vote",
    "party",
    "person",
    "stance",
]
Tense = Literal["past", "future", "present"]

# The canonical status vocabulary; everything the status patterns find maps onto one of these.
STATUSES: tuple[str, ...] = (
    "scheduled",
    "postponed",
    "cancelled",
    "held",
    "proposed",
    "advanced",
    "passed",
    "signed",
    "vetoed",
    "stalled",
    "pending",
    "decided",
    "struck down",
    "upheld",
    "denied",
    "stated",
)


@dataclass(frozen=True, slots=True)
class Fact:
    """One normalized fact and where it came from in the sentence."""

    slot: Slot
    value: str
    text: str
    start: int = 0
    negated: bool = False  # "was not postponed", "did not strike down"
    tense: Tense = "present"
    old: bool = False  # the value a change moved away from ("originally set for Feb 1")


# ---------------------------------------------------------------- sentences

# Abbreviations whose dot does not end a sentence ("Feb. 4", "U.S. envoy", "Sen. Graham").
_ABBREV = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Sen|Rep|Gen|Mr|Mrs|Ms|Dr|St|Lt|Col"
    r"|Gov|Pres|No|vs|v|Inc|Corp|Jr|Sr|U\.S|U\.N|U\.K|E\.U|a\.m|p\.m)\.$"
)
# _ABBREV only looks at the end: its longest form ("Sept.") and the character before it fit here.
_ABBREV_TAIL = 10
# A space after ".", "!" or "?" (perhaps closing a quote) before a capital or a digit; or a line
# break. Written to begin with the whitespace it needs, so that re skips straight to candidates
# instead of trying the lookbehinds at every character.
_BOUNDARY = re.compile(r"\s(?:(?<=[.!?]\s)|(?<=[.!?][\"”’)]\s))\s*(?=[\"“‘(]?[A-Z0-9])|\n+")


def split_sentences(text: str) -> tuple[str, ...]:
    """Split body text into sentences, keeping abbreviations like "Feb." and "U.S." intact."""
    out: list[str] = []
    pending = ""
    for piece in _BOUNDARY.split(text):
        piece = piece.strip()
        if not piece:
            continue
        pending = f"{pending} {piece}" if pending else piece
        if not _ABBREV.search(pending[-_ABBREV_TAIL:]):
            out.append(pending)
            pending = ""
    if pending:
        out.append(pending)
    return tuple(out)


# ---------------------------------------------------------------- dates

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
# Capitalized only, so the verbs "may" and "march" are not months.
_MON = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_TO = r"\s*(?:-|–|—|to|and|through|until|till)\s*"
_YEAR = r"(?:,?\s+(\d{4}))?"
_MONTH_FIRST = re.compile(rf"\b({_MON})\s+{_DAY}(?:{_TO}(?:({_MON})\s+)?{_DAY}(?![\d%]))?{_YEAR}(?![\d%])")
_DAY_FIRST = re.compile(rf"\b{_DAY}(?:{_TO}{_DAY})?\s+({_MON}){_YEAR}\b")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:/(\d{4})-(\d{2})-(\d{2}))?\b")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WD = r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_RELATIVE = re.compile(
    rf"\b(?:(next|this|last|coming|on|this coming|past|this past)\s+)?{_WD}"
    rf"(?:{_TO}{_WD})?\b|\b(tomorrow|today|yesterday|tonight)\b",
    re.IGNORECASE,
)
# A date right after these is the value a change moved away from.
_OLD_CUE = re.compile(
    r"\b(?:originally|initially|previously|earlier|once|had been|from)\b[^.;]{0,40}$",
    re.IGNORECASE,
)
# Only verbs that report an event as over decide that a bare weekday lies in the past:
# "had been discussed for Wednesday" still points ahead.
_PAST_CUE = re.compile(
    r"\b(?:held|took place|met|began|ended|concluded|convened|opened|ago|continued"
    r"|yesterday|wrapped up|got underway|finished|started|gathered|sat down)\b",
    re.IGNORECASE,
)
_FUTURE_CUE = re.compile(
    r"\b(?:will|would|shall|to be|set (?:for|to)|scheduled|slated|expected|planned|plans?"
    r"|upcoming|due|next|coming|moved to|pushed|postponed|rescheduled|delayed)\b",
    re.IGNORECASE,
)


_REPORTED_ON = re.compile(
    r"\b(?:said|says|told|announced|wrote|added|confirmed|comment|statement|posted|reported|address"
    r"|[Uu]pdated|[Pp]ublished|[Cc]orrected|[Ee]dited"
    r"|briefing|reporters|interview|Telegram)\b[^.;,]{0,25}?(?:\b(?:on|late on|early "
    r"on)\s+)?(?:\w+\s+)?$",
    re.IGNORECASE,
)


def _month(name: str) -> int:
    return _MONTHS[name.lower()[:3]]


def _infer_year(month: int, day: int, ref: date | None) -> int | None:
    """Pick the year that puts month/day closest to the reference date (articles talk near now)."""
    if ref is None:
        return None
    best: int | None = None
    for year in (ref.year - 1, ref.year, ref.year + 1):
        try:
            gap = abs((date(year, month, day) - ref).days)
        except ValueError:
            continue
        if best is None or gap < abs((date(best, month, day) - ref).days):
            best = year
    return best


def _iso(year: int | None, month: int, day: int) -> str | None:
    """ISO date, or ISO's year-less "--MM-DD" when no year is known."""
    try:
        date(year or 2000, month, day)
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


def _interval(start: str | None, end: str | None) -> str | None:
    if start is None:
        return None
    if end is None or end == start:
        return start
    return f"{start}/{end}"


def _absolute_dates(sentence: str, ref: date | None) -> Iterator[tuple[int, int, str]]:
    """Yield (start, end, iso) for written-out dates."""
    for m in _MONTH_FIRST.finditer(sentence):
        m1, d1, m2, d2, yr = m.group(1), int(m.group(2)), m.group(3), m.group(4), m.group(5)
        mon1 = _month(m1)
        mon2 = _month(m2) if m2 else mon1
        year = int(yr) if yr else _infer_year(mon1, d1, ref)
        year2 = year + 1 if year and mon2 < mon1 else year
        end = _iso(year2, mon2, int(d2)) if d2 else None
        value = _interval(_iso(year, mon1, d1), end)
        if value:
            yield m.start(), m.end(), value
    for m in _DAY_FIRST.finditer(sentence):
        d1, d2, mon, yr = int(m.group(1)), m.group(2), _month(m.group(3)), m.group(4)
        year = int(yr) if yr else _infer_year(mon, d1, ref)
        value = _interval(_iso(year, mon, d1), _iso(year, mon, int(d2)) if d2 else None)
        if value:
            yield m.start(), m.end(), value
    for m in _ISO.finditer(sentence):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        end = _iso(int(m.group(4)), int(m.group(5)), int(m.group(6))) if m.group(4) else None
        value = _interval(_iso(y, mo, d), end)
        if value:
            yield m.start(), m.end(), value


def _weekday_date(name: str, qualifier: str, ref: date, past: bool) -> date:
    """Resolve a weekday name against the publication date; tense decides which side."""
    target = _WEEKDAYS.index(name.lower())
    ahead = (target - ref.weekday()) % 7
    behind = (ref.weekday() - target) % 7
    if qualifier in ("last", "past", "this past"):
        return ref - timedelta(days=behind or 7)
    if qualifier == "next":
        return ref + timedelta(days=ahead or 7)
    if past:
        return ref - timedelta(days=behind)
    return ref + timedelta(days=ahead)


def _relative_dates(sentence: str, ref: date | None) -> Iterator[tuple[int, int, str]]:
    if ref is None:
        return
    past = bool(_PAST_CUE.search(sentence)) and not _FUTURE_CUE.search(sentence)
    for m in _RELATIVE.finditer(sentence):
        word = (m.group(4) or "").lower()
        if word:
            shift = {"tomorrow": 1, "today": 0, "tonight": 0, "yesterday": -1}[word]
            yield m.start(), m.end(), (ref + timedelta(days=shift)).isoformat()
            continue
        qualifier = (m.group(1) or "").lower()
        if not qualifier and sentence[m.end() : m.end() + 2] in ("'s", "’s"):
            qualifier = "past"  # "Friday's ruling" reports something that has happened
        start = _weekday_date(m.group(2), qualifier, ref, past)
        end = _weekday_date(m.group(3), "", start, False) if m.group(3) else None
        yield m.start(), m.end(), _interval(start.isoformat(), end.isoformat() if end else None) or ""


def dates(sentence: str, published_at: datetime | date | None = None) -> tuple[Fact, ...]:
    """Dates and date ranges in a sentence, ISO 8601; relative ones need the publication date."""
    ref = published_at.date() if isinstance(published_at, datetime) else published_at
    found: list[Fact] = []
    taken: list[tuple[int, int]] = []
    for source in (_absolute_dates(sentence, ref), _relative_dates(sentence, ref)):
        for start, end, value in source:
            if any(s < end and start < e for s, e in taken):
                continue
            if _REPORTED_ON.search(sentence[max(0, start - 40) : start]):
                taken.append((start, end))
                continue  # "said on Sunday" dates the report, not the event
            taken.append((start, end))
            old = bool(_OLD_CUE.search(sentence[max(0, start - 45) : start]))
            found.append(Fact("date", value, sentence[start:end], start, old=old))
    return tuple(sorted(found, key=lambda f: f.start))


def date_bounds(value: str) -> tuple[str, str]:
    """First and last day of an ISO date or interval."""
    first, _, last = value.partition("/")
    return first, last or first


def same_date(a: str, b: str) -> bool:
    """Equal dates, or one a day inside the other's interval; year-less dates compare by MM-DD."""

    def norm(x: str) -> str:
        return x[-5:]

    a1, a2 = date_bounds(a)
    b1, b2 = date_bounds(b)
    if a1.startswith("--") or b1.startswith("--"):
        a1, a2, b1, b2 = norm(a1), norm(a2), norm(b1), norm(b2)
    return (a1, a2) == (b1, b2) or (b1 <= a1 and a2 <= b2) or (a1 <= b1 and b2 <= a2)


# ---------------------------------------------------------------- numbers

_RATE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per cent\b|pct\b)", re.IGNORECASE)
_SCALE = r"(?:(trillion|billion|million|tn|bn|mn|m|b)\b)"
_AMOUNT = re.compile(
    rf"(?:\$|US\$|USD\s?)\s?(\d+(?:[.,]\d+)?)\s*{_SCALE}?|(\d+(?:\.\d+)?)\s*{_SCALE}\s*(?:dollars|USD)",
    re.IGNORECASE,
)
_SCALES = {"tn": "trillion", "bn": "billion", "b": "billion", "mn": "million", "m": "million"}


_DIGIT = re.compile(r"\d")


def quantities(sentence: str) -> tuple[Fact, ...]:
    """Percentages ("up to 500 percent" -> "500%") and amounts ("$12tn" -> "$12 trillion")."""
    if not _DIGIT.search(sentence):
        return ()  # both need a number; three sentences in four have none
    found = [Fact("rate", f"{_num(m.group(1))}%", m.group(0), m.start()) for m in _RATE.finditer(sentence)]
    for m in _AMOUNT.finditer(sentence):
        number = m.group(1) or m.group(3)
        scale = (m.group(2) or m.group(4) or "").lower()
        scale = _SCALES.get(scale, scale)
        value = f"${_num(number.replace(',', ''))}" + (f" {scale}" if scale else "")
        found.append(Fact("amount", value, m.group(0), m.start()))
    return tuple(found)


def _num(text: str) -> str:
    return text[:-2] if text.endswith(".0") else text


# ---------------------------------------------------------------- places and parties

# canonical place -> aliases; the brief's venues and capitals, plus near neighbours for contrast.
PLACES: dict[str, tuple[str, ...]] = {
    "Abu Dhabi": (
        "Abu Dhabi",
        "Emirati capital",
        "UAE capital",
        "capital of the UAE",
        "capital of the United Arab Emirates",
    ),
    "United Arab Emirates": ("United Arab Emirates", "UAE", "the Emirates"),
    "Dubai": ("Dubai",),
    "Istanbul": ("Istanbul",),
    "Ankara": ("Ankara",),
    "Geneva": ("Geneva",),
    "Switzerland": ("Switzerland",),
    "Riyadh": ("Riyadh", "Saudi capital"),
    "Jeddah": ("Jeddah", "Jidda"),
    "Saudi Arabia": ("Saudi Arabia",),
    "Doha": ("Doha",),
    "Moscow": ("Moscow",),
    "Kyiv": ("Kyiv", "Kiev"),
    "Washington": ("Washington",),
    "Miami": ("Miami",),
    "Alaska": ("Alaska", "Anchorage"),
    "Berlin": ("Berlin",),
    "Paris": ("Paris",),
    "London": ("London",),
    "Brussels": ("Brussels",),
    "Budapest": ("Budapest",),
    "Minsk": ("Minsk",),
    "Davos": ("Davos",),
    "Munich": ("Munich",),
    "Vatican": ("Vatican", "Rome"),
    # Regions: "talks in the Gulf" is vaguer than a city but points the same way.
    "Gulf": ("the Gulf", "Gulf states", "Persian Gulf", "Arabian Gulf"),
}
# A venue named at city level is the same venue as its country ("talks in the UAE").
WITHIN: dict[str, str] = {
    "United Arab Emirates": "Gulf",
    "Saudi Arabia": "Gulf",
    "Doha": "Gulf",
    "Abu Dhabi": "United Arab Emirates",
    "Dubai": "United Arab Emirates",
    "Geneva": "Switzerland",
    "Davos": "Switzerland",
    "Riyadh": "Saudi Arabia",
    "Jeddah": "Saudi Arabia",
    "Istanbul": "Turkey",
    "Ankara": "Turkey",
}
PARTIES: dict[str, tuple[str, ...]] = {
    "Russia": ("Russia", "Russian", "Russians", "Moscow", "Kremlin", "Russian Federation"),
    "Ukraine": ("Ukraine", "Ukrainian", "Ukrainians", "Kyiv", "Kiev"),
    "United States": (
        "United States",
        "U.S.",
        "US",
        "USA",
        "America",
        "American",
        "Americans",
        "Washington",
        "White House",
    ),
    "China": ("China", "Chinese", "Beijing"),
    # Others who meet in threes too: naming them says the meeting is not the tracked one.
    "Japan": ("Japan", "Japanese", "Tokyo"),
    "South Korea": ("South Korea", "South Korean", "Seoul"),
    "North Korea": ("North Korea", "North Korean", "Pyongyang"),
    "India": ("India", "Indian", "New Delhi"),
    "Israel": ("Israel", "Israeli"),
    "Iran": ("Iran", "Iranian", "Tehran"),
    "Turkey": ("Turkey", "Turkish", "Ankara"),
    "Egypt": ("Egypt", "Egyptian", "Cairo"),
    "Qatar": ("Qatar", "Qatari"),
    "Germany": ("Germany", "German", "Berlin"),
    "France": ("France", "French", "Paris"),
    "United Kingdom": ("United Kingdom", "Britain", "British", "UK", "London"),
    "Palestinians": ("Palestinian", "Palestinians", "Hamas", "Gaza"),
    "European Union": ("European Union", "EU", "Brussels"),
}
PEOPLE: dict[str, tuple[str, ...]] = {
    "Volodymyr Zelensky": ("Zelensky", "Zelenskyy", "Zelenskiy", "Zelenskyi"),
    "Vladimir Putin": ("Putin",),
    "Donald Trump": ("Trump",),
    "Steve Witkoff": ("Witkoff",),
    "Jared Kushner": ("Kushner",),
    "Rustem Umerov": ("Umerov",),
    "Richard Blumenthal": ("Blumenthal",),
    "Lindsey Graham": ("Graham",),
    "Kirill Dmitriev": ("Dmitriev",),
    "Marco Rubio": ("Rubio",),
    "JD Vance": ("Vance",),
    "Yuri Ushakov": ("Ushakov",),
    "Kyrylo Budanov": ("Budanov",),
    "Igor Kostyukov": ("Kostyukov",),
    "John Roberts": ("Chief Justice Roberts", "John Roberts"),
}


# Whom a person speaks for: "Dmitriev" in a sentence brings Russia into it.
AFFILIATION: dict[str, str] = {
    "Volodymyr Zelensky": "Ukraine",
    "Rustem Umerov": "Ukraine",
    "Kyrylo Budanov": "Ukraine",
    "Vladimir Putin": "Russia",
    "Kirill Dmitriev": "Russia",
    "Yuri Ushakov": "Russia",
    "Igor Kostyukov": "Russia",
    "Donald Trump": "United States",
    "Steve Witkoff": "United States",
    "Jared Kushner": "United States",
    "Marco Rubio": "United States",
    "JD Vance": "United States",
}


@dataclass(frozen=True, slots=True)
class _Aliases:
    """An alias table as one alternation regex, in the two forms `_named` chooses between."""

    # Case-sensitive, run over lowercased text: Python's re is about 5x slower on a long
    # alternation with IGNORECASE, and these run over every sentence of every article.
    exact: re.Pattern[str]
    folding: re.Pattern[str]  # IGNORECASE, for text whose lowercase does not line up with it
    names: dict[str, str]  # lowercased alias -> canonical name
    folded: dict[str, str]  # _fold(alias) -> canonical name, for what IGNORECASE matched

    def name_of(self, written: str) -> str | None:
        """The canonical name of an alias as the text writes it ("İstanbul", "PARIS")."""
        return self.names.get(written.lower()) or self.folded.get(_fold(written))


def _fold(alias: str) -> str:
    """Lowercase without the marks and letter forms IGNORECASE takes for plain letters:
    "İstanbul" lowercases to "i" + a combining dot, and "ı", "ſ" stay as they are."""
    decomposed = unicodedata.normalize("NFKD", alias.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ı", "i")


def _aliases(table: dict[str, tuple[str, ...]]) -> _Aliases:
    names = {alias.lower(): name for name, aliases in table.items() for alias in aliases}
    # The fallback keeps the plain longest-first form: _branches' reasoning is case-sensitive.
    flat = "|".join(re.escape(a) for a in sorted(names, key=len, reverse=True))
    folded: dict[str, str] = {}
    for alias, name in names.items():
        folded.setdefault(_fold(alias), name)
    return _Aliases(
        re.compile(rf"(?<![\w.])(?:{alternation(names)})(?![\w])"),
        re.compile(rf"(?<![\w.])(?:{flat})(?![\w])", re.IGNORECASE),
        names,
        folded,
    )


_Tree: TypeAlias = dict[str, "_Tree"]


def alternation(phrases: Iterable[str]) -> str:
    """Regex source matching any of the phrases, the longest that fits first, as a prefix tree.

    Compiled case-sensitively it matches what "|".join(phrases, longest first) matches, but re
    tries one branch per character rather than every phrase at every position: ~2.5x faster
    over 250 phrases.
    """
    tree: _Tree = {}
    for phrase in phrases:
        node = tree
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}  # a phrase ends here
    return _branches(tree)


def _branches(node: _Tree) -> str:
    kids = [re.escape(ch) + _branches(child) for ch, child in sorted(node.items()) if ch]
    if not kids:
        return ""
    body = kids[0] if len(kids) == 1 else f"(?:{'|'.join(kids)})"
    # Greedy "?": the longer phrases below are tried before the one ending here, and only one
    # branch can fit the next character, so the preference is the longest-first one.
    return f"(?:{body})?" if "" in node else body


def _lowered(text: str) -> str | None:
    """text.lower() if aliases found in it are those IGNORECASE finds in text, at the same
    offsets; else None."""
    lowered = text.lower()
    # "İ" lowercases to two characters, shifting every offset after it; IGNORECASE takes "ı"
    # and "ſ" for "i" and "s", which str.lower() leaves as they are.
    if len(lowered) != len(text) or "ı" in lowered or "ſ" in lowered:
        return None
    return lowered


def _named(aliases: _Aliases, text: str, lowered: str | None
           ) -> Iterator[tuple[str, str, int]]:
    """(canonical name, alias as written, offset) of each alias in text; `lowered` is what
    _lowered gave for it."""
    if lowered is None:
        for m in aliases.folding.finditer(text):
            # IGNORECASE may match a spelling no key lowercases to ("Parıs"): fold it, or skip.
            if (name := aliases.name_of(m.group(0))) is not None:
                yield name, m.group(0), m.start()
        return
    for m in aliases.exact.finditer(lowered):
        start, end = m.span()
        yield aliases.names[m.group(0)], text[start:end], start


_PLACES = _aliases(PLACES)
_PLACE_OF = _PLACES.names
_PARTIES = _aliases({k: tuple(a for a in v if a != "US") for k, v in PARTIES.items()})
_US_RE = re.compile(r"(?<![\w.])US(?![\w])")  # case-sensitive, so the pronoun "us" is not a country
_PERSONS = _aliases(PEOPLE)
# A place is a venue only after these ("talks in Geneva"), not as a speaker ("Moscow said").
_VENUE_CUE = re.compile(
    r"\b(?:in|at|to|hosted by|host|hosts|venue|city of|capital)\s+(?:the\s+)?$", re.IGNORECASE
)


# "officials in Kyiv", "flew home to Kyiv": the place is where someone lives or goes back to,
# not where the meeting is.
_HOME_CUE = re.compile(
    r"\b(?:officials?|delegations?|team|teams|negotiators?|diplomats?|sources?|spokesm[ae]n|ministry"
    r"|government|president|leaders?|residents?|people|families|reporters|analysts|aides?|envoys?"
    r"|embassy|home|back|returned|return|flew|fly|flying)\s+(?:\w+\s+)?(?:in|from|of|to)\s+(?:the\s+)?$",
    re.IGNORECASE,
)


def places(sentence: str) -> tuple[Fact, ...]:
    """Venues named in a sentence (a place after in/at/to), canonical names; a place given as
    someone's home ("officials in Kyiv") is not a venue."""
    found = []
    for name, written, start in _named(_PLACES, sentence, _lowered(sentence)):
        before = sentence[max(0, start - 40) : start]
        if _HOME_CUE.search(before):
            continue
        if _VENUE_CUE.search(sentence[max(0, start - 20) : start]):
            old = bool(_OLD_CUE.search(sentence[max(0, start - 45) : start]))
            found.append(Fact("location", name, written, start, old=old))
    return tuple(found)


def parties(sentence: str) -> tuple[Fact, ...]:
    """Countries (by name, adjective or capital as metonym) and the brief's people."""
    lowered = _lowered(sentence)
    found = [
        Fact("party", name, written, start) for name, written, start in _named(_PARTIES, sentence, lowered)
    ]
    found += [Fact("party", "United States", m.group(0), m.start()) for m in _US_RE.finditer(sentence)]
    found += [
        Fact("person", name, written, start) for name, written, start in _named(_PERSONS, sentence, lowered)
    ]
    return tuple(sorted(found, key=lambda f: f.start))


def place_names(text: str) -> tuple[str, ...]:
    """Every place named in the text, venue or not, canonical names."""
    return tuple(name for name, _, _ in _named(_PLACES, text, _lowered(text)))


def containers(place: str) -> tuple[str, ...]:
    """The place and every wider place holding it: Abu Dhabi, United Arab Emirates, Gulf."""
    chain = [canonical_place(place)]
    while chain[-1] in WITHIN and len(chain) < 5:
        chain.append(WITHIN[chain[-1]])
    return tuple(chain)


def same_place(a: str, b: str) -> bool:
    """Same venue, or a place and a wider one holding it (a city and its country or region)."""
    return canonical_place(a) in containers(b) or canonical_place(b) in containers(a)


def canonical_place(name: str) -> str:
    return _PLACE_OF.get(name.strip().lower(), name.strip())


# ---------------------------------------------------------------- statuses

# canonical status -> pattern; order is priority when a sentence holds several (decisive first).
_STATUS_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "denied",
        r"denie[sd]|deny(?:ing)?|dismissed (?:the |those |these )?(?:reports?|claims?|rumou?rs?)"
        r"|rejected (?:the |those )?(?:reports?|claims?)|rejected as (?:fake|false|untrue|nonsense)"
        r"|no such (?:meeting|talks|plan|deal|round|offer|proposal|package)|(?:is|was) (?:a )?myth"
        r"|(?:did|does) not correspond to reality|(?:is|was|are|were) (?:simply )?fake"
        r"|(?:is|was|are|were) (?:simply )?(?:not true|untrue|false|fake)|never "
        r"(?:happened|took place)"
        r"|did not take place|fabricat\w+|no (?:meeting|talks) (?:is|are|was|were|has been|have "
        r"been) "
        r"(?:planned|scheduled|set|agreed)|no (?:date|meeting|round) (?:has|have|had) been "
        r"(?:agreed|set|fixed)"
        r"|no agreed (?:meeting|date|round)|(?:has|had|have) not signed off|wish list|wishful "
        r"thinking",
    ),
    (
        "cancelled",
        r"cancel+ed|called off|call off|scrapped|scrubbed|abandoned|will not (?:take place|go "
        r"ahead)",
    ),
    (
        "struck down",
        r"str(?:uck|ike|ikes|iking) (?:[\w-]+ ){0,2}?down|invalidated|overturned|voided|voids|"
        r"ruled (?:that )?[^.]{0,60}(?:unlawful|illegal|unconstitutional|exceeded)"
        r"|(?:does|did) not authori[sz]e|lacked (?:the )?authority|exceeded (?:his|its|their) "
        r"authority",
    ),
    ("upheld", r"upheld|uph[eo]ld(?:s|ing)?"),
    ("vetoed", r"vetoed"),
    ("signed", r"signed into law"),
    # A committee vote moves a bill on without passing it: "cleared the Senate Finance
    # Committee" is not "cleared the Senate".
    ("passed", r"passed|approved|adopted|cleared the (?:Senate|House)(?!\s+(?:[\w.]+\s+){0,2}[Cc]ommittee)"),
    (
        "advanced",
        r"advanced (?:the|a|it|this|that)|(?:bill|measure|legislation|act) (?:was |has |had )?advanced"
        r"|voted\b[^.;]{0,40}?\bto (?:advance|send|report)"
        r"|clear(?:s|ed)? (?:the )?(?:[\w.]+ ){0,3}[Cc]ommittee"
        r"|ordered (?:[\w.]+ ){0,3}?(?:to be )?reported"
        r"|reported (?:out )?(?:by|of|from) (?:the )?(?:[\w.]+ ){0,3}committee"
        r"|(?:sending|sent|sends) (?:it |the bill |the measure )?to the (?:full )?(?:Senate|House|floor)",
    ),
    (
        "stalled",
        r"stalled|stall(?:s|ing)|stuck|languish\w*|shelved|blocked|held up|"
        r"(?:has|have|had) (?:not|never) (?:yet )?(?:come|been brought|been put) (?:up "
        r")?(?:to|for) a vote"
        r"|no vote",
    ),
    (
        "postponed",
        r"postponed|postpone|delayed|pushed back|push(?:ed)? (?:it )?back|rescheduled|put off"
        r"|deferred|(?:moved|shifted|bumped|pushed) (?:back )?(?:to|until|till)(?= [^.]{0,25}\d)",
    ),
    (
        "held",
        r"held|took place|taking place|takes place|began|begun|opened|started|concluded|ended"
        r"|wrapped up|met|meeting took|convened|got under ?way|under ?way|kicked "
        r"off|resumed|wound up"
        r"|finished|closed",
    ),
    (
        "pending",
        r"pending|(?:has|have) yet to rule|yet to rule|not yet ruled|no ruling|awaiting|awaits"
        r"|heard (?:oral )?arguments?|still not decided|is expected to "
        r"rule|deliberating|weighing|has not ruled",
    ),
    (
        "decided",
        r"ruled|ruling came|decision came|handed down|issued (?:its|a) (?:ruling|decision)",
    ),
    (
        "scheduled",
        r"scheduled|slated|set (?:for|to)|planned|due (?:to|on|in)|expected to (?:meet|take place|"
        r"be held|convene|resume|begin|start)|to be held|will (?:meet|take place|be held|convene|"
        r"resume|begin|start|gather)|upcoming|agreed to meet|plan to meet|is on for|are on for",
    ),
    (
        "proposed",
        r"proposed|propos(?:es|ing)|introduced|unveiled|champion(?:s|ed|ing)?|sponsor(?:s|ed)?"
        r"|co-?sponsor(?:s|ed)?|remains a proposal|would "
        r"(?:impose|allow|authori[sz]e|slap)|offer(?:s|ed|ing)?"
        r"|dangl(?:es|ed|ing)|tempt(?:s|ed|ing)|pitch(?:es|ed|ing)",
    ),
    ("stated", r"said|says|described|called|expressed|told|stated|noted|voiced|welcomed|hailed"),
)
_STATUS_RE = tuple(
    (name, re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.IGNORECASE))
    for name, pattern in _STATUS_PATTERNS
)
_NEGATION = re.compile(
    r"\b(?:not|never|no|without|neither|nor|hasn't|haven't|hadn't|didn't|doesn't|don't|won't|wasn't"
    r"|weren't|isn't|aren't|cannot|can't|n't)\b(?:\s+\w+){0,2}\s*$",
    re.IGNORECASE,
)


def negated_before(text: str) -> bool:
    """Whether text ends in a negation of what follows it ("was not", "never quite")."""
    return bool(_NEGATION.search(text))


_FUTURE_BEFORE = re.compile(
    r"\b(?:will|would|shall|to be|to|expected to|set to|due "
    r"to|could|may|might)\b(?:\s+\w+){0,2}\s*$"
    # "as the talks get under way": a clause of expectation, not a report
    r"|\b(?:as|once|until|when|before)\s+(?:the\s+)?\w+\s+gets?\s*$",
    re.IGNORECASE,
)
# Statuses whose own word already fixes the tense: "scheduled" is about the future by meaning.
_SELF_TIMED = {"scheduled": "future", "pending": "present", "denied": "past", "stated": "past"}
_STATUS_RANK = {name: i for i, (name, _) in enumerate(_STATUS_PATTERNS)}


def _status_fact(name: str, m: re.Match[str], sentence: str) -> Fact:
    before = sentence[max(0, m.start() - 30) : m.start()]
    negated = bool(_NEGATION.search(before)) and name not in ("pending", "denied", "stalled")
    tense: Tense = "future" if _FUTURE_BEFORE.search(before) else "past"
    tense = _SELF_TIMED.get(name, tense)  # type: ignore[assignment]
    if name == "held" and tense == "future":
        name = "scheduled"  # "will be held" announces, it does not report
    if name == "advanced" and tense == "future":
        name = "proposed"  # "expected to clear the committee": still a proposal
    return Fact("status", name, m.group(0), m.start(), negated=negated, tense=tense)


def statuses(sentence: str) -> tuple[Fact, ...]:
    """Status words with tense and negation, canonical names, most decisive first."""
    found: list[Fact] = []
    taken: list[tuple[int, int]] = []
    for name, pattern in _STATUS_RE:
        for m in pattern.finditer(sentence):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append(_status_fact(name, m, sentence))
    return tuple(sorted(found, key=lambda f: (_STATUS_RANK[f.value], f.start)))


_STATUS_ALIASES = {
    "set": "scheduled",
    "planned": "scheduled",
    "slated": "scheduled",
    "expected": "scheduled",
    "delayed": "postponed",
    "moved": "postponed",
    "rescheduled": "postponed",
    "canceled": "cancelled",
    "called off": "cancelled",
    "took place": "held",
    "concluded": "held",
    "introduced": "proposed",
    "approved": "passed",
    "advanced in committee": "advanced",
    "reported by committee": "advanced",
    "ruled": "decided",
    "invalidated": "struck down",
}


def canonical_status(word: str) -> str:
    """Map a status word ("set", "called off", "Canceled") to the STATUSES vocabulary."""
    w = word.strip().lower()
    if w in STATUSES:
        return w
    if w in _STATUS_ALIASES:
        return _STATUS_ALIASES[w]
    for name, pattern in _STATUS_RE:
        if pattern.fullmatch(w):
            return name
    return w


# ---------------------------------------------------------------- outcomes

_EXCHANGE = re.compile(
    r"(?:prisoner|POW|captive|detainee|prisoners of "
    r"war)s?\W+(?:\w+\W+){0,3}?(?:exchange|swap|release|handover)"
    r"|(?:exchange|swap|release|swapped|exchanged|released|free|freed|return|returned)\W+(?:\w+\W+){0,4}?"
    r"(?:prisoners|POWs|captives|detainees|servicemen|soldiers)",
    re.IGNORECASE,
)
_PEOPLE = r"(?:prisoners of war|prisoners|POWs|captives|detainees|servicemen|soldiers|people|troops)"
_EACH = re.compile(
    rf"\b(\d{{1,4}})\s+(?:{_PEOPLE}\s+)?(?:each|(?:from|on|per) (?:each|either) side|apiece)\b"
    rf"|\beach\b[^.]{{0,40}}?\b(\d{{1,4}})\b"
    rf"|\b(\d{{1,4}})(?:-| )for(?:-| )(\d{{1,4}})\b",
    re.IGNORECASE,
)
_TOTAL = re.compile(
    rf"\b(\d{{1,4}})(?:-person|-strong)?\s+(?:\w+\s+)?{_PEOPLE}\b|\b(?:exchange|swap|release) "
    rf"of (\d{{1,4}})\b",
    re.IGNORECASE,
)
_TALLY = re.compile(r"(?<![\d/–-])\b([1-9])\s*(?:-|–|—|to)\s*([0-9])\b(?![\d/–-])")
_COURT = re.compile(r"\b(?:rul\w+|decision|vote[ds]?|majority|justices|opinion|court)\b", re.IGNORECASE)


# Near-agreement on a mechanism: "almost agreed on how a ceasefire would be monitored".
_NEAR_AGREED = re.compile(
    r"\b(?:nearly|almost|close to|closer to) (?:an )?agree\w*\b[^.;]{0,80}?\bmonitor\w*"
    r"|\bmonitor\w*[^.;]{0,60}?\b(?:nearly|almost) agreed\b",
    re.IGNORECASE,
)
# A truce or pause that has ended: "the pause in strikes is over", "ending a brief truce".
_TRUCE = r"(?:truce|pause|moratorium|ceasefire|cease-fire|halt)"
_TRUCE_ENDED = re.compile(
    rf"\b{_TRUCE}\b[^.;]{{0,70}}?\b(?:is|was) over\b|\b{_TRUCE}\b[^.;]{{0,40}}?\b(?:has |had )?"
    rf"(?:ended|collapsed|expired|broke down|broken down|lapsed)\b"
    rf"|\bend(?:ed|ing|s)? (?:the |a |its |their )?(?:\w+ ){{0,2}}{_TRUCE}\b",
    re.IGNORECASE,
)


_NOT_IN = re.compile(r"\b(?:not|never|n't|no longer)\b", re.IGNORECASE)


def outcomes(sentence: str) -> tuple[Fact, ...]:
    """Outcomes an event produced: a prisoner exchange with its numbers, a court's vote tally,
    a mechanism nearly agreed, a truce that ended."""
    found: list[Fact] = []
    m = _EXCHANGE.search(sentence)
    if m:
        found.append(Fact("outcome", "prisoner exchange", m.group(0), m.start()))
        found.extend(_prisoner_numbers(sentence))
    m = _NEAR_AGREED.search(sentence)
    if m:
        found.append(Fact("outcome", "ceasefire monitoring nearly agreed", m.group(0), m.start()))
    m = _TRUCE_ENDED.search(sentence)
    negated = m is not None and (
        bool(_NEGATION.search(sentence[max(0, m.start() - 30) : m.start()]))
        or bool(_NOT_IN.search(m.group(0)))
    )
    if m and not negated:
        what = "energy-strike pause ended" if re.search(r"\benerg", sentence, re.I) else "truce ended"
        found.append(Fact("outcome", what, m.group(0), m.start()))
    found.extend(_tally(sentence))
    return tuple(found)


# ---------------------------------------------------------------- stances

# A speaker's stance on a process, as short tags. Statements ("cautious optimism") are claims
# about a stance, so a changed stance is what updates them. Order: first match wins.
_STANCES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "skeptical",
        re.compile(
            r"\b(?:no illusions|(?:do|does|did) not believe|don't believe|doesn't believe"
            r"|sceptical|skeptical|no reason for optimism|not optimistic|far from (?:sounding )?optimistic"
            r"|cannot be trusted|can't be trusted|not negotiating in good faith)\b",
            re.I,
        ),
    ),
    (
        "difficult",
        re.compile(r"\b(?:difficult|tense|tough|hard going|drag(?:ging)? (?:out|its feet)|stalling)\b", re.I),
    ),
    (
        "hardened",
        re.compile(
            r"\b(?:hardened|harder line|tougher|(?:be|been|being) adjusted|adjust(?:ed|ing)? "
            r"(?:its|their|the) (?:work|approach|position)|cooler|accused (?:Moscow|Russia|the Kremlin))\b",
            re.I,
        ),
    ),
    (
        "optimistic",
        re.compile(
            r"\b(?:cautious(?:ly)? optimis\w*|optimis\w*|hopeful|step forward|constructive"
            r"|encouraged|positive step|right direction)\b",
            re.I,
        ),
    ),
)


def stances(sentence: str) -> tuple[Fact, ...]:
    """The stance a sentence expresses, if any: optimistic, difficult, hardened, skeptical."""
    for tag, pattern in _STANCES:
        m = pattern.search(sentence)
        if m:
            return (Fact("stance", tag, m.group(0), m.start()),)
    return ()


def _prisoner_numbers(sentence: str) -> Iterator[Fact]:
    """One "prisoners" fact: "157 each (314 total)" for an equal swap, else the total."""
    each = _EACH.search(sentence)
    if each:
        a, b, c, d = each.groups()
        if not (c and d and c != d):  # "5-for-1" is not an equal swap
            n = int(a or b or c)
            yield Fact("prisoners", f"{n} each ({2 * n} total)", each.group(0), each.start())
            return
    total = _TOTAL.search(sentence)
    if total:
        yield Fact("prisoners", total.group(1) or total.group(2), total.group(0), total.start())


def prisoner_counts(value: str) -> tuple[int | None, int | None]:
    """(each, total) read back from a "prisoners" value such as "157 each (314 total)" or "314"."""
    each = re.search(r"(\d+)\s*each", value)
    total = re.search(r"(\d+)\s*total", value) or (None if each else re.search(r"\d+", value))
    n_each = int(each.group(1)) if each else None
    n_total = int(total.group(1) if total.groups() else total.group(0)) if total else None
    return n_each, n_total if n_total is not None else (2 * n_each if n_each else None)


_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_WORD_TALLY = re.compile(
    rf"\b({'|'.join(_NUMBER_WORDS)})(?: votes?)?(?:-| )to(?:-| )({'|'.join(_NUMBER_WORDS)})\b", re.I
)


def _tally(sentence: str) -> Iterator[Fact]:
    if not _COURT.search(sentence):
        return
    for m in _WORD_TALLY.finditer(sentence):
        a, b = _NUMBER_WORDS.index(m.group(1).lower()), _NUMBER_WORDS.index(m.group(2).lower())
        if a + b <= 9 and a > b:
            yield Fact("vote", f"{a}-{b}", m.group(0), m.start())
    masked = _ISO.sub(" ", sentence)
    for m in _TALLY.finditer(masked):
        a, b = int(m.group(1)), int(m.group(2))
        around = masked[max(0, m.start() - 12) : m.end() + 12]
        if a + b <= 9 and a > b and not re.search(_MON, around):
            yield Fact("vote", f"{a}-{b}", m.group(0), m.start())


# ---------------------------------------------------------------- all together


def extract(sentence: str, published_at: datetime | date | None = None) -> tuple[Fact, ...]:
    """Every fact in one sentence, ordered by kind then position."""
    return (
        dates(sentence, published_at)
        + quantities(sentence)
        + places(sentence)
        + parties(sentence)
        + statuses(sentence)
        + outcomes(sentence)
    )
