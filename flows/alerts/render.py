"""What an alert says, in channel-neutral terms: the views and their plain-text shaping. Pure.

Untrusted text (titles, outlets, evidence sentences, URLs) is escaped for each channel by that
channel's module (slack.py, mail.py) and nowhere else (RELIABILITY.md rule 12). Sizes follow
RELIABILITY.md part C: titles at most 250 characters, bodies at most 30 KB.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

MAX_TITLE = 250  # subject lines and headlines (Apprise's title cap)
MAX_BODY_BYTES = 30_000  # a whole message body (Apprise caps at 32 KiB)
MAX_SENTENCE = 600  # one quoted evidence sentence
MAX_URL = 2048
MAX_EVIDENCE = 5  # sources quoted in one alert; the rest are counted

TIMELINE = "Claim timeline"  # the label of the link to the claim's section of the report
VERBS = {"updates": "Updated", "contradicts": "Contradicted", "confirms": "Confirmed"}
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One article supporting the alert: the sentence that decided it and where it came from."""

    sentence: str
    title: str
    outlet: str | None
    url: str
    relation: str


@dataclass(frozen=True, slots=True)
class AlertView:
    """Everything an alert says, read from the database at send time."""

    key: str  # the idempotency key, shown so a receiver can drop a resend
    claim_id: str
    statement: str
    relation: str  # "updates" | "contradicts" | "confirms"
    summary: str  # "date: 2026-02-04/2026-02-05 → 2026-02-10"
    changes: Mapping[str, tuple[str | None, str | None]]
    # A development's supporting articles; for confirmations, the articles that confirmed the
    # claim since the last message about it (one per article), never the development's first.
    evidence: tuple[Evidence, ...]
    sources_agree: int  # confirmations: the articles confirming the claim so far, all told
    first_seen_at: datetime
    note: str = ""  # why it came in a digest, e.g. "backlog: first poll of the source"
    report_url: str | None = None  # the claim's section of the report, when one is published


@dataclass(frozen=True, slots=True)
class NoticeView:
    """An ops notice: a source turned unhealthy or recovered (flows/health.py), said once."""

    key: str
    kind: str  # "unhealthy" | "recovered"
    text: str  # health.Notice.text(): the source's name and the last error or status
    at: datetime


NOTICE_TITLES = {"unhealthy": "Source failing", "recovered": "Source recovered"}


@dataclass(frozen=True, slots=True)
class DigestView:
    """Items gathered for one digest message; `total` counts the ones beyond the cap too."""

    key: str
    items: tuple[AlertView, ...]
    total: int
    channel: str


# ---------------------------------------------------------------- plain text shaping


def one_line(text: str | None) -> str:
    """Collapse whitespace and drop control characters (CR/LF included)."""
    return _SPACE.sub(" ", _CONTROL.sub(" ", text or "")).strip()


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, marking a cut with an ellipsis."""
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def header(text: str) -> str:
    """A value safe for an email header: one line, no CR/LF, at most MAX_TITLE characters."""
    return clip(one_line(text), MAX_TITLE)


def safe_url(url: str) -> str | None:
    """The URL if it is an http(s) URL of sane length, else None (never rendered as a link)."""
    clean = one_line(url)
    try:
        parts = urlsplit(clean)
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(clean) > MAX_URL:
        return None
    return clean


def headline(view: AlertView) -> str:
    """What changed, in one line: "Updated abu-dhabi-talks: date: 2026-02-04 → 2026-02-10"."""
    if view.relation == "confirms":
        return header(confirmed(view))
    verb = VERBS.get(view.relation, view.relation.title())
    if view.relation == "contradicts":
        by = next((one_line(e.outlet or e.title) for e in view.evidence), "")
        what = f"{view.summary} (contradicted by {by})" if by else view.summary
    else:
        what = view.summary
    return header(f"{verb} {view.claim_id}: {one_line(what)}")


def confirmed(view: AlertView) -> str:
    """Confirmations, folded: "4 more sources confirm abu-dhabi-talks" counts the sources this
    message carries (its evidence); "more" when others confirmed the claim before them."""
    new = max(1, len(view.evidence))
    more = " more" if view.sources_agree > new else ""
    return (f"{new}{more} source{'s' if new != 1 else ''} confirm{'' if new != 1 else 's'} "
            f"{view.claim_id}")


def listed_sources(view: AlertView) -> tuple[tuple[Evidence, ...], int]:
    """The sources a digest line links, and how many more it only counts: a development's
    first article; every new source of folded confirmations, up to MAX_EVIDENCE."""
    if view.relation != "confirms":
        return view.evidence[:1], 0
    return view.evidence[:MAX_EVIDENCE], max(0, len(view.evidence) - MAX_EVIDENCE)


def changes_lines(view: AlertView) -> list[str]:
    if view.relation == "confirms" or not view.changes:
        return []
    return [f"{slot}: {old or 'none'} → {new or 'none'}" for slot, (old, new) in
            sorted(view.changes.items())]


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def timeline_url(view: AlertView) -> str | None:
    """Where the claim's timeline is, if a report location is configured and it is http(s)."""
    return safe_url(view.report_url) if view.report_url else None


def agree(view: AlertView) -> str:
    n = view.sources_agree
    return f"{n} source{'s agree' if n != 1 else ' agrees'}"


def more(count: int, noun: str) -> str:
    return f"…and {count} more {noun}" if count > 0 else ""


def digest_line_plain(view: AlertView) -> str:
    """One digest line as plain text, each source with its outlet and its link."""
    shown, hidden = listed_sources(view)
    note = f" [{one_line(view.note)}]" if view.note else ""
    if view.relation == "confirms":
        links = ", ".join(f"{clip(one_line(e.outlet or e.title), 120)} {one_line(e.url)}"
                          for e in shown)
        extra = f", {more(hidden, 'sources')}" if hidden else ""
        return f"{headline(view)}: {links}{extra}{note}"
    source = "".join(f" — {clip(one_line(e.title), MAX_TITLE)}"
                     + (f" ({clip(one_line(e.outlet), 120)})" if e.outlet else "")
                     + f" {one_line(e.url)}" for e in shown)
    return headline(view) + source + note


def digest_title(digest: DigestView) -> str:
    n = digest.total
    return header(f"claimwatch digest: {n} item{'s' if n != 1 else ''} for {digest.channel}")


def notice_headline(view: NoticeView) -> str:
    """One line, e.g. "Source failing: Harbor Wire is failing (3 polls in a row): HTTP 503 …"."""
    return header(f"{NOTICE_TITLES.get(view.kind, 'Source notice')}: {one_line(view.text)}")
