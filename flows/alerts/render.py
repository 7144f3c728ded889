"""Render a development (or a confirmation, or a digest) as a Slack payload and an email. Pure.

Untrusted text (titles, outlets, evidence sentences, URLs) is escaped for each channel here and
nowhere else (RELIABILITY.md rule 12): Slack mrkdwn gets `& < >` escaped so `<!channel>` cannot
ping and `<url|label>` cannot forge a link; HTML gets html.escape; headers lose CR/LF.
Sizes follow RELIABILITY.md part C: titles ≤ 250 characters, bodies ≤ 30 KB.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

MAX_TITLE = 250  # subject lines and headlines (Apprise's title cap)
MAX_BODY_BYTES = 30_000  # a whole message body (Apprise caps at 32 KiB)
MAX_SENTENCE = 600  # one quoted evidence sentence
MAX_URL = 2048
MAX_EVIDENCE = 5  # sources quoted in one alert; the rest are counted
SLACK_SECTION = 3000  # Slack's limit for a section's text
SLACK_HEADER = 150  # Slack's limit for a header block

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
    evidence: tuple[Evidence, ...]
    sources_agree: int
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
class EmailContent:
    """An email's subject (one clean line) and its plain-text and HTML bodies."""

    subject: str
    text: str
    html: str


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
    verb = VERBS.get(view.relation, view.relation.title())
    if view.relation == "contradicts":
        by = next((one_line(e.outlet or e.title) for e in view.evidence), "")
        what = f"{view.summary} (contradicted by {by})" if by else view.summary
    elif view.relation == "confirms":
        what = f"confirmed by {view.sources_agree} source{'s' if view.sources_agree != 1 else ''}"
    else:
        what = view.summary
    return header(f"{verb} {view.claim_id}: {one_line(what)}")


def _changes_lines(view: AlertView) -> list[str]:
    if view.relation == "confirms" or not view.changes:
        return []
    return [f"{slot}: {old or 'none'} → {new or 'none'}" for slot, (old, new) in
            sorted(view.changes.items())]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def timeline_url(view: AlertView) -> str | None:
    """Where the claim's timeline is, if a report location is configured and it is http(s)."""
    return safe_url(view.report_url) if view.report_url else None


def _agree(view: AlertView) -> str:
    n = view.sources_agree
    return f"{n} source{'s agree' if n != 1 else ' agrees'}"


# ---------------------------------------------------------------- Slack


def slack_escape(text: str | None) -> str:
    """Slack's three control characters escaped; whitespace collapsed so no line starts a quote."""
    # https://api.slack.com/reference/surfaces/formatting#escaping
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str, label: str) -> str:
    """A link we build: the URL percent-escaped where Slack would read syntax, the label escaped."""
    target = safe_url(url)
    shown = slack_escape(clip(one_line(label) or url, MAX_TITLE))
    if target is None:
        return shown
    target = target.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    return f"<{target}|{shown}>"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip_mrkdwn(text)}}


