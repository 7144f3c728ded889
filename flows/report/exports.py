"""Read the stored record into the shapes people and other tools see: export JSON and CLI text.

JSON keeps times in ISO 8601; text for people shows them as "2026-12-04 20:37 UTC" (times.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from claimwatch.flows.fetch.urls import without_userinfo
from claimwatch.flows.report.times import day, from_iso, iso, reported_at, shown
from claimwatch.flows.seeds import SourceSpec
from claimwatch.storage import articles as article_rows
from claimwatch.storage import claims as records
from claimwatch.storage import sources as source_rows
from claimwatch.storage.db import Engine, session
from claimwatch.storage.models import Article, ArticleVersion, Development, Match

EXPORT_DEVELOPMENT_KEYS = ("id", "claim", "relation", "summary", "facts", "first_seen_at", "urls")


def development_dict(dev: Development, sources: list[tuple[Match, ArticleVersion, Article]]
                     ) -> dict[str, Any]:
    reported = reported_at(dev.reported_at, [a.published_at for _, _, a in sources],
                           dev.first_seen_at)
    return {
        "id": dev.id, "claim": dev.claim_id, "relation": dev.relation, "summary": dev.summary,
        "facts": dict(dev.facts), "changes": dict(dev.changes),
        "first_seen_at": iso(dev.first_seen_at), "reported_at": iso(reported),
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
        "published_at": iso(a.published_at), "relation": m.relation, "evidence": m.evidence,
        "facts": dict(m.facts), "version": v.version, "development_id": m.development_id,
    }


def developments(engine: Engine, claim_id: str | None = None, since: datetime | None = None
                 ) -> list[dict[str, Any]]:
    with session(engine) as s:
        rows = records.developments_since(s, claim_id, since)
        return [development_dict(d, records.sources_of(s, d.id)) for d in rows]  # type: ignore[arg-type]


def claim_ids(engine: Engine) -> list[str]:
    """The ids of the stored claims, in order."""
    with session(engine) as s:
        return [c.id for c in records.claim_records(s)]


def claims(engine: Engine) -> list[dict[str, Any]]:
    """Each claim with its current state and its timeline of developments."""
    timeline = developments(engine)
    with session(engine) as s:
        return [
            {"id": c.id, "statement": c.statement, "facts": dict(c.facts), "state": dict(c.state),
             "timeline": [d for d in timeline if d["claim"] == c.id]}
            for c in records.claim_records(s)
        ]


def article_dict(article: Article, versions: Sequence[tuple[Any, ...]], listed: Sequence[str]
                 ) -> dict[str, Any]:
    """A stored article: the URL a feed listed it under, its canonical URL, and each version
    with when it was fetched and its text hash (the text itself stays in the database)."""
    return {
        "url": listed[0] if listed else article.url, "canonical_url": article.url,
        "listed_urls": list(listed), "title": article.title, "outlet": article.outlet,
        "published_at": iso(article.published_at), "first_seen_at": iso(article.first_seen_at),
        "versions": [{"version": number, "title": title, "fetched_at": iso(fetched),
                      "text_hash": text_hash} for number, title, text_hash, fetched in versions],
    }


def export(engine: Engine) -> dict[str, Any]:
    """The documented export shape (other tools read "claims", "matches", "developments"
    exactly so) and the whole archive of stored articles."""
    with session(engine) as s:
        matches = [match_dict(m, v, a) for m, v, a in records.all_matches(s)]
        claim_rows = [{"id": c.id, "statement": c.statement, "facts": dict(c.facts),
                       "state": dict(c.state)} for c in records.claim_records(s)]
        stored = [article_dict(*row) for row in article_rows.archive(s)]
    devs = [{k: d[k] for k in EXPORT_DEVELOPMENT_KEYS} for d in developments(engine)]
    return {"claims": claim_rows, "matches": matches, "developments": devs, "articles": stored}


def _facts_line(facts: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(facts.items())) or "(none)"


def developments_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No developments yet."
    out: list[str] = []
    for d in rows:
        out.append(f"#{d['id']} [{d['claim']}] {d['relation'].upper()}: {d['summary']}")
        seen = from_iso(d["first_seen_at"])
        news = from_iso(d["reported_at"])
        out.append(f"    reported {day(news)}, first seen {shown(seen)}; "
                   f"{len(d['urls'])} source(s)")
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
            news = from_iso(d["reported_at"])
            out.append(f"  {day(news)}  {d['relation']:<11} {d['summary']}"
                       f"  ({len(d['urls'])} source(s))")
        out.append("")
    return "\n".join(out).rstrip()


def _configured(spec: SourceSpec | None) -> str:
    if spec is None:
        return "  not in the sources file any more: never polled again"
    if not spec.enabled:
        return "  disabled in the sources file (enabled = false): not polled"
    return f"  polled every {spec.interval_min} minutes at most" if spec.interval_min else ""


def sources_text(engine: Engine, configured: Sequence[SourceSpec] | None = None) -> str:
    """Each source's last status, error score, last success and next poll; with the sources
    file's entries, which are disabled, polled less often, or no longer listed."""
    with session(engine) as s:
        rows = source_rows.all_sources(s)
    specs = {spec.url: spec for spec in configured or ()}
    unseen = [spec for url, spec in specs.items() if url not in {src.url for src in rows}]
    if not rows and not unseen:
        return "No sources stored yet: `claimwatch run` loads them from seeds/sources.toml."
    out = []
    for spec in unseen:
        out.append(f"{spec.name} [{spec.kind}] {spec.url}")
        out.append(_configured(spec) or "  never polled yet: the next `claimwatch run` polls it")
    for src in rows:
        out.append(f"{src.name} [{src.kind}] {without_userinfo(src.url)}")
        note = _configured(specs.get(src.url)) if configured is not None else ""
        if note:
            out.append(note)
        out.append(f"  last status: {src.last_status or 'never polled'}; error score "
                   f"{src.error_score:.1f} ({src.consecutive_failures} failure(s) in a row)")
        out.append(f"  last success: {shown(src.last_success_at, 'never')}; next poll: "
                   f"{shown(src.next_poll_at, 'next cycle')}")
    return "\n".join(out)
