"""`claimwatch demo`: the whole pipeline against a bundled offline site, round by round."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from claimwatch.flows import settings
from claimwatch.flows.app.demo_site import DemoSite
from claimwatch.flows.app.runner import run_cycle
from claimwatch.flows.report import exports
from claimwatch.storage.db import engine_for


def demo_database(explicit: str | None) -> str:
    """The demo's own SQLite file (reset each time), so it never mixes with real monitoring."""
    if explicit:
        return explicit
    path = settings.data_dir() / "demo.db"
    for leftover in (path, path.with_name("demo.db-wal"), path.with_name("demo.db-shm")):
        leftover.unlink(missing_ok=True)
    return f"sqlite:///{path}"


def run_demo(db: str | None, say: Callable[[str], None], prefect: bool | None = None) -> int:
    """Serve each round of the demo site on 127.0.0.1, run a cycle, show what moved.

    prefect: as `claimwatch run --prefect` (None: through Prefect only when a server is set).
    """
    db_url = demo_database(db)
    with tempfile.TemporaryDirectory(prefix="claimwatch-demo-") as tmp, DemoSite() as site, \
            settings.database(db_url):
        sources = Path(tmp) / "sources.toml"
        site.write_sources(sources)
        say(f"Demo site on {site.base_url} ({site.rounds} rounds); database {db_url}")
        for n in range(1, site.rounds + 1):
            site.set_round(n)
            say(f"\n=== Round {n} of {site.rounds} ===")
            # alerts_path="": the demo's fictional news must never reach a real channel.
            result = run_cycle(settings.DEFAULT_CLAIMS, sources, alerts_path="", prefect=prefect)
            read, matched = result["read"], result["match"]
            say(f"new articles {read['new_articles']}, new versions {read['new_versions']}, "
                f"matches {matched['matches']}, developments {len(matched['developments'])}")
            for dev in result["developments"]:
                say(f"  #{dev['id']} [{dev['claim']}] {dev['relation']}: {dev['summary']}")
        say("\nClaims now:\n")
        say(exports.claims_text(exports.claims(engine_for(db_url))))
    say(f"\nExplore: claimwatch developments --db {db_url}")
    return 0