def _clip_mrkdwn(text: str, limit: int = SLACK_SECTION) -> str:
    """Cut escaped mrkdwn without leaving half an entity or half a link behind."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    cut = re.sub(r"(<[^>]*|&[a-z]*)$", "", cut)
    return cut + "…"


def _slack_evidence(evidence: Evidence) -> str:
    quote = slack_escape(clip(one_line(evidence.sentence), MAX_SENTENCE))
    outlet = f" ({slack_escape(clip(one_line(evidence.outlet), 120))})" if evidence.outlet else ""
    return f"> {quote}\n— {slack_link(evidence.url, evidence.title)}{outlet}"


def _more(count: int, noun: str) -> str:
    return f"…and {count} more {noun}" if count > 0 else ""


def slack(view: AlertView) -> dict[str, Any]:
    """Blocks with a plain-text fallback; the key rides in a context block for receiver dedupe."""
    title = headline(view)
    lines = [f"*{slack_escape(VERBS.get(view.relation, view.relation))}:* "
             f"{slack_escape(clip(one_line(view.statement), 500))}"]
    lines += [f"• {slack_escape(line)}" for line in _changes_lines(view)]
    if view.note:
        lines.append(f"_{slack_escape(view.note)}_")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title, SLACK_HEADER)}},
        _section("\n".join(lines)),
    ]
    blocks += [_section(_slack_evidence(e)) for e in view.evidence[:MAX_EVIDENCE]]
    more = _more(len(view.evidence) - MAX_EVIDENCE, "sources")
    if more:
        blocks.append(_section(more))
    timeline = timeline_url(view)
    link = slack_link(timeline, TIMELINE) if timeline else ""
    if link:
        blocks.append(_section(link))
    blocks.append(_context(f"{_agree(view)} · first seen {_when(view.first_seen_at)}", view.key))
    fallback = slack_escape(title) + (f" · {link}" if link else "")
    return {"text": fallback, "blocks": blocks}


def _context(text: str, key: str) -> dict[str, Any]:
    return {"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"{slack_escape(text)} · ref {slack_escape(key)}"}]}


def _digest_line_plain(view: AlertView) -> str:
    first = view.evidence[0] if view.evidence else None
    source = f" — {one_line(first.title)} ({one_line(first.outlet)})" if first else ""
    note = f" [{view.note}]" if view.note else ""
    return clip(headline(view) + source + note, 1000)


def _digest_title(digest: DigestView) -> str:
    n = digest.total
    return header(f"claimwatch digest: {n} item{'s' if n != 1 else ''} for {digest.channel}")


def slack_digest(digest: DigestView) -> dict[str, Any]:
    """One message for many items, capped, ending with "…and N more"."""
    title = _digest_title(digest)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title, SLACK_HEADER)}}]
    for view in digest.items:
        first = view.evidence[0] if view.evidence else None
        source = f" — {slack_link(first.url, first.title)}" if first else ""
        note = f" _{slack_escape(view.note)}_" if view.note else ""
        blocks.append(_section(f"• {slack_escape(headline(view))}{source}{note}"))
    more = _more(digest.total - len(digest.items), "(see `claimwatch developments`)")
    if more:
        blocks.append(_section(more))
    blocks.append(_context("digest", digest.key))
    return {"text": slack_escape(title), "blocks": blocks}


def notice_headline(view: NoticeView) -> str:
    """One line, e.g. "Source failing: Harbor Wire is failing (3 polls in a row): HTTP 503 …"."""
    return header(f"{NOTICE_TITLES.get(view.kind, 'Source notice')}: {one_line(view.text)}")


def slack_notice(view: NoticeView) -> dict[str, Any]:
    """An ops notice for Slack: the headline, the whole text, when, and the key."""
    title = notice_headline(view)
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": clip(title, SLACK_HEADER)}},
              _section(slack_escape(clip(one_line(view.text), SLACK_SECTION - 100))),
              _context(f"source health · {_when(view.at)}", view.key)]
    return {"text": slack_escape(title), "blocks": blocks}


def slack_test(channel: str, key: str) -> dict[str, Any]:
    """A harmless message proving the webhook works."""
    text = f"claimwatch test message for channel {channel}"
    return {"text": slack_escape(text),
            "blocks": [_section(slack_escape(text)), _context("test", key)]}


# ---------------------------------------------------------------- email


def _esc(text: str | None) -> str:
    return html.escape(one_line(text), quote=True)


def _html_link(url: str, label: str) -> str:
    target = safe_url(url)
    shown = _esc(clip(one_line(label) or url, MAX_TITLE))
    return f'<a href="{html.escape(target, quote=True)}">{shown}</a>' if target else shown


def _text_evidence(e: Evidence) -> list[str]:
    outlet = f" ({one_line(e.outlet)})" if e.outlet else ""
    return [f'  "{clip(one_line(e.sentence), MAX_SENTENCE)}"',
            f"  — {clip(one_line(e.title), MAX_TITLE)}{outlet}", f"    {one_line(e.url)}", ""]


def _html_evidence(e: Evidence) -> str:
    outlet = f" ({_esc(clip(one_line(e.outlet), 120))})" if e.outlet else ""
    return (f"<blockquote>{_esc(clip(one_line(e.sentence), MAX_SENTENCE))}</blockquote>"
            f"<p>— {_html_link(e.url, e.title)}{outlet}</p>")


def _cap_bytes(text: str) -> str:
    data = text.encode("utf-8")
    if len(data) <= MAX_BODY_BYTES:
        return text
    return data[: MAX_BODY_BYTES - 200].decode("utf-8", "ignore") + "\n…(truncated)"


def email(view: AlertView) -> EmailContent:
    """Subject stating the change, and the same content as plain text and as escaped HTML."""
    subject = header(f"[claimwatch] {headline(view)}")
    changes = _changes_lines(view)
    shown = view.evidence[:MAX_EVIDENCE]
    more = _more(len(view.evidence) - MAX_EVIDENCE, "sources")
    text = [headline(view), "", f"Claim: {one_line(view.statement)}"]
    text += ["What changed:", *(f"  {c}" for c in changes)] if changes else []
    text += [f"Note: {one_line(view.note)}"] if view.note else []
    text += ["", "Evidence:"] + [line for e in shown for line in _text_evidence(e)]
    text += [more] if more else []
    timeline = timeline_url(view)
    text += [f"{TIMELINE}: {timeline}"] if timeline else []
    text += [f"{_agree(view)}; first seen {_when(view.first_seen_at)}.", f"ref {view.key}"]
    body = [f"<h2>{_esc(headline(view))}</h2>", f"<p><b>Claim:</b> {_esc(view.statement)}</p>"]
    if changes:
        body.append("<ul>" + "".join(f"<li>{_esc(c)}</li>" for c in changes) + "</ul>")
    if view.note:
        body.append(f"<p><i>{_esc(view.note)}</i></p>")
    body += [_html_evidence(e) for e in shown]
    body += [f"<p>{_esc(more)}</p>"] if more else []
    body += [f"<p>{_html_link(timeline, TIMELINE)}</p>"] if timeline else []
    body.append(f"<p><small>{_esc(_agree(view))}; first seen {_esc(_when(view.first_seen_at))}."
                f" ref {_esc(view.key)}</small></p>")
    return EmailContent(subject, _cap_bytes("\n".join(text)), _cap_bytes(_page(body)))


def _page(body: Sequence[str]) -> str:
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
            + "\n".join(body) + "</body></html>")


def email_digest(digest: DigestView) -> EmailContent:
    """A digest email: one line per item, capped, "…and N more" at the end."""
    title = _digest_title(digest)
    more = _more(digest.total - len(digest.items), "(see `claimwatch developments`)")
    lines = [title, ""] + [f"- {_digest_line_plain(v)}" for v in digest.items]
    lines += [more] if more else []
    lines += ["", f"ref {digest.key}"]
    items = []
    for view in digest.items:
        first = view.evidence[0] if view.evidence else None
        source = f" — {_html_link(first.url, first.title)}" if first else ""
        note = f" <i>[{_esc(view.note)}]</i>" if view.note else ""
        items.append(f"<li>{_esc(headline(view))}{source}{note}</li>")
    body = [f"<h2>{_esc(title)}</h2>", "<ul>" + "".join(items) + "</ul>"]
    body += [f"<p>{_esc(more)}</p>"] if more else []
    body.append(f"<p><small>ref {_esc(digest.key)}</small></p>")
    return EmailContent(header(f"[claimwatch] {title}"), _cap_bytes("\n".join(lines)),
                        _cap_bytes(_page(body)))


def email_notice(view: NoticeView) -> EmailContent:
    """An ops notice as an email: the text, when it happened, the key."""
    text = clip(one_line(view.text), MAX_SENTENCE * 4)
    body = [f"<h2>{_esc(notice_headline(view))}</h2>", f"<p>{_esc(text)}</p>",
            f"<p><small>source health · {_esc(_when(view.at))} · ref {_esc(view.key)}</small></p>"]
    return EmailContent(header(f"[claimwatch] {notice_headline(view)}"),
                        f"{text}\n\nsource health · {_when(view.at)}\nref {view.key}", _page(body))


def email_test(channel: str, key: str) -> EmailContent:
    text = f"claimwatch test message for channel {one_line(channel)}"
    return EmailContent(header(f"[claimwatch] test message for {channel}"), f"{text}\nref {key}",
                        _page([f"<p>{_esc(text)}</p>", f"<p><small>ref {_esc(key)}</small></p>"]))
