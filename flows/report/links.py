"""Links into the report and out of it: a claim's anchor and URL, and which URLs may be links."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from claimwatch.flows import settings


def claim_anchor(claim_id: str) -> str:
    """The id of a claim's section in the report, e.g. "claim-abu-dhabi-talks"."""
    return "claim-" + re.sub(r"[^A-Za-z0-9_-]", lambda m: f".{ord(m.group()):x}", claim_id)


def claim_url(claim_id: str, report_url: str | None = None) -> str | None:
    """Link to a claim's section in the report at `report_url` or $CLAIMWATCH_REPORT_URL."""
    base = report_url or settings.report_url()
    if not base:
        return None
    return f"{base.split('#', 1)[0]}#{claim_anchor(claim_id)}"


def safe_href(url: str | None) -> str | None:
    """The URL if it may be a link (http or https with a host), else None: no javascript:."""
    if not url or any(c in url for c in "\r\n\t\x00"):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in {"http", "https"} and parts.netloc else None
