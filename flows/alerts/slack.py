"""Slack: an alert as blocks with a plain-text fallback, and the incoming-webhook sender.

Slack mrkdwn gets `& < >` escaped so `<!channel>` cannot ping and `<url|label>` cannot forge a
link; only links built here remain. The webhook URL is the secret: it never reaches a log.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from claimwatch.flows.alerts import render
from claimwatch.flows.alerts.policy import Sent
from claimwatch.flows.fetch.guard import BlockedAddressError
from claimwatch.flows.fetch.http import make_client
from claimwatch.flows.settings import FetchLimits

SLACK_SECTION = 3000  # Slack's limit for a section's text
SLACK_HEADER = 150  # Slack's limit for a header block


def slack_escape(text: str | None) -> str:
    """Slack's three control characters escaped; whitespace collapsed so no line starts a quote."""
    # https://api.slack.com/reference/surfaces/formatting#escaping
    return render.one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str, label: str) -> str:
    """A link we build: the URL percent-escaped where Slack would read syntax, the label escaped."""
    target = render.safe_url(url)
    shown = slack_escape(render.clip(render.one_line(label) or url, render.MAX_TITLE))
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


def _slack_evidence(evidence: render.Evidence) -> str:
    quote = slack_escape(render.clip(render.one_line(evidence.sentence), render.MAX_SENTENCE))
    outlet = (f" ({slack_escape(render.clip(render.one_line(evidence.outlet), 120))})"
              if evidence.outlet else "")
    return f"> {quote}\n— {slack_link(evidence.url, evidence.title)}{outlet}"


def slack(view: render.AlertView) -> dict[str, Any]:
    """Blocks with a plain-text fallback; the key rides in a context block for receiver dedupe."""
    title = render.headline(view)
    lines = [f"*{slack_escape(render.VERBS.get(view.relation, view.relation))}:* "
             f"{slack_escape(render.clip(render.one_line(view.statement), 500))}"]
    lines += [f"• {slack_escape(line)}" for line in render.changes_lines(view)]
    if view.note:
        lines.append(f"_{slack_escape(view.note)}_")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": render.clip(title, SLACK_HEADER)}},
        _section("\n".join(lines)),
    ]
    blocks += [_section(_slack_evidence(e)) for e in view.evidence[:render.MAX_EVIDENCE]]
    more = render.more(len(view.evidence) - render.MAX_EVIDENCE, "sources")
    if more:
        blocks.append(_section(more))
    timeline = render.timeline_url(view)
    link = slack_link(timeline, render.TIMELINE) if timeline else ""
    if link:
        blocks.append(_section(link))
    blocks.append(_context(f"{render.agree(view)} · first seen {render.when(view.first_seen_at)}", view.key))
    fallback = slack_escape(title) + (f" · {link}" if link else "")
    return {"text": fallback, "blocks": blocks}


def _context(text: str, key: str) -> dict[str, Any]:
    return {"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"{slack_escape(text)} · ref {slack_escape(key)}"}]}


def slack_digest(digest: render.DigestView) -> dict[str, Any]:
    """One message for many items, capped, ending with "…and N more"."""
    title = render.digest_title(digest)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": render.clip(title, SLACK_HEADER)}}]
    blocks += [_section(_digest_line(view)) for view in digest.items]
    more = render.more(digest.total - len(digest.items), "(see `claimwatch developments`)")
    if more:
        blocks.append(_section(more))
    blocks.append(_context("digest", digest.key))
    return {"text": slack_escape(title), "blocks": blocks}


def _digest_line(view: render.AlertView) -> str:
    """A development with its first article, or a claim's new confirmations with every new
    source linked by its outlet."""
    shown, hidden = render.listed_sources(view)
    note = f" _{slack_escape(view.note)}_" if view.note else ""
    if view.relation == "confirms":
        links = ", ".join(slack_link(e.url, e.outlet or e.title) for e in shown)
        extra = f", {slack_escape(render.more(hidden, 'sources'))}" if hidden else ""
        return f"• {slack_escape(render.headline(view))}: {links}{extra}{note}"
    source = "".join(f" — {slack_link(e.url, e.title)}" for e in shown)
    return f"• {slack_escape(render.headline(view))}{source}{note}"


def slack_notice(view: render.NoticeView) -> dict[str, Any]:
    """An ops notice for Slack: the headline, the whole text, when, and the key."""
    title = render.notice_headline(view)
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": render.clip(title, SLACK_HEADER)}},
              _section(slack_escape(render.clip(render.one_line(view.text), SLACK_SECTION - 100))),
              _context(f"source health · {render.when(view.at)}", view.key)]
    return {"text": slack_escape(title), "blocks": blocks}


