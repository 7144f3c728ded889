"""Feed bytes -> ParsedItem values (feedparser lives here only; never give it a URL or a str)."""

from __future__ import annotations

import calendar
import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import feedparser

from claimwatch.flows.seeds import check_url

# Above this share of empty or repeated GUIDs the feed's GUIDs are not identities (FreshRSS: 5 %).
WEAK_GUID_SHARE = 0.05


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One usable feed entry."""

    key: str  # durable identity within the source: GUID, else URL, else title+content hash
    url: str
    title: str
    published_at: datetime | None
    revision: str  # changes when the publisher edits the entry (dates, title, summary)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a feed document yielded, with what was odd about it."""

    items: tuple[ParsedItem, ...]
    warning: str | None = None  # feedparser's bozo message when entries were still usable
    error: str | None = None  # set when the document is not a usable feed at all
    skipped: int = 0  # entries dropped: unusable links, or over the per-poll cap
    capped: bool = False
    title: str = ""  # the feed's own title (`sources add` names a source after it)


def _own(entry: Any, name: str, default: Any = None) -> Any:
    """The entry's own field, without feedparser's deprecated stand-in: reading `updated` or
    `updated_parsed` of an entry that has none returns its `published` one and warns (the
    stand-in "will be removed in a future version of feedparser")."""
    return dict.get(entry, name, default)


def _when(entry: Any, now: datetime) -> datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = _own(entry, name)
        if parsed:
            moment = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            # A date far in the future is a publisher's mistake; treat it as unknown.
            return None if moment > now + timedelta(days=1) else moment
    return None


def _link(entry: Any, base: str) -> str | None:
    link = entry.get("link") or ""
    if not link:
        for candidate in entry.get("links", []):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    if not link:
        return None
    absolute = urljoin(base, link.strip())
    return None if check_url(absolute) else absolute


def _revision(entry: Any) -> str:
    # `updated` stands in for itself, else for `published`, as feedparser's deprecated fallback
    # had it when every stored revision was made: spelled out, no revision changes (a changed
    # revision re-reads the entry's page) when feedparser drops the fallback.
    updated = _own(entry, "updated", _own(entry, "published", ""))
    parts = [str(entry.get("title", "")), str(updated), str(entry.get("published", "")),
             str(entry.get("summary", "")), str(entry.get("link", ""))]
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


def _weak_guids(entries: list[Any]) -> bool:
    guids = [str(e.get("id") or "") for e in entries]
    bad = sum(1 for g in guids if not g) + (len(guids) - len(set(guids)))
    return bool(guids) and bad / len(guids) > WEAK_GUID_SHARE


def _key(entry: Any, url: str, weak: bool) -> str:
    guid = str(entry.get("id") or "").strip()
    if guid and not weak:
        return f"guid:{guid}"
    if url:
        return f"url:{url}"
    text = f"{entry.get('title', '')}\x1f{entry.get('summary', '')}"
    return "hash:" + hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def parse(data: bytes, base_url: str, max_items: int, now: datetime) -> ParsedFeed:
    """Parse a fetched feed body; a bozo warning with usable entries is not a failure."""
    # A file object, never bytes or str: feedparser.parse tries open() on a bytes argument
    # first, so a body reading "/etc/passwd" or "/dev/zero" would be a local file read.
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
    entries = list(parsed.entries)
    # Broken with nothing usable (a truncated document, an HTML page) is a failure; broken
    # with entries is a warning; well-formed and empty is a quiet feed.
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no feed found in the document"
        return ParsedFeed((), error=f"not a feed: {str(reason)[:200]}")
    warning = str(parsed.get("bozo_exception"))[:300] if parsed.get("bozo") else None
    weak = _weak_guids(entries)
    items: list[ParsedItem] = []
    seen: set[str] = set()
    skipped = 0
    for entry in entries:
        url = _link(entry, base_url)
        if url is None:
            skipped += 1
            continue
        key = _key(entry, url, weak)
        if key in seen:
            continue
        seen.add(key)
        items.append(
            ParsedItem(
                key=key,
                url=url,
                title=str(entry.get("title", "")).replace("\x00", "").strip()[:500],
                published_at=_when(entry, now),
                revision=_revision(entry),
            )
        )
    capped = len(items) > max_items
    if capped:
        skipped += len(items) - max_items
        items = items[:max_items]
    title = " ".join(str(parsed.feed.get("title", "")).replace("\x00", "").split())[:200]
    return ParsedFeed(tuple(items), warning=warning, skipped=skipped, capped=capped, title=title)
