"""Read the stored record into the shapes people and other tools see: export JSON and CLI text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from claimwatch.flows.fetch.urls import without_userinfo
from claimwatch.storage import claims as records
from claimwatch.storage import sources as source_rows
from claimwatch.storage.db import Engine, session
from claimwatch.storage.models import Article, ArticleVersion, Development, Match


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def development_dict(dev: Development, sources: list[tuple[Match, ArticleVersion, Article]]
                     ) -> dict[str, Any]:
    return {
        "id": dev.id, "claim": dev.claim_id, "relation": dev.relation, "summary": dev.summary,
        "facts": dict(dev.facts), "changes": dict(dev.changes),
        "first_seen_at": _iso(dev.first_seen_at),
        "urls": list(dict.fromkeys(a.url for _, _, a in sources)),
        "evidence": [
            {"url": a.url, "title": v.title or a.title, "outlet": a.outlet,
             "relation": m.relation, "sentence": m.evidence, "facts": dict(m.facts)}
            for m, v, a in sources
        ],
    }


def match_dict(m: Match, v: ArticleVersion, a: Article) -> dict[str, Any]:
    return {
        "claim": m.claim_id, "url": a.url, "title": v.title or a.title,
        "published_at": _iso(a.published_at), "relation": m.relation, "evidence": m.evidence,
        "facts": dict(m.facts), "version": v.version, "development_id": m.development_id,
    }


def developments(engine: Engine, claim_id: str | None = None, since: datetime | None = None
                 ) -> list[dict[str, Any]]:
    with session(engine) as s:
        rows = records.developments_since(s, claim_id, since)
        return [development_dict(d, records.sources_of(s, d.id)) for d in rows]  # type: ignore[arg-type]


def claims(engine: Engine) -> list[dict[str, Any]]:
    """Each claim with its current state and its timeline of developments."""
    timeline = developments(engine)
    with session(engine) as s:
        return [
            {"id": c.id, "statement": c.statement, "facts": dict(c.facts), "state": dict(c.state),
             "timeline": [d for d in timeline if d["claim"] == c.id]}
            for c in records.claim_records(s)
        ]


def export(engine: Engine) -> dict[str, Any]:
    """Exactly the documented export shape; other tools read it."""
    with session(engine) as s:
        matches = [match_dict(m, v, a) for m, v, a in records.all_matches(s)]
        claim_rows = [{"id": c.id, "statement": c.statement, "facts": dict(c.facts),
                       "state": dict(c.state)} for c in records.claim_records(s)]
    devs = [
        {k: d[k] for k in ("id", "claim", "relation", "summary", "facts", "first_seen_at", "urls")}
        for d in developments(engine)
    ]
    return {"claims": claim_rows, "matches": matches, "developments": devs}


def _facts_line(facts: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(facts.items())) or "(none)"


def developments_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No developments yet."
    out: list[str] = []
    for d in rows:
        out.append(f"#{d['id']} [{d['claim']}] {d['relation'].upper()}: {d['summary']}")
        out.append(f"    first seen {d['first_seen_at']}; {len(d['urls'])} source(s)")
        for ev in d["evidence"]:
            out.append(f"    - \"{ev['sentence']}\"")
            out.append(f"      {ev['title']} ({ev['outlet'] or 'unknown outlet'}) {ev['url']}")
            out.append(f"      facts: {_facts_line(ev['facts'])}")
    return "\n".join(out)


def claims_text(rows: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for c in rows:
        moved = c["state"] != c["facts"]
        out.append(f"{c['id']}{'  (updated)' if moved else ''}")
        out.append(f"  {c['statement']}")
        out.append(f"  seed:  {_facts_line(c['facts'])}")
        out.append(f"  now:   {_facts_line(c['state'])}")
        for d in c["timeline"]:
            out.append(f"  {d['first_seen_at'][:16]}  {d['relation']:<11} {d['summary']}"
                       f"  ({len(d['urls'])} source(s))")
        out.append("")
    return "\n".join(out).rstrip()


def sources_text(engine: Engine) -> str:
    """Each source's last status, error score, last success and next poll."""
    with session(engine) as s:
        rows = source_rows.all_sources(s)
    if not rows:
        return "No sources stored yet: `claimwatch run` loads them from seeds/sources.toml."
    out = []
    for src in rows:
        out.append(f"{src.name} [{src.kind}] {without_userinfo(src.url)}")
        out.append(f"  last status: {src.last_status or 'never polled'}; error score "
                   f"{src.error_score:.1f} ({src.consecutive_failures} failure(s) in a row)")
        out.append(f"  last success: {_iso(src.last_success_at) or 'never'}; next poll: "
                   f"{_iso(src.next_poll_at) or 'next cycle'}")
    return "\n".join(out)
