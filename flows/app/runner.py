"""One cycle run from the command line or the demo: plainly, or through Prefect when it earns
its cost; with progress bars on a terminal.

Prefect earns its cost when there is a server to report to: $PREFECT_API_URL set, or `--prefect`
(which starts Prefect's temporary local server). Otherwise the same stages run as plain calls
(flows/cycle.py), without importing Prefect (1.4 s) or starting its temporary server (about ten
seconds, and a start-up race on a busy machine). When Prefect cannot be reached the cycle still
runs, plainly, and a line on stderr says so: monitoring never waits on the monitoring UI.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from claimwatch.flows import cycle, settings
from claimwatch.flows.fetch.http import healthy, make_client
from claimwatch.flows.fetch.urls import without_userinfo
from claimwatch.flows.progress import on_terminal

Say = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def through_prefect(asked: bool | None, api_url: str | None) -> bool:
    """--prefect / --no-prefect decide; unsaid, Prefect when $PREFECT_API_URL names a server."""
    return asked if asked is not None else bool(api_url)


def run_cycle(claims: Path, sources: Path, respect_backoff: bool = True,
              alerts_path: str | None = None, shard: str | None = None,
              prefect: bool | None = None, say: Say = _stderr) -> dict[str, Any]:
    """One cycle over the database settings name (see settings.database); what it did."""
    with on_terminal():
        if through_prefect(prefect, settings.prefect_api_url()):
            result = _through_prefect(claims, sources, respect_backoff, alerts_path, shard, say)
            if result is not None:
                return result
        return cycle.run(cycle.PLAIN, str(claims), str(sources), respect_backoff, alerts_path,
                         shard)


def _server_answers(api_url: str) -> bool:
    limits = replace(settings.FetchLimits(), connect_timeout_s=5.0, read_timeout_s=10.0)
    with make_client(limits, allow_private=True) as client:  # the user's own server
        return healthy(client, f"{api_url.rstrip('/')}/health")


def _through_prefect(claims: Path, sources: Path, respect_backoff: bool, alerts_path: str | None,
                     shard: str | None, say: Say) -> dict[str, Any] | None:
    """The cycle as a Prefect flow run; None (having said why) when Prefect is not there."""
    settings.quiet_prefect()
    api_url = settings.prefect_api_url()
    if api_url and not _server_answers(api_url):
        say(f"claimwatch: the Prefect server at {without_userinfo(api_url)} does not answer;"
            " this cycle runs without Prefect and will not show in its UI")
        return None
    # Imported here: importing Prefect costs about 1.4 s, which only a run through it should pay.
    from claimwatch.flows import monitor

    if not api_url and monitor.start_local_server() is None:
        say("claimwatch: Prefect's temporary server did not start within"
            f" {settings.local_server_start_s()} s (PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS);"
            " this cycle runs without Prefect")
        return None
    state = monitor.cycle(claims_path=str(claims), sources_path=str(sources),
                          respect_backoff=respect_backoff, alerts_path=alerts_path, shard=shard,
                          return_state=True)
    return monitor.outcome(state)


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
    lines += [f"    MATCHING FAILED {without_userinfo(url)}: {why}"
              for url, why in sorted(m.get("failed", {}).items())]
    lines += [f"    #{d['id']} [{d['claim']}] {d['relation']}: {d['summary']}"
              for d in result["developments"]]
    return "\n".join(lines)
