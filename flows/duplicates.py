"""Near-duplicate articles and unchanged text (pure).

A 64-bit SimHash over word 3-shingles (Charikar 2002; Manku et al., "Detecting near-duplicates
for web crawling", WWW 2007, which uses 64 bits and a Hamming distance of 3 over billions of
pages). Our pool is tiny and the copies we care about are syndicated bodies with a dateline, a
byline or an "Advertisement" line more or less, so we allow a wider distance (MAX_DISTANCE).
The hash is blake2b, not hash(): Python salts str hashes per process, and fingerprints are stored.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_DISTANCE = 10  # bits out of 64; unrelated texts sit near 32, copies under ~6
_SHINGLE = 3

# Lines that carry no article text: page furniture that survives some extractions.
_FURNITURE = re.compile(
    r"^(?:advertisement|advert|sponsored|read more:?.*|related:?.*|share( this)?( article)?|"
    r"sign up.*|subscribe.*|click here.*|follow us.*|copyright.*|©.*|all rights reserved.*|"
    r"this (?:article|story) (?:was|has been) (?:updated|amended|corrected).*|"
    r"(?:reporting|editing|additional reporting) by .*|image:? .*|photo:? .*|getty images|"
    r"listen to this article.*|\d+ min read)$",
    re.IGNORECASE,
)
# A wire dateline ("KYIV, Feb 5 (Reuters) -") is syndication packaging, not text.
_DATELINE = re.compile(r"^[A-Z][A-Z .,'-]{2,40},?\s+[A-Z][a-z]{2,8}\.? \d{1,2} \([^)]{2,30}\)\s*[-–—]\s*")
_TRANSLATE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})
_TOKEN = re.compile(r"[a-z0-9]+(?:['.-][a-z0-9]+)*")


def normalize_text(text: str) -> str:
    """Text as compared between versions: no furniture lines, unified quotes/dashes/space/case."""
    lines = []
    for raw in unicodedata.normalize("NFKC", text).translate(_TRANSLATE).splitlines():
        line = _DATELINE.sub("", raw.strip())
        if line and not _FURNITURE.match(line):
            lines.append(" ".join(line.split()))
    return "\n".join(lines).lower()


def _shingles(text: str) -> list[str]:
    tokens = _TOKEN.findall(normalize_text(text))
    if len(tokens) < _SHINGLE:
        return [" ".join(tokens)] if tokens else []
    return [" ".join(tokens[i : i + _SHINGLE]) for i in range(len(tokens) - _SHINGLE + 1)]


def _hash64(shingle: str) -> int:
    return int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")


def fingerprint(text: str) -> int:
    """64-bit SimHash of the text as a signed int64 (fits SQLite and PostgreSQL BIGINT)."""
    counts = [0] * 64
    for shingle in _shingles(text):
        h = _hash64(shingle)
        for bit in range(64):
            counts[bit] += 1 if h >> bit & 1 else -1
    unsigned = sum(1 << bit for bit in range(64) if counts[bit] > 0)
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned


def distance(a: int, b: int) -> int:
    """Hamming distance between two fingerprints (signed or unsigned, same 64 bits)."""
    return ((a ^ b) & 0xFFFF_FFFF_FFFF_FFFF).bit_count()


def near_duplicate(a: int, b: int) -> bool:
    """True when two fingerprints come from the same body (syndicated copy, AMP page, new "
    "headline)."""
    return distance(a, b) <= MAX_DISTANCE


def changed(old_text: str, new_text: str) -> bool:
    """True when the article text itself changed, not just whitespace, quotes or page furniture."""
    return normalize_text(old_text) != normalize_text(new_text)
