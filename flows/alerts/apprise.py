"""Apprise: the channel kind for the services Apprise reaches (Teams, Mattermost, Telegram,
Discord, ntfy, Matrix, json:// and form:// webhooks ...), with the outbox's guarantees.

The URL is the secret: its path, user, password and query hold the tokens. Apprise logs it
("JSON POST URL: ...") and so does urllib3 under it (the request line), so while we talk to
Apprise the records of both go to a capture of ours alone: we read the HTTP status from them
and drop them; no other handler (a log file, Prefect's API handler) ever sees one. Our error
texts are built from the status and the service's name, never from Apprise's words.

The message is the email's plain-text part, with mass mentions (@everyone, @here, @channel,
@all, <!channel>, <@id>) defused: Apprise hands text on to services that ping on them.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from claimwatch.flows.alerts import render
from claimwatch.flows.alerts.policy import Sent

LOGGERS = ("apprise", "urllib3", "requests")  # everything that may log the URL during a send
_URLLIB3_RESPONSE = '%s://%s:%s "%s %s %s" %s %s'  # connectionpool's request line; arg 6: status
_STATUS_IN_TEXT = re.compile(r"\berror=(\d{3})\b")  # Apprise's "Failed to send ...: error=503."
_MENTION = re.compile(r"@(everyone|here|channel|all|group|room)\b", re.IGNORECASE)
_LOCK = threading.Lock()  # loggers are process-wide: one capture at a time


@dataclass(frozen=True, slots=True)
class AppriseMessage:
    """What one Apprise notification says: a one-line title and a plain-text body."""

    title: str
    body: str


def defuse(text: str) -> str:
    """Mass mentions and Slack/Discord mention syntax made inert with a zero-width joiner."""
    text = _MENTION.sub("@\u2060\\1", text)
    return text.replace("<@", "<\u2060@").replace("<!", "<\u2060!")


def message(subject: str, text: str) -> AppriseMessage:
    """An email's subject (without the mail tag) and its plain-text part, defused."""
    title = render.header(subject.removeprefix("[claimwatch] "))
    return AppriseMessage(defuse(title), defuse(text))


# ---------------------------------------------------------------- what Apprise said


@dataclass(slots=True)
class _Seen:
    """What the captured records told us; the records themselves are never kept."""

    statuses: list[int] = field(default_factory=list)  # every HTTP answer, in order
    connection_error: bool = False


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen = _Seen()

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == _URLLIB3_RESPONSE and isinstance(record.args, tuple) \
                and len(record.args) == 8:
            status = str(record.args[6])
            if status.isdigit():
                self.seen.statuses.append(int(status))
            return
        if record.name.startswith("apprise") and record.levelno >= logging.WARNING:
            text = record.getMessage()
            found = _STATUS_IN_TEXT.search(text)
            if found and not self.seen.statuses:
                self.seen.statuses.append(int(found.group(1)))
            if "connection error" in text.lower():
                self.seen.connection_error = True


@contextmanager
def _captured() -> Iterator[_Seen]:
    """Every record of LOGGERS (and their children) goes to our capture only, until we leave."""
    capture = _Capture()
    with _LOCK:
        manager = logging.Logger.manager
        names = [n for n in list(manager.loggerDict)
                 if any(n == top or n.startswith(top + ".") for top in LOGGERS)]
        loggers = [logging.getLogger(n) for n in {*names, *LOGGERS}]
        saved = [(lg, lg.handlers[:], lg.propagate, lg.level, lg.disabled) for lg in loggers]
        try:
            for lg in loggers:
                top = lg.name in LOGGERS
                lg.handlers = [capture] if top else []
                lg.propagate = not top  # children pass up to their top logger, which stops
                lg.setLevel(logging.DEBUG if top else logging.NOTSET)
                lg.disabled = False
            yield capture.seen
        finally:
            for lg, handlers, propagate, level, disabled in saved:
                lg.handlers, lg.propagate, lg.disabled = handlers, propagate, disabled
                lg.setLevel(level)


# ---------------------------------------------------------------- sending


def _services(url: str) -> list[Any]:
    """The services Apprise makes of this URL (call inside _captured())."""
    # Apprise costs about a second to import and loads its plugins on first use: only
    # channels of this kind pay for it, when they send.
    import apprise

    bundle = apprise.Apprise(asset=apprise.AppriseAsset(storage_mode="memory"))
    bundle.add(url)
    return list(bundle)


def problem(url: str) -> str | None:
    """Why this value cannot serve as a channel's Apprise URL, in words holding none of it."""
    with _captured():
        try:
            services = _services(url)
        except Exception:  # an error's text may quote the URL: only say that it failed
            services = []
    if not services:
        return "Apprise does not understand the URL"
    if len(services) > 1:
        return (f"it holds {len(services)} Apprise URLs; a channel takes one (declare one "
                "channel per target: each is then retried on its own, never sent twice)")
    return None


def send_apprise(url: str, note: AppriseMessage, key: str, timeout_s: float = 10.0) -> Sent:
    """Notify one Apprise service; classify how it went for the outbox."""
    name = "Apprise"
    with _captured() as seen:
        try:
            (service,) = _services(url)
            name = f"Apprise ({render.one_line(str(service.service_name))[:40]})"
            _tune(service, key, timeout_s)
            ok = bool(service.notify(body=note.body, title=note.title, body_format="text"))
        except Exception as exc:  # its text may quote the URL: name the type only
            return Sent("retry", f"{name} raised {type(exc).__name__}")
    return outcome(name, ok, seen.statuses, seen.connection_error)


def _tune(service: Any, key: str, timeout_s: float) -> None:
    """Our timeouts (RELIABILITY: connect 5 s, answer within timeout_s) and, for the webhook
    kinds that take headers (json://, form://, xml://), the idempotency key as a header."""
    service.socket_connect_timeout = min(5.0, timeout_s)
    service.socket_read_timeout = timeout_s
    headers = getattr(service, "headers", None)
    if isinstance(headers, dict):
        headers["Idempotency-Key"] = key


def outcome(name: str, ok: bool, statuses: list[int], connection_error: bool) -> Sent:
    """sent / retry / failed from Apprise's answer and the HTTP statuses seen. Pure."""
    if ok:
        return Sent("sent")
    failed = [s for s in statuses if not 200 <= s < 300]
    if failed:
        status = failed[-1]
        if status in (408, 429) or status >= 500:
            return Sent("retry", f"{name} answered HTTP {status}")
        return Sent("failed", f"{name} answered HTTP {status}")  # 400, 401, 403, 404 ...
    if connection_error or not statuses:
        return Sent("retry", f"{name} could not be reached (refused, timed out or no answer)",
                    unreachable=True)
    return Sent("retry", f"{name} reported a failure without an HTTP error")
