"""An alert row -> what it says (render.AlertView), read fresh from the record at send time."""

from __future__ import annotations

from typing import Any

from claimwatch.flows.alerts import mail, render, slack
from claimwatch.flows.alerts.policy import Channel
from claimwatch.flows.report.links import claim_url
from claimwatch.storage import alerts as rows
from claimwatch.storage import claims, sources
from claimwatch.storage.db import Session
from claimwatch.storage.models import Alert, Article, ArticleVersion, Match, utcnow


def render_message(s: Session, alert: Alert, channel: Channel) -> Any:
    """The Slack payload or mail.EmailContent for an alert row."""
    if alert.kind == "digest":
        items = rows.digest_items(s, alert.id)
        found = [v for v in (view(s, i) for i in items[: channel.digest_max_items]) if v]
        digest = render.DigestView(alert.idempotency_key, tuple(found), len(items), channel.name)
        return slack.slack_digest(digest) if channel.kind == "slack" else mail.email_digest(digest)
    if alert.kind == "ops":
        notice = render.NoticeView(alert.idempotency_key, alert.relation or "", alert.reason,
                                   alert.created_at or utcnow())
        return slack.slack_notice(notice) if channel.kind == "slack" else mail.email_notice(notice)
    found_view = view(s, alert)
    if found_view is None:
        return None
    return slack.slack(found_view) if channel.kind == "slack" else mail.email(found_view)


def _evidence(s: Session, found: list[tuple[Match, ArticleVersion, Article]]
              ) -> tuple[render.Evidence, ...]:
    return tuple(render.Evidence(sentence=m.evidence, title=v.title or a.title,
                                 outlet=a.outlet or sources.source_name_of_article(s, a.id),
                                 url=a.url, relation=m.relation) for m, v, a in found)


def view(s: Session, alert: Alert) -> render.AlertView | None:
    """What an alert says, from its development or its confirming match."""
    claim = claims.claim(s, alert.claim_id)
    if claim is None:
        return None
    if alert.development_id is not None:
        dev = claims.development(s, alert.development_id)
        if dev is None:
            return None
        found = claims.sources_of(s, alert.development_id)
        changes = {k: (v[0], v[1]) for k, v in dict(dev.changes).items()}
        return render.AlertView(
            alert.idempotency_key, claim.id, claim.statement, dev.relation, dev.summary, changes,
            _evidence(s, found), len({a.id for _, _, a in found}) or 1,
            dev.first_seen_at or utcnow(), alert.reason, claim_url(claim.id))
    match = claims.match_with_article(s, alert.match_id)
    if match is None:
        return None
    return render.AlertView(
        alert.idempotency_key, claim.id, claim.statement, "confirms", "confirmed", {},
        _evidence(s, [match]), claims.confirming_articles(s, claim.id) or 1,
        match[0].matched_at or utcnow(), alert.reason, claim_url(claim.id))
