"""Canonical URLs: one article, one key, however a feed or a share button spells its link."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that only say how a reader arrived; dropping them never changes the page.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid",
        "ocid", "cmpid", "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname",
        "ns_fee", "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3",
        "at_custom4", "ito", "smid", "smtyp", "ref_src",
        "taid", "mbid", "guccounter", "guce_referrer", "guce_referrer_sig", "__twitter_impression",
        "_ga", "_gl", "s_cid", "wt.mc_id",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "at_")
DEFAULT_PORTS = {"http": 80, "https": 443}
# scheme://user:password@ -- up to the last "@" before the path (a password may hold "@" too).
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")


def without_userinfo(url: str) -> str:
    """The URL as it may be printed, logged or published: no `user:password@`.

    Feeds behind basic auth are configured as https://user:secret@host/feed.xml; the secret
    is needed to fetch, never to show. Works on any text that starts like a URL, parseable or
    not, so an error about a malformed URL cannot leak its password either.
    """
    return _USERINFO.sub(r"\1", url)


def credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """(the URL without user-info, (user, password) or None): what to request and how to log in."""
    bare = without_userinfo(url)
    if bare == url:
        return url, None
    try:
        parts = urlsplit(url)
    except ValueError:  # unparseable: fetching it fails and says so, with no login to send
        return bare, None
    return bare, (unquote(parts.username or ""), unquote(parts.password or ""))


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonicalize(url: str) -> str:
    """Lowercase scheme and host, drop default ports, fragments and tracking parameters."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    # No user-info: it is no part of an article's identity, and URLs are shown everywhere.
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def resolve_canonical(fetched_url: str, declared: str | None) -> str:
    """Prefer the page's <link rel=canonical> when it stays on the same site; else the fetched URL."""
    fetched = canonicalize(fetched_url)
    if not declared:
        return fetched
    candidate = urlsplit(declared.strip())
    if candidate.scheme not in ("http", "https") or not candidate.hostname:
        return fetched
    if _site(candidate.hostname) != _site(urlsplit(fetched).hostname or ""):
        # A canonical on another site is the syndication partner's; the duplicate detector,
        # not the URL key, is what folds those together.
        return fetched
    return canonicalize(declared)


def _site(host: str) -> str:
    labels = host.lower().removeprefix("www.").removeprefix("amp.").removeprefix("m.").split(".")
    return ".".join(labels[-2:])
