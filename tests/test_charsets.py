"""Pages decoded as browsers decode them (flows/fetch/charsets.py), from real bytes.

The bytes are made with Python's own codecs from text written here, so each test states the text a
reader sees and the bytes a server sends; the HTTP tests serve them from 127.0.0.1.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator

import httpx
import pytest

from claimwatch.flows.extract import articles
from claimwatch.flows.fetch import charsets, pages
from claimwatch.flows.fetch.http import make_client
from claimwatch.flows.settings import FetchLimits
from tests import faultserver as fs

QUOTED = "“A follow-up meeting is set for February 4–5,” the envoy said — “in Abu Dhabi.”"
CYRILLIC = (
    "Переговоры в Абу-Даби завершились в пятницу вечером. Делегации России, Украины и США "
    "договорились продолжить встречи в феврале, сообщили источники, знакомые с ходом обсуждения. "
    "По словам участников, стороны обсудили обмен пленными, мониторинг прекращения огня и "
    "гуманитарные коридоры. Следующий раунд, как ожидается, пройдёт четвёртого и пятого "
    "февраля в столице Эмиратов. Представитель Белого дома назвал встречу «конструктивной», "
    "однако подчеркнул, что до соглашения ещё далеко.")


BESIDE = ("Officials from the three delegations met for two days at a hotel near the airport. "
          "Both sides exchanged lists of prisoners, and the mediators said a second round would "
          "follow once the lists had been checked by the Red Cross.")


def _page(text: str, head: str = "") -> str:
    return (f"<html><head>{head}<title>Talks</title></head><body><h1>Talks in Abu Dhabi</h1>"
            f"<p>{text}</p><p>{BESIDE}</p></body></html>")


@pytest.mark.parametrize("label", ["iso-8859-1", "ISO-8859-1", "latin1", "ascii", "us-ascii",
                                   "windows-1252"])
def test_a_latin1_label_is_read_as_windows_1252(label: str) -> None:
    body = _page(QUOTED).encode("cp1252")
    assert b"\x93A follow-up" in body and b"4\x965" in body  # curly quotes and the en dash
    for content_type, head in ((f"text/html; charset={label}", ""),
                               ("text/html", f'<meta charset="{label}">'),
                               ("text/html", '<meta http-equiv="Content-Type" '
                                             f'content="text/html; charset={label}">')):
        text = charsets.decode(_page(QUOTED, head).encode("cp1252"), content_type)
        assert QUOTED in text
        assert not any("\x80" <= ch <= "\x9f" for ch in text)  # no C1 control characters


def test_bytes_windows_1252_leaves_undefined_are_the_c1_controls_browsers_show() -> None:
    # 0x81 0x8D 0x8F 0x90 0x9D have no windows-1252 character: browsers map them to U+0081...
    body = b"<p>Caf\xe9 \x81\x8d\x8f\x90\x9d \x80</p>"
    assert charsets.decode(body, "text/html; charset=iso-8859-1") == \
        "<p>Café \x81\x8d\x8f\x90\x9d €</p>"


def test_a_utf8_byte_order_mark_beats_a_wrong_latin1_header_and_meta() -> None:
    body = codecs.BOM_UTF8 + _page(QUOTED, '<meta charset="iso-8859-1">').encode("utf-8")
    text = charsets.decode(body, "text/html; charset=iso-8859-1")
    assert QUOTED in text and "â€œ" not in text  # no mojibake
    assert not text.startswith("\ufeff")  # the mark itself is not text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf16_byte_order_mark_beats_the_header(encoding: str) -> None:
    mark = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
    body = mark + _page(QUOTED).encode(encoding)
    assert QUOTED in charsets.decode(body, "text/html; charset=utf-8")


def test_undeclared_windows_1251_cyrillic_is_detected() -> None:
    body = _page(CYRILLIC).encode("cp1251")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")  # what used to become replacement characters
    assert charsets.encoding(body, "text/html") == "cp1251"
    text = charsets.decode(body, "text/html")
    assert CYRILLIC in text and "\ufffd" not in text


def test_undeclared_utf8_is_utf8() -> None:
    body = _page(CYRILLIC + " " + QUOTED).encode("utf-8")
    assert charsets.encoding(body, "text/html") == "utf-8"
    assert CYRILLIC in charsets.decode(body, "text/html")


def test_the_header_beats_the_meta_declaration() -> None:
    body = _page(CYRILLIC, '<meta charset="utf-8">').encode("cp1251")
    assert CYRILLIC in charsets.decode(body, "text/html; charset=Windows-1251")


def test_an_unknown_or_unsafe_header_label_falls_back_to_the_meta_declaration() -> None:
    body = _page(CYRILLIC, '<meta charset="windows-1251">').encode("cp1251")
    for label in ("x-no-such-charset", "utf-7", "base64"):
        assert CYRILLIC in charsets.decode(body, f"text/html; charset={label}")


def test_gb2312_is_read_as_gb18030() -> None:
    text = "朱镕基在北京会见了代表团。"  # 镕 is in GBK, not in GB2312
    body = _page(text, '<meta charset="gb2312">').encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")
    assert text in charsets.decode(body, "text/html")


def test_a_meta_declaring_utf16_means_utf8() -> None:
    body = _page(QUOTED, '<meta charset="utf-16">').encode("utf-8")
    assert QUOTED in charsets.decode(body, "text/html")


def test_a_latin1_header_on_a_utf8_page_is_read_as_utf8() -> None:
    # A server's default `charset=ISO-8859-1` on a UTF-8 page: the bytes can only be UTF-8.
    body = _page(QUOTED).encode("utf-8")
    assert QUOTED in charsets.decode(body, "text/html; charset=ISO-8859-1")
    plain = _page("Talks were held in Abu Dhabi.").encode("ascii")
    assert charsets.encoding(plain, "text/html; charset=ISO-8859-1") == "windows-1252"


def test_declared_utf8_with_a_few_bad_bytes_keeps_the_rest() -> None:
    body = _page(QUOTED).encode("utf-8").replace(b"Abu Dhabi", b"Abu \xff Dhabi\x00", 1)
    text = charsets.decode(body, "text/html; charset=utf-8")
    assert "Abu \ufffd Dhabi" in text and "\x00" not in text and "“A follow-up" in text


@pytest.mark.parametrize(("label", "expected"), [
    ("ISO-8859-1", "windows-1252"), ("l1", "windows-1252"), ("windows_1252", "windows-1252"),
    ("windows-1251", "cp1251"), ("shift_jis", "cp932"), ("euc-kr", "cp949"), ("big5", "big5hkscs"),
    ("iso-8859-8-i", "iso-8859-8"), ("utf8", "utf-8"), ("nonsense", None), ("utf-7", None),
])
def test_labels_mean_what_browsers_take_them_to_mean(label: str, expected: str | None) -> None:
    assert charsets.label(label) == expected


# --- over HTTP, through the fetcher and the extractor -------------------------------------------


@pytest.fixture()
def server() -> Iterator[fs.FaultServer]:
    with fs.FaultServer() as s:
        yield s


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with make_client(FetchLimits(page_deadline_s=5), allow_private=True) as c:
        yield c


@pytest.mark.slow
@pytest.mark.parametrize(("body", "content_type", "expected"), [
    (_page(QUOTED).encode("cp1252"), "text/html; charset=iso-8859-1", QUOTED),
    (codecs.BOM_UTF8 + _page(QUOTED).encode("utf-8"), "text/html; charset=iso-8859-1", QUOTED),
    (_page(CYRILLIC).encode("cp1251"), "text/html", CYRILLIC),
], ids=["latin1-label", "bom-beats-header", "undeclared-cyrillic"])
def test_a_served_page_is_extracted_in_its_real_encoding(
        server: fs.FaultServer, client: httpx.Client, body: bytes, content_type: str,
        expected: str) -> None:
    server.routes["/story"] = fs.static(body, content_type)
    page = pages.get(client, server.url("/story"), FetchLimits(page_deadline_s=5))
    assert page.ok and page.body == body  # stored as served: decoded where it is extracted
    article = articles.extract_page(page.body, page.content_type, page.url)
    assert article is not None and expected in article.text and "\ufffd" not in article.text
