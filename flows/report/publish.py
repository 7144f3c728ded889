"""The report's files, written together: index.html and developments.xml (its Atom feed).

`claimwatch report` writes them on demand; after each cycle they are rewritten where
$CLAIMWATCH_REPORT_DIR says (`run --report DIR`, `serve --report DIR`), so the page alerts
link to stays fresh. Each file is replaced whole (a reader never sees half a page).
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path

from claimwatch.flows import settings
from claimwatch.flows.report import atom, report
from claimwatch.storage.db import Engine

INDEX, FEED = report.INDEX, atom.FEED
log = logging.getLogger("claimwatch.report")


def _replace(target: Path, data: bytes) -> None:
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def write(engine: Engine, out_dir: Path, claim_id: str | None = None,
          since: datetime | None = None, now: datetime | None = None) -> Path:
    """Write out_dir/index.html and out_dir/developments.xml; the path of index.html."""
    rendered = report.load(engine, claim_id, since, now)
    index_url = settings.report_url()
    out_dir.mkdir(parents=True, exist_ok=True)
    location = index_url or out_dir.resolve().as_uri()
    _replace(out_dir / FEED, atom.render(rendered, location, index_url))
    _replace(out_dir / INDEX, report.render(rendered).encode("utf-8"))
    return out_dir / INDEX


def after_cycle(engine: Engine) -> Path | None:
    """Rewrite the report where it is configured to live; a report that cannot be written is
    logged and the cycle goes on (what it stored is safe in the database)."""
    directory = settings.report_dir()
    if directory is None:
        return None
    try:
        return write(engine, directory)
    except OSError as exc:
        log.warning("the report could not be written into %s: %s", directory, exc.strerror or exc)
        return None