def slack_test(channel: str, key: str) -> dict[str, Any]:
    """A harmless message proving the webhook works."""
    text = f"claimwatch test message for channel {channel}"
    return {"text": slack_escape(text),
            "blocks": [_section(slack_escape(text)), _context("test", key)]}


# ---------------------------------------------------------------- sending


def webhook_ok(url: str) -> bool:
    """http(s) and parseable by httpx: its parse errors quote the URL, so they must not happen
    at send time, where they would crash delivery with the secret in the message."""
    try:
        return httpx.URL(url).scheme in {"http", "https"} and bool(urlsplit(url).netloc)
    except (httpx.InvalidURL, ValueError):
        return False


def send_slack(url: str, payload: Mapping[str, Any], key: str, timeout_s: float = 10.0) -> Sent:
    """POST one message to an incoming webhook; classify the answer for the outbox."""
    # RELIABILITY: 5 s to connect, 10 s to answer. The fetch client: no redirects, no proxies
    # from the environment; a relay on the intranet is allowed, cloud metadata never.
    limits = replace(FetchLimits(), connect_timeout_s=min(5.0, timeout_s), read_timeout_s=timeout_s)
    try:
        with _unlogged(url), make_client(limits, allow_private=True) as client:
            response = client.post(url, json=dict(payload), headers={"Idempotency-Key": key})
    except BlockedAddressError:
        return Sent("failed", "the Slack webhook's host is an address claimwatch never posts to")
    except httpx.TimeoutException:
        return Sent("retry", "Slack timed out", unreachable=True)
    except httpx.TransportError as exc:
        return Sent("retry", f"Slack unreachable ({type(exc).__name__})", unreachable=True)
    except (httpx.InvalidURL, ValueError):  # their messages quote the URL: never pass them on
        return Sent("failed", "the Slack webhook URL is malformed")
    return _slack_answer(response.status_code, response.headers.get("Retry-After"),
                         response.text[:200])


class _Redact(logging.Filter):
    """Replaces a webhook URL in log records with its scheme and host (the path is the secret)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.forms = {url}
        try:
            parsed = httpx.URL(url)
            self.forms.add(str(parsed))  # how httpx prints it: normalised
            self.shown = f"{parsed.scheme}://{parsed.host}/…(webhook URL)"
        except (httpx.InvalidURL, ValueError):
            self.shown = "…(webhook URL)"

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(form in message for form in self.forms):
            for form in self.forms:
                message = message.replace(form, self.shown)
            record.msg, record.args = message, None
        return True


@contextmanager
def _unlogged(url: str) -> Iterator[None]:
    """httpx logs every request's full URL at INFO ("HTTP Request: POST https://hooks…"):
    while a webhook is posted, that record names only the host."""
    logger = logging.getLogger("httpx")
    redact = _Redact(url)
    logger.addFilter(redact)
    try:
        yield
    finally:
        logger.removeFilter(redact)


def _slack_answer(status: int, retry_after: str | None, body: str) -> Sent:
    if 200 <= status < 300:
        return Sent("sent")
    detail = f"Slack answered HTTP {status} {render.one_line(body)[:120]}".strip()
    if status == 429:
        return Sent("retry", detail, retry_after_s=_seconds(retry_after))
    if status >= 500 or status == 408:
        return Sent("retry", detail)
    return Sent("failed", detail)  # 400 invalid_payload, 403 invalid_token, 404 no_service...


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the retry schedule decides instead
