"""Email: an alert as a subject and plain-text and HTML bodies, and the SMTP sender.

HTML gets html.escape, headers lose CR/LF; the Message-ID carries the alert's idempotency key
so that a mail system drops a resend (README "Alerts").
"""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from claimwatch.flows.alerts import render
from claimwatch.flows.alerts.policy import Channel, Outcome, Sent
from claimwatch.flows.alerts.secrets import Credentials


@dataclass(frozen=True, slots=True)
class EmailContent:
    """An email's subject (one clean line) and its plain-text and HTML bodies."""

    subject: str
    text: str
    html: str


def _esc(text: str | None) -> str:
    return html.escape(render.one_line(text), quote=True)


def _html_link(url: str, label: str) -> str:
    target = render.safe_url(url)
    shown = _esc(render.clip(render.one_line(label) or url, render.MAX_TITLE))
    return f'<a href="{html.escape(target, quote=True)}">{shown}</a>' if target else shown


def _text_evidence(e: render.Evidence) -> list[str]:
    outlet = f" ({render.one_line(e.outlet)})" if e.outlet else ""
    return [f'  "{render.clip(render.one_line(e.sentence), render.MAX_SENTENCE)}"',
            f"  — {render.clip(render.one_line(e.title), render.MAX_TITLE)}{outlet}",
            f"    {render.one_line(e.url)}", ""]


def _html_evidence(e: render.Evidence) -> str:
    outlet = f" ({_esc(render.clip(render.one_line(e.outlet), 120))})" if e.outlet else ""
    return (f"<blockquote>{_esc(render.clip(render.one_line(e.sentence), render.MAX_SENTENCE))}</blockquote>"
            f"<p>— {_html_link(e.url, e.title)}{outlet}</p>")


def _cap_bytes(text: str) -> str:
    data = text.encode("utf-8")
    if len(data) <= render.MAX_BODY_BYTES:
        return text
    return data[: render.MAX_BODY_BYTES - 200].decode("utf-8", "ignore") + "\n…(truncated)"


def email(view: render.AlertView) -> EmailContent:
    """Subject stating the change, and the same content as plain text and as escaped HTML."""
    subject = render.header(f"[claimwatch] {render.headline(view)}")
    changes = render.changes_lines(view)
    shown = view.evidence[:render.MAX_EVIDENCE]
    more = render.more(len(view.evidence) - render.MAX_EVIDENCE, "sources")
    text = [render.headline(view), "", f"Claim: {render.one_line(view.statement)}"]
    text += ["What changed:", *(f"  {c}" for c in changes)] if changes else []
    text += [f"Note: {render.one_line(view.note)}"] if view.note else []
    text += ["", "Evidence:"] + [line for e in shown for line in _text_evidence(e)]
    text += [more] if more else []
    timeline = render.timeline_url(view)
    text += [f"{render.TIMELINE}: {timeline}"] if timeline else []
    text += [f"{render.agree(view)}; first seen {render.when(view.first_seen_at)}.", f"ref {view.key}"]
    body = [f"<h2>{_esc(render.headline(view))}</h2>", f"<p><b>Claim:</b> {_esc(view.statement)}</p>"]
    if changes:
        body.append("<ul>" + "".join(f"<li>{_esc(c)}</li>" for c in changes) + "</ul>")
    if view.note:
        body.append(f"<p><i>{_esc(view.note)}</i></p>")
    body += [_html_evidence(e) for e in shown]
    body += [f"<p>{_esc(more)}</p>"] if more else []
    body += [f"<p>{_html_link(timeline, render.TIMELINE)}</p>"] if timeline else []
    body.append(f"<p><small>{_esc(render.agree(view))}; first seen {_esc(render.when(view.first_seen_at))}."
                f" ref {_esc(view.key)}</small></p>")
    return EmailContent(subject, _cap_bytes("\n".join(text)), _cap_bytes(_page(body)))


def _page(body: Sequence[str]) -> str:
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
            + "\n".join(body) + "</body></html>")


def email_digest(digest: render.DigestView) -> EmailContent:
    """A digest email: one line per item, capped, "…and N more" at the end."""
    title = render.digest_title(digest)
    more = render.more(digest.total - len(digest.items), "(see `claimwatch developments`)")
    lines = [title, ""] + [f"- {render.digest_line_plain(v)}" for v in digest.items]
    lines += [more] if more else []
    lines += ["", f"ref {digest.key}"]
    items = [f"<li>{_html_digest_line(view)}</li>" for view in digest.items]
    body = [f"<h2>{_esc(title)}</h2>", "<ul>" + "".join(items) + "</ul>"]
    body += [f"<p>{_esc(more)}</p>"] if more else []
    body.append(f"<p><small>ref {_esc(digest.key)}</small></p>")
    return EmailContent(render.header(f"[claimwatch] {title}"), _cap_bytes("\n".join(lines)),
                        _cap_bytes(_page(body)))


