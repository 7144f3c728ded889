"""Canonical URLs: one article, one key, however a feed or a share button spells its link."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonicalize(url: str) -> str:
    """Lowercase scheme and host, drop default ports, fragments and tracking parameters."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
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
