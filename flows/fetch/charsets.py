"""A fetched page's bytes -> text, in the charset it declares (pure; no network, no HTML parser)."""

from __future__ import annotations

import re

META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([a-zA-Z0-9_\-:.]+)", re.IGNORECASE)


def _charset(content_type: str, body: bytes) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip("\"' ").lower()
    found = META_CHARSET.search(body[:4096])
    return found.group(1).decode("ascii", "ignore").lower() if found else None


def decode(body: bytes, content_type: str) -> str:
    """Decode with the declared charset when it works, else UTF-8, replacing what is invalid.

    NUL characters are dropped: PostgreSQL text columns refuse them.
    """
    declared = _charset(content_type, body)
    for encoding in filter(None, (declared, "utf-8")):
        try:
            return body.decode(encoding).replace("\x00", "")
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace").replace("\x00", "")
