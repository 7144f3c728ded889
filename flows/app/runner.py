"""One cycle run from the command line or the demo, with progress bars on a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from claimwatch.flows import settings
from claimwatch.flows.progress import on_terminal


def run_cycle(claims: Path, sources: Path, db_url: str | None, respect_backoff: bool = True,
              alerts_path: str | None = None, shard: str | None = None) -> dict[str, Any]:
    """Run one cycle through Prefect (a temporary local server when none is configured)."""
    settings.quiet_prefect()
    # Imported here: importing Prefect costs about 1.4 s, which only a cycle should pay.
    from claimwatch.flows.monitor import cycle

    with on_terminal():
        return cycle(claims_path=str(claims), sources_path=str(sources), db_url=db_url,
                     respect_backoff=respect_backoff, alerts_path=alerts_path, shard=shard)


def _sources_lines(p: dict[str, Any], r: dict[str, Any]) -> list[str]:
    """What the sources did, the headline first: a run where everything failed says so."""
    failed_feeds, failed_pages = len(p["failed"]), len(r["failed_pages"])
    pages = r.get("pages_read", 0) + failed_pages
    checked, failed = p["polled"] + pages, failed_feeds + failed_pages
    lines = []
    if checked and failed == checked:
        lines.append(f"  EVERY SOURCE FAILED: none of the {checked} source(s) could be read, so "
                     "nothing new was stored. The reasons are below; with no network at all, "
                     "every source fails this way.")
    elif failed:
        lines.append(f"  {failed} of {checked} sources failed (reasons below); "
                     "the others were read.")
    elif not checked:
        lines.append("  No source was due this cycle.")
    lines.append(f"  feeds polled: {p['polled']}  unchanged since last poll: {p['not_modified']}"
                 f"  failed: {failed_feeds}  ·  watched pages read: {pages}  failed: {failed_pages}")
    return lines


def summary_text(result: dict[str, Any]) -> str:
    p, r, m = result["poll"], result["read"], result["match"]
    lines = [f"claimwatch cycle {result['run_id']}", *_sources_lines(p, r)]
    failures = {**p["failed"], **r["failed_pages"]}
    lines += [f"    FAILED {name}: {reason}" for name, reason in sorted(failures.items())]
    lines += [f"    warning {name}: {text}" for name, text in sorted(p["warnings"].items())]
    if p["backing_off"]:
        lines.append(f"    backing off after errors, not polled: {', '.join(p['backing_off'])}")
    if p.get("resting"):
        lines.append(f"    not due yet (their interval): {', '.join(p['resting'])}")
    notices = [*p.get("notices", []), *r.get("notices", [])]  # health: said once, when it changes
    lines += [f"    {n['kind'].upper()} {n['text']}" for n in notices]
    lines.append(
        f"  new articles: {r['new_articles']}  new versions: {r['new_versions']}"
        f"  pages unreadable: {len(r['failed']) - len(r['failed_pages'])}"
    )
    lines.append(f"  matches: {m['matches']}  developments: {len(m['developments'])}")
    lines += [f"    MATCHING FAILED {url}: {why}" for url, why in sorted(m.get("failed", {}).items())]
    lines += [f"    #{d['id']} [{d['claim']}] {d['relation']}: {d['summary']}"
              for d in result["developments"]]
    return "\n".join(lines)
