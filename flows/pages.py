"""Fetch one page under every guard -> FetchedPage with decoded HTML, or the reason it is unusable."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from flows.http import Fetched, fetch
from flows.settings import FetchLimits

HTML_TYPES = ("text/html", "application/xhtml+xml")
META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([a-zA-Z0-9_\-:.]+)", re.IGNORECASE)
META_REFRESH = re.compile(
    rb"<meta[^>]+http-equiv\s*=\s*[\"']?refresh[\"']?[^>]*content\s*=\s*[\"']?\s*\d*\s*;\s*url\s*=\s*([^\"'>\s]+)",
    re.IGNORECASE,
)
MAX_META_REFRESH = 2


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A page ready for extraction, or why it is not."""

    requested_url: str
    url: str  # after redirects
    html: str = ""
    error: str | None = None
    soft: bool = False
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _charset(content_type: str, body: bytes) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip("\"' ").lower()
    found = META_CHARSET.search(body[:4096])
    return found.group(1).decode("ascii", "ignore").lower() if found else None


def decode(body: bytes, content_type: str) -> str:
    """Decode with the declared charset when it works, else UTF-8, replacing what is invalid."""
    declared = _charset(content_type, body)
    for encoding in filter(None, (declared, "utf-8")):
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


def _is_html(fetched: Fetched) -> bool:
    content_type = fetched.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in HTML_TYPES:
        return True
    # Servers that send no type at all: sniff the first bytes, as browsers do.
    return not content_type and fetched.body[:512].lstrip().lower().startswith((b"<!doctype html", b"<html"))


def _refresh_target(fetched: Fetched) -> str | None:
    found = META_REFRESH.search(fetched.body[:8192])
    if not found:
        return None
    return urljoin(fetched.url, found.group(1).decode("ascii", "ignore"))


def get(client: httpx.Client, url: str, limits: FetchLimits) -> FetchedPage:
    """Fetch a page, following at most two meta-refresh redirects, and decode it."""
    current = url
    for _ in range(MAX_META_REFRESH + 1):
        fetched = fetch(
            client,
            current,
            max_bytes=limits.max_page_bytes,
            deadline_s=limits.page_deadline_s,
            max_redirects=limits.max_redirects,
        )
        if fetched.error:
            return FetchedPage(url, fetched.url, error=fetched.error, soft=fetched.soft,
                               retry_after_s=fetched.retry_after_s)
        if not fetched.body.strip():
            return FetchedPage(url, fetched.url, error="empty page", soft=True)
        if not _is_html(fetched):
            kind = fetched.headers.get("content-type", "unknown type").split(";")[0]
            return FetchedPage(url, fetched.url, error=f"not an HTML page ({kind})")
        target = _refresh_target(fetched)
        if target is None or target == fetched.url:
            content_type = fetched.headers.get("content-type", "")
            return FetchedPage(url, fetched.url, html=decode(fetched.body, content_type))
        current = target
    return FetchedPage(url, current, error="too many meta-refresh redirects")