def _html_digest_line(view: render.AlertView) -> str:
    """A development with its first article, or a claim's new confirmations with every new
    source linked by its outlet."""
    shown, hidden = render.listed_sources(view)
    note = f" <i>[{_esc(view.note)}]</i>" if view.note else ""
    if view.relation == "confirms":
        links = ", ".join(_html_link(e.url, e.outlet or e.title) for e in shown)
        extra = f", {_esc(render.more(hidden, 'sources'))}" if hidden else ""
        return f"{_esc(render.headline(view))}: {links}{extra}{note}"
    source = "".join(f" — {_html_link(e.url, e.title)}" for e in shown)
    return f"{_esc(render.headline(view))}{source}{note}"


def email_notice(view: render.NoticeView) -> EmailContent:
    """An ops notice as an email: the text, when it happened, the key."""
    text = render.clip(render.one_line(view.text), render.MAX_SENTENCE * 4)
    body = [f"<h2>{_esc(render.notice_headline(view))}</h2>", f"<p>{_esc(text)}</p>",
            f"<p><small>source health · {_esc(render.when(view.at))} · ref {_esc(view.key)}</small></p>"]
    return EmailContent(render.header(f"[claimwatch] {render.notice_headline(view)}"),
                        f"{text}\n\nsource health · {render.when(view.at)}\nref {view.key}", _page(body))


def email_test(channel: str, key: str) -> EmailContent:
    text = f"claimwatch test message for channel {render.one_line(channel)}"
    return EmailContent(render.header(f"[claimwatch] test message for {channel}"), f"{text}\nref {key}",
                        _page([f"<p>{_esc(text)}</p>", f"<p><small>ref {_esc(key)}</small></p>"]))


# ---------------------------------------------------------------- sending


def email_message(channel: Channel, content: EmailContent, key: str, now: datetime
                  ) -> EmailMessage:
    """A multipart/alternative message whose Message-ID is derived from the idempotency key."""
    msg = EmailMessage()
    msg["Subject"] = render.header(content.subject)
    msg["From"] = channel.sender
    msg["To"] = ", ".join(channel.recipients)
    msg["Date"] = format_datetime(now)
    domain = channel.sender.rsplit("@", 1)[-1]
    msg["Message-ID"] = f"<claimwatch.{render.header(key)}@{domain}>"
    msg["X-Claimwatch-Key"] = render.header(key)
    msg.set_content(content.text)
    msg.add_alternative(content.html, subtype="html")
    return msg


def _tls(channel: Channel) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=channel.ca_file)


def _open(channel: Channel) -> smtplib.SMTP:
    if channel.security == "tls":
        return smtplib.SMTP_SSL(channel.smtp_host, channel.smtp_port, timeout=channel.timeout_s,
                                context=_tls(channel))
    smtp = smtplib.SMTP(channel.smtp_host, channel.smtp_port, timeout=channel.timeout_s)
    if channel.security == "starttls":
        smtp.starttls(context=_tls(channel))
    return smtp


def send_email(channel: Channel, creds: Credentials, message: EmailMessage) -> Sent:
    """Deliver over SMTP; 4xx replies, refusals and timeouts are retried, 5xx replies are not."""
    try:
        with _open(channel) as smtp:
            if creds.username and creds.password:
                smtp.login(creds.username, creds.password)
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        return _refused(exc.recipients)
    except smtplib.SMTPResponseException as exc:
        kind: Outcome = "retry" if 400 <= exc.smtp_code < 500 else "failed"
        return Sent(kind, f"SMTP {exc.smtp_code} {_smtp_text(exc.smtp_error)}")
    except smtplib.SMTPServerDisconnected:
        return Sent("retry", "SMTP server disconnected", unreachable=True)
    except ssl.SSLCertVerificationError as exc:
        return Sent("failed", f"SMTP TLS certificate refused ({exc.verify_message})")
    except smtplib.SMTPException as exc:  # e.g. STARTTLS or AUTH not offered: a config problem
        return Sent("failed", f"SMTP error ({type(exc).__name__}: {_smtp_text(str(exc))})")
    except OSError as exc:  # refused, reset, timed out, no route: the server is down
        return Sent("retry", f"SMTP server unreachable ({type(exc).__name__})", unreachable=True)
    if refused:  # accepted for the others: sending again would duplicate it for them
        return Sent("sent", _refused(refused).error)
    return Sent("sent")


def _refused(recipients: Mapping[str, tuple[int, bytes]]) -> Sent:
    codes = sorted({code for code, _ in recipients.values()})
    kind: Outcome = "retry" if all(400 <= c < 500 for c in codes) else "failed"
    return Sent(kind, f"SMTP refused {', '.join(sorted(recipients))} "
                      f"({', '.join(str(c) for c in codes)})")


def _smtp_text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return render.one_line(text)[:160]
