"""Fetch one page under every guard -> FetchedPage with its HTML, or the reason it is unusable."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urljoin

from claimwatch.flows.fetch.charsets import decode
from claimwatch.flows.fetch.http import Client, Fetched, fetch
from claimwatch.flows.seeds import check_url
from claimwatch.flows.settings import FetchLimits

HTML_TYPES = ("text/html", "application/xhtml+xml")
META_TAG = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)
REFRESH = re.compile(rb"http-equiv\s*=\s*[\"']?refresh\b", re.IGNORECASE)
REFRESH_CONTENT = re.compile(
    rb"content\s*=\s*[\"']\s*(\d+)(?:\.\d*)?\s*[;,]\s*(?:url\s*=\s*)?[\"']?([^\"'>\s]+)",
    re.IGNORECASE,
)
# A refresh inside a comment (IE conditional comments) or <noscript> is not for us: CNN's
# article pages send old IE to an "unsupported browser" page that way.
HIDDEN = re.compile(rb"<!--.*?-->|<noscript\b.*?</noscript\s*>", re.IGNORECASE | re.DOTALL)
MAX_META_REFRESH = 2
MAX_REFRESH_DELAY_S = 5  # a longer delay is a page that reloads itself, not a redirect
# What a page that is not a page starts with, whatever its Content-Type claims.
NOT_HTML_MAGIC = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
    b"PK\x03\x04": "application/zip",
}


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A page ready for extraction, or why it is not."""

    requested_url: str
    url: str  # after redirects
    # As served: decoded where it is extracted (a worker process), not in the fetching one.
    body: bytes = b""
    content_type: str = ""
    error: str | None = None
    soft: bool = False
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def html(self) -> str:
        return decode(self.body, self.content_type)


def _binary_kind(body: bytes) -> str | None:
    head = body[:16]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in NOT_HTML_MAGIC.items() if head.startswith(magic)), None)


def _is_html(fetched: Fetched) -> bool:
    content_type = fetched.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in HTML_TYPES:
        return True
    # Servers that send no type at all: sniff the first bytes, as browsers do.
    return not content_type and fetched.body[:512].lstrip().lower().startswith((b"<!doctype html", b"<html"))


def _refresh_target(fetched: Fetched) -> str | None:
    """Where a <meta http-equiv=refresh> with a short delay sends the reader, if anywhere."""
    head = HIDDEN.sub(b"", fetched.body[:65536])
    for tag in META_TAG.findall(head):
        found = REFRESH_CONTENT.search(tag) if REFRESH.search(tag) else None
        if found and int(found.group(1)) <= MAX_REFRESH_DELAY_S:
            target = urljoin(fetched.url, found.group(2).decode("ascii", "ignore"))
            return None if check_url(target) else target  # javascript: and the like: stay
    return None


def get(client: Client, url: str, limits: FetchLimits) -> FetchedPage:
    """Fetch a page, following at most two meta-refresh redirects."""
    current = url
    deadline = time.monotonic() + limits.page_deadline_s  # one deadline for every hop
    for _ in range(MAX_META_REFRESH + 1):
        if time.monotonic() >= deadline:
            return FetchedPage(url, current, error="timed out", soft=True)
        fetched = fetch(
            client,
            current,
            max_bytes=limits.max_page_bytes,
            deadline_s=deadline - time.monotonic(),
            max_redirects=limits.max_redirects,
        )
        if fetched.error:
            return FetchedPage(url, fetched.url, error=fetched.error, soft=fetched.soft,
                               retry_after_s=fetched.retry_after_s)
        if not fetched.body.strip():
            return FetchedPage(url, fetched.url, error="empty page", soft=True)
        binary = _binary_kind(fetched.body)
        if binary or not _is_html(fetched):
            kind = binary or fetched.headers.get("content-type", "unknown type").split(";")[0]
            return FetchedPage(url, fetched.url, error=f"not an HTML page ({kind})")
        target = _refresh_target(fetched)
        if target is None or target == fetched.url:
            return FetchedPage(url, fetched.url, body=fetched.body,
                               content_type=fetched.headers.get("content-type", ""))
        current = target
    return FetchedPage(url, current, error="too many meta-refresh redirects")
