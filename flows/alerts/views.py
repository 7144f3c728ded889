"""An alert row -> what it says (render.AlertView), read fresh from the record at send time.

Confirmations are folded: a message carries one line (or, alone, one alert) per claim for the
confirmations it holds, listing the articles that just confirmed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from claimwatch.flows.alerts import mail, render, slack
from claimwatch.flows.alerts.policy import Channel
from claimwatch.flows.report.links import claim_url
from claimwatch.storage import alerts as rows
from claimwatch.storage import claims, sources
from claimwatch.storage.db import Session
from claimwatch.storage.models import Alert, Article, ArticleVersion, Match, utcnow


def render_message(s: Session, alert: Alert, channel: Channel) -> Any:
    """The Slack payload, or mail.EmailContent (email and Apprise), for an alert row."""
    as_slack = channel.kind == "slack"
    if alert.kind == "digest":
        shown, total = digest_lines(s, rows.digest_items(s, alert.id), channel.digest_max_items)
        digest = render.DigestView(alert.idempotency_key, tuple(shown), total, channel.name)
        return slack.slack_digest(digest) if as_slack else mail.email_digest(digest)
    if alert.kind == "ops":
        notice = render.NoticeView(alert.idempotency_key, alert.relation or "", alert.reason,
                                   alert.created_at or utcnow())
        return slack.slack_notice(notice) if as_slack else mail.email_notice(notice)
    found_view = view(s, alert)
    if found_view is None:
        return None
    return slack.slack(found_view) if as_slack else mail.email(found_view)


def digest_lines(s: Session, items: Sequence[Alert], limit: int
                 ) -> tuple[list[render.AlertView], int]:
    """The first `limit` lines of a digest and how many lines it has: each development on its
    own, a claim's confirmations folded into one line where the first of them stood."""
    order: list[Alert | list[Alert]] = []
    folded: dict[str, list[Alert]] = {}
    for item in items:
        if item.kind == "confirmation" and item.claim_id:
            if item.claim_id not in folded:
                folded[item.claim_id] = []
                order.append(folded[item.claim_id])
            folded[item.claim_id].append(item)
        else:
            order.append(item)
    shown = [confirmations(s, o[0].idempotency_key, o) if isinstance(o, list) else view(s, o)
             for o in order[:limit]]
    return [v for v in shown if v is not None], len(order)


def _evidence(s: Session, found: list[tuple[Match, ArticleVersion, Article]]
              ) -> tuple[render.Evidence, ...]:
    return tuple(render.Evidence(sentence=m.evidence, title=v.title or a.title,
                                 outlet=a.outlet or sources.source_name_of_article(s, a.id),
                                 url=a.url, relation=m.relation) for m, v, a in found)


def view(s: Session, alert: Alert) -> render.AlertView | None:
    """What an alert says, from its development or its confirmations."""
    if alert.kind == "confirmation":
        return confirmations(s, alert.idempotency_key, [alert])
    if alert.kind == "confirmations":
        return confirmations(s, alert.idempotency_key, rows.digest_items(s, alert.id))
    claim = claims.claim(s, alert.claim_id)
    dev = claims.development(s, alert.development_id)
    if claim is None or dev is None or dev.id is None:
        return None
    found = claims.sources_of(s, dev.id)
    changes = {k: (v[0], v[1]) for k, v in dict(dev.changes).items()}
    return render.AlertView(
        alert.idempotency_key, claim.id, claim.statement, dev.relation, dev.summary, changes,
        _evidence(s, found), len({a.id for _, _, a in found}) or 1,
        dev.first_seen_at or utcnow(), alert.reason, claim_url(claim.id))


def confirmations(s: Session, key: str, items: Sequence[Alert]) -> render.AlertView | None:
    """Confirmation rows of one claim as one view: the articles that just confirmed it (each
    once, whichever of its versions or items confirmed), their count, and the claim's total."""
    claim = claims.claim(s, items[0].claim_id if items else None)
    found = [m for m in (claims.match_with_article(s, i.match_id) for i in items) if m]
    if claim is None or not found:
        return None
    by_article: dict[int | None, tuple[Match, ArticleVersion, Article]] = {}
    for match in found:
        by_article.setdefault(match[2].id, match)
    evidence = _evidence(s, list(by_article.values()))
    first = min((m.matched_at for m, _, _ in found if m.matched_at), default=None)
    note = "; ".join(sorted({i.reason for i in items if i.reason}))
    total = max(claims.confirming_articles(s, claim.id), len(evidence))
    return render.AlertView(key, claim.id, claim.statement, "confirms", "confirmed", {},
                            evidence, total, first or utcnow(), note, claim_url(claim.id))
