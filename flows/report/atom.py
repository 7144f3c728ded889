"""developments.xml: an Atom feed (RFC 4287) of developments, beside the report's index.html.

Pure: a Report in, bytes out. One entry per development, newest first: the claim, the
relation, what changed, each source's evidence with its outlet and link. Entry ids are
`urn:uuid:` names derived from the claim, the development's id and when it was first seen, so
rewriting the feed never makes a reader show an entry twice. Untrusted text is escaped twice
over: ElementTree escapes the XML, and the HTML inside `content` is built with html.escape; only
http(s) URLs become links; characters XML cannot carry (a title's stray \\x0b) are dropped.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import datetime
from urllib.parse import urljoin
from xml.etree import ElementTree as ET

from claimwatch.flows.report.links import claim_url
from claimwatch.flows.report.report import ClaimView, Entry, Report, SourceGroup, SourceRow
from claimwatch.flows.report.times import day

ATOM = "http://www.w3.org/2005/Atom"
FEED = "developments.xml"
TITLE_MAX = 250  # RELIABILITY.md: titles at most 250 characters
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    return _NOT_XML.sub("", str(value))


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def entry_id(claim_id: str, e: Entry) -> str:
    """A development's stable id: the same development gets the same id in every rewrite."""
    seen = e.seen_at.isoformat() if e.seen_at else ""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"claimwatch:development:{claim_id}:{e.id}:{seen}").urn


def feed_id(location: str) -> str:
    """The feed's id, from where it is published (its URL, or its folder's file: URI)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"claimwatch:developments:{location}").urn


def _cite(row: SourceRow) -> str:
    title = html.escape(_text(row.title))
    link = f'<a href="{html.escape(row.href)}">{title}</a>' if row.href else title
    return f"<b>{html.escape(_text(row.outlet_name))}</b> · {link} · {day(row.published_at)}"


def _source(group: SourceGroup) -> str:
    first = group.primary
    copies = "".join(f"<li>{_cite(r)}</li>" for r in group.copies)
    return (f"<blockquote>{html.escape(_text(first.evidence))}</blockquote><p>{_cite(first)}</p>"
            + (f"<p>near-duplicates:</p><ul>{copies}</ul>" if copies else ""))


def content(claim: ClaimView, e: Entry) -> str:
    """The entry's body as HTML: the claim, what changed, each source with its evidence."""
    changes = "".join(
        f"<li>{html.escape(_text(c.slot))}: {html.escape(_text(c.old or 'none'))} → "
        f"{html.escape(_text(c.new or 'none'))}</li>" for c in e.changes)
    what = f"<ul>{changes}</ul>" if changes else f"<p>{html.escape(_text(e.summary))}</p>"
    return (f"<p><b>Claim</b> {html.escape(claim.id)}: {html.escape(_text(claim.statement))}</p>"
            f"<p><b>{html.escape(e.relation)}</b> (reported {day(e.news_at)})</p>{what}"
            + "".join(_source(g) for g in e.groups))


def _updated(e: Entry) -> datetime | None:
    """Changed when a source joined it after it was first seen."""
    moments = [m for g in e.groups for r in (g.primary, *g.copies)
               for m in (r.matched_at,) if m is not None]
    return max([*moments, *([e.seen_at] if e.seen_at else [])], default=None)


def _entry(feed: ET.Element, claim: ClaimView, e: Entry, index_url: str | None,
           fallback: datetime) -> None:
    node = ET.SubElement(feed, "entry")
    ET.SubElement(node, "id").text = entry_id(claim.id, e)
    title = _text(f"{claim.id} {e.relation}: {e.summary}")
    ET.SubElement(node, "title").text = title[:TITLE_MAX - 1] + "…" if len(title) > TITLE_MAX \
        else title
    ET.SubElement(node, "updated").text = _stamp(_updated(e) or fallback)
    if e.news_at is not None:
        ET.SubElement(node, "published").text = _stamp(e.news_at)
    home = claim_url(claim.id, index_url) if index_url else None
    rows = [r for g in e.groups for r in (g.primary, *g.copies)]
    first = next((r.href for r in rows if r.href), None)
    if home or first:
        ET.SubElement(node, "link", {"rel": "alternate", "type": "text/html",
                                     "href": home or first or ""})
    for row in rows:
        if row.href:
            ET.SubElement(node, "link", {"rel": "related", "href": row.href,
                                         "title": _text(row.outlet_name)})
    ET.SubElement(node, "category", {"term": e.relation, "label": e.relation})
    ET.SubElement(node, "category", {"term": claim.id, "scheme": "urn:claimwatch:claim"})
    ET.SubElement(node, "summary").text = _text(e.summary)
    ET.SubElement(node, "content", {"type": "html"}).text = content(claim, e)


def render(report: Report, location: str, index_url: str | None = None) -> bytes:
    """The feed: `location` names where it is published (for its id), `index_url` where the
    report is read (entries then link to their claim's section, and the feed to itself)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    entries = sorted(((c, e) for c in report.claims for e in c.timeline),
                     key=lambda pair: (pair[1].seen_at or report.generated_at, pair[1].id),
                     reverse=True)
    ET.SubElement(feed, "id").text = feed_id(location)
    ET.SubElement(feed, "title").text = "claimwatch: developments"
    ET.SubElement(feed, "subtitle").text = "Each claim confirmed, updated or contradicted, " \
                                           "with its evidence and sources"
    newest = [u for _, e in entries if (u := _updated(e)) is not None]
    ET.SubElement(feed, "updated").text = _stamp(max(newest, default=report.generated_at))
    ET.SubElement(ET.SubElement(feed, "author"), "name").text = "claimwatch"
    ET.SubElement(feed, "generator").text = "claimwatch"
    if index_url:
        ET.SubElement(feed, "link", {"rel": "alternate", "type": "text/html", "href": index_url})
        ET.SubElement(feed, "link", {"rel": "self", "type": "application/atom+xml",
                                     "href": urljoin(index_url.split("#", 1)[0], FEED)})
    for claim, e in entries:
        _entry(feed, claim, e, index_url, report.generated_at)
    # Elements made without the namespace prefix still belong to the default one on output.
    for node in feed.iter():
        if not node.tag.startswith("{"):
            node.tag = f"{{{ATOM}}}{node.tag}"
    ET.indent(feed, space="  ")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
