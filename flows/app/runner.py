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


def summary_text(result: dict[str, Any]) -> str:
    p, r, m = result["poll"], result["read"], result["match"]
    lines = [
        f"claimwatch cycle {result['run_id']}",
        f"  feeds polled: {p['polled']}  not modified: {p['not_modified']}"
        f"  sources failed: {len(p['failed']) + len(r['failed_pages'])}"
        f"  backing off: {len(p['backing_off'])}",
    ]
    failures = {**p["failed"], **r["failed_pages"]}
    lines += [f"    FAILED {name}: {reason}" for name, reason in sorted(failures.items())]
    lines += [f"    warning {name}: {text}" for name, text in sorted(p["warnings"].items())]
    if p["backing_off"]:
        lines.append(f"    backing off after errors: {', '.join(p['backing_off'])}")
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
