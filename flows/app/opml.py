"""OPML 2.0 subscription lists, as feed readers write them: read into feeds, written from them.

Pure apart from nothing: bytes in, feeds out, and back. Reading goes through expat with every
entity declaration refused (no "billion laughs", no external entities), the way defusedxml
does; categories (the outlines a feed sits in, and its `category` attribute) become tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any, NoReturn
from xml.etree import ElementTree as ET
from xml.parsers import expat

from claimwatch.flows.seeds import check_url

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class OpmlError(ValueError):
    """The file is not a usable OPML subscription list; the message says where and why."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One subscription: its name, its feed URL and its categories."""

    name: str
    url: str
    tags: tuple[str, ...] = ()


def _attrs(raw: dict[str, str]) -> dict[str, str]:
    # Writers disagree on case (xmlUrl, xmlurl, XMLURL): attribute names are matched without it.
    return {k.lower(): " ".join(v.split()) for k, v in raw.items()}


def _categories(value: str) -> list[str]:
    """OPML 2.0's category: comma-separated, slash-delimited paths; a tag has no slashes."""
    return [part.strip().strip("/").strip() for part in value.split(",") if part.strip().strip("/")]


class _Reader:
    def __init__(self) -> None:
        self.stack: list[str] = []  # element names from the root down
        self.folders: list[str | None] = []  # per open outline: its category, or None (a feed)
        self.found: dict[str, OpmlFeed] = {}
        self.root: str | None = None
        self.body = False

    def start(self, name: str, raw: dict[str, str]) -> None:
        if self.root is None:
            self.root = name
            if name != "opml":
                raise OpmlError(f"not an OPML file: its root element is <{name}>, not <opml>")
        self.body = self.body or (self.stack == ["opml"] and name == "body")
        self.stack.append(name)
        if name != "outline":
            return
        attrs = _attrs(raw)
        url = attrs.get("xmlurl", "")
        label = attrs.get("title") or attrs.get("text") or ""
        if not url:  # a folder (category), or a plain link outline
            self.folders.append(label or None)
            return
        self.folders.append(None)
        problem = check_url(url)
        if problem:
            raise OpmlError(f"outline {label or url!r}: xmlUrl {url!r}: {problem}")
        tags = [f for f in self.folders[:-1] if f] + _categories(attrs.get("category", ""))
        earlier = self.found.get(url)  # one feed in two folders (Feedly, Inoreader): both tags
        if earlier is not None:
            tags = [*earlier.tags, *tags]
            label = earlier.name
        self.found[url] = OpmlFeed(label, url, tuple(dict.fromkeys(tags)))

    def end(self, name: str) -> None:
        self.stack.pop()
        if name == "outline":
            self.folders.pop()


def _refuse_entities(*_args: Any) -> NoReturn:
    raise OpmlError("the file declares XML entities, which are refused (they can expand "
                    "without bound or read local files)")


def parse(data: bytes) -> list[OpmlFeed]:
    """The feeds of an OPML document, in document order (a feed listed twice once, with the
    categories of both places); OpmlError when it is not well-formed OPML or lists no feed."""
    reader = _Reader()
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entities
    parser.UnparsedEntityDeclHandler = _refuse_entities
    parser.ExternalEntityRefHandler = _refuse_entities
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise OpmlError(f"not well-formed XML: {expat.errors.messages[exc.code]} at line "
                        f"{exc.lineno}, column {exc.offset + 1}") from None
    if not reader.body:
        raise OpmlError("no <body> in the OPML file")
    if not reader.found:
        raise OpmlError("no feeds in the OPML file (no <outline> has an xmlUrl)")
    return list(reader.found.values())


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _outline(parent: ET.Element, feed: OpmlFeed) -> None:
    attrs = {"type": "rss", "text": _text(feed.name), "title": _text(feed.name),
             "xmlUrl": _text(feed.url)}
    if feed.tags:
        attrs["category"] = _text(",".join(feed.tags))  # OPML 2.0: a tag is a category without "/"
    ET.SubElement(parent, "outline", attrs)


def render(feeds: list[OpmlFeed], title: str, now: datetime) -> bytes:
    """An OPML 2.0 document as feed readers write one: each feed in a folder named after its
    first tag (untagged ones at the top level), every tag also in its `category` attribute."""
    root = ET.Element("opml", {"version": "2.0"})
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _text(title)
    ET.SubElement(head, "dateCreated").text = format_datetime(now, usegmt=True)
    ET.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for feed in feeds:
        if not feed.tags:
            _outline(body, feed)
            continue
        folder = folders.get(feed.tags[0])
        if folder is None:
            name = _text(feed.tags[0])
            folder = folders[feed.tags[0]] = ET.SubElement(body, "outline",
                                                           {"text": name, "title": name})
        _outline(folder, feed)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
