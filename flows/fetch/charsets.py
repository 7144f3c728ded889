"""A fetched page's bytes -> text, the way a browser decodes it (pure; no network, no HTML parser).

The order is the WHATWG Encoding standard's: a byte-order mark wins over everything; then the
Content-Type header's charset; then a `<meta>` declaration near the top; an undeclared page is
UTF-8 when it is valid UTF-8, else its encoding is detected (charset_normalizer). Labels mean
what browsers take them to mean: `iso-8859-1`, `latin1` and `ascii` are windows-1252 (a page
labelled so writes curly quotes as 0x93/0x94), `gb2312` is GB18030, `shift_jis` is windows-31J.
One departure, for a common server misconfiguration: a windows-1252 label on a body that is
valid UTF-8 with multi-byte characters is read as UTF-8 (windows-1252 text is almost never
valid UTF-8 once it holds a non-ASCII character; a default `charset=ISO-8859-1` header on a UTF-8
page is common).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

from charset_normalizer import from_bytes

META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([a-zA-Z0-9_\-:.]+)", re.IGNORECASE)
META_SCAN_BYTES = 4096  # WHATWG prescans 1024 bytes; pages with long heads declare later
DETECT_BYTES = 200_000  # enough text to recognise a language; detection time grows with it
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"))
FALLBACK = "windows-1252"  # WHATWG's default for a page that says nothing and is not UTF-8


def _labels(encoding: str, *labels: str) -> dict[str, str]:
    return dict.fromkeys(labels, encoding)


# WHATWG labels whose meaning differs from Python's codec of the same name (or that Python does
# not know); any other label is looked up in Python's codecs.
WHATWG: Mapping[str, str] = {
    **_labels("windows-1252", "ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1",
              "ibm819", "iso-8859-1", "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1",
              "iso_8859-1:1987", "l1", "latin1", "us-ascii", "windows-1252", "x-cp1252"),
    **_labels("cp1254", "cp1254", "csisolatin5", "iso-8859-9", "iso-ir-148", "iso8859-9",
              "iso88599", "iso_8859-9", "iso_8859-9:1989", "l5", "latin5", "windows-1254",
              "x-cp1254"),
    **_labels("cp874", "dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620",
              "windows-874"),
    **_labels("gb18030", "chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312",
              "gb_2312-80", "gbk", "iso-ir-58", "x-gbk", "gb18030"),
    **_labels("cp949", "cseuckr", "csksc56011987", "euc-kr", "iso-ir-149", "korean",
              "ks_c_5601-1987", "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949"),
    **_labels("cp932", "csshiftjis", "ms932", "ms_kanji", "shift-jis", "shift_jis", "sjis",
              "windows-31j", "x-sjis"),
    **_labels("big5hkscs", "big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"),
    **_labels("iso-8859-8", "csiso88598i", "iso-8859-8-i", "logical"),
    **_labels("koi8-u", "koi8-ru", "koi8-u"),
    **_labels("mac-cyrillic", "x-mac-cyrillic", "x-mac-ukrainian"),
    **_labels("mac-roman", "csmacintosh", "mac", "macintosh", "x-mac-roman"),
    **_labels("utf-16-le", "csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff",
              "utf-16", "utf-16le"),
    **_labels("utf-16-be", "unicodefffe", "utf-16be"),
}
# windows-1252 as browsers decode it: the five bytes Python's cp1252 leaves undefined (0x81,
# 0x8D, 0x8F, 0x90, 0x9D) are the C1 controls of the same number, so every byte decodes.
WINDOWS_1252 = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256))


# The other encodings of the WHATWG standard, by their Python codec names: a label Python
# resolves to one of these is taken (Python knows more labels for them than browsers do); a
# label for anything else (utf-7, EBCDIC, base64) is ignored, as browsers ignore it.
WHATWG_ENCODINGS = frozenset(codecs.lookup(name).name for name in (
    "utf-8", "ibm866", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5", "iso-8859-6",
    "iso-8859-7", "iso-8859-8", "iso-8859-10", "iso-8859-13", "iso-8859-14", "iso-8859-15",
    "iso-8859-16", "koi8-r", "koi8-u", "mac-roman", "mac-cyrillic", "cp874", "cp1250", "cp1251",
    "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "gb18030",
    "big5hkscs", "euc-jp", "iso-2022-jp", "cp932", "cp949", "utf-16-le", "utf-16-be"))


def label(name: str | None) -> str | None:
    """The encoding a charset label names, as browsers read it; None for an unknown label."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    if name in WHATWG:
        return WHATWG[name]
    try:
        found = codecs.lookup(name).name
    except LookupError:
        return None
    if found not in WHATWG_ENCODINGS:
        return None
    return "windows-1252" if found == "cp1252" else found  # browsers' windows-1252, not Python's


def header_charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset" and value:
            return value.strip("\"' ").lower()
    return None


def meta_charset(body: bytes) -> str | None:
    found = META_CHARSET.search(body[:META_SCAN_BYTES])
    return found.group(1).decode("ascii", "ignore").lower() if found else None


def _bom(body: bytes) -> tuple[str | None, bytes]:
    for mark, encoding in BOMS:
        if body.startswith(mark):
            return encoding, body[len(mark):]
    return None, body


def _utf8(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def detect(body: bytes) -> str:
    """The encoding of undeclared text that is not UTF-8 (windows-1251 Cyrillic, say)."""
    best = from_bytes(body[:DETECT_BYTES]).best()
    found = label(best.encoding) if best is not None else None
    return found or FALLBACK


def _encoding(body: bytes, content_type: str) -> str:
    """The encoding of a body without its byte-order mark."""
    declared = label(header_charset(content_type))
    if declared is None:
        declared = label(meta_charset(body))
        if declared in ("utf-16-le", "utf-16-be"):  # WHATWG: a <meta> cannot mean UTF-16
            declared = "utf-8"
    if declared == "windows-1252" and not body.isascii() and _utf8(body) is not None:
        return "utf-8"  # a server's default latin-1 label on a UTF-8 page
    if declared:
        return declared
    return "utf-8" if _utf8(body) is not None else detect(body)


def encoding(body: bytes, content_type: str) -> str:
    """The encoding a browser would decode this page with (see the module's docstring)."""
    found, rest = _bom(body)
    return found or _encoding(rest, content_type)


def decode(body: bytes, content_type: str) -> str:
    """The page's text: what cannot be decoded is replaced (U+FFFD), as browsers do.

    NUL characters are dropped: PostgreSQL text columns refuse them.
    """
    found, body = _bom(body)
    name = found or _encoding(body, content_type)
    if name == "windows-1252":
        text = codecs.charmap_decode(body, "strict", WINDOWS_1252)[0]
    else:
        text = body.decode(name, errors="replace")
    return text.replace("\x00", "")
