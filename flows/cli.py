"""The `claimwatch` command: argument parsing and printing only; the work lives elsewhere."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows import settings
from flows.seeds import SeedError, load_claims, load_sources

EXIT_OK, EXIT_FAILED_SOURCES, EXIT_BAD_INPUT = 0, 1, 2


def _quiet_prefect() -> None:
    """Prefect offline and calm by default; the user's own settings win."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_UVICORN_LEVEL", "ERROR")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")


def _engine(args: argparse.Namespace) -> Any:
    from storage import db

    return db.engine_for(settings.database_url(args.db))


def _summary_text(result: dict[str, Any]) -> str:
    p, r, m = result["poll"], result["read"], result["match"]
    lines = [
        f"claimwatch cycle {result['run_id']}",
        f"  sources polled: {p['polled']}  not modified: {p['not_modified']}"
        f"  failed: {len(p['failed']) + len(r['failed_pages'])}"
        f"  backing off: {len(p['backing_off'])}",
    ]
    failures = {**p["failed"], **r["failed_pages"]}
    lines += [f"    FAILED {name}: {reason}" for name, reason in sorted(failures.items())]
    lines += [f"    warning {name}: {text}" for name, text in sorted(p["warnings"].items())]
    if p["backing_off"]:
        lines.append(f"    backing off after errors: {', '.join(p['backing_off'])}")
    lines.append(
        f"  new articles: {r['new_articles']}  new versions: {r['new_versions']}"
        f"  pages unreadable: {len(r['failed']) - len(r['failed_pages'])}"
    )
    lines.append(f"  matches: {m['matches']}  developments: {len(m['developments'])}")
    lines += [f"    #{d['id']} [{d['claim']}] {d['relation']}: {d['summary']}"
              for d in result["developments"]]
    return "\n".join(lines)


def run_cycle(claims: Path, sources: Path, db_url: str | None, respect_backoff: bool = True
              ) -> dict[str, Any]:
    """Run one cycle through Prefect (a temporary local server when none is configured)."""
    _quiet_prefect()
    from flows.monitor import cycle
    from flows.progress import on_terminal

    with on_terminal():
        return cycle(claims_path=str(claims), sources_path=str(sources), db_url=db_url,
                     respect_backoff=respect_backoff)


def cmd_run(args: argparse.Namespace) -> int:
    load_claims(args.claims)  # fail fast, before Prefect starts or anything is written
    load_sources(args.sources)
    result = run_cycle(args.claims, args.sources, settings.database_url(args.db),
                       respect_backoff=not args.all)
    print(_summary_text(result))
    failed = result["poll"]["failed"] or result["read"]["failed_pages"]
    return EXIT_FAILED_SOURCES if failed else EXIT_OK


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SystemExit(f"error: --since {value!r} is not an ISO 8601 date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_developments(args: argparse.Namespace) -> int:
    from flows import exports

    rows = exports.developments(_engine(args), args.claim, _since(args.since))
    print(json.dumps(rows, indent=2, ensure_ascii=False) if args.json
          else exports.developments_text(rows))
    return EXIT_OK


def cmd_claims(args: argparse.Namespace) -> int:
    from flows import exports

    if args.action == "draft":
        return _draft(args.file)
    rows = exports.claims(_engine(args))
    if not rows:
        print("No claims stored yet: `claimwatch run` loads them from seeds/claims.toml.")
        return EXIT_OK
    print(json.dumps(rows, indent=2, ensure_ascii=False) if args.json else exports.claims_text(rows))
    return EXIT_OK


def _draft(file: Path | None) -> int:
    if file is None:
        raise SystemExit("error: claims draft needs a FILE (the brief to draft claims from)")
    from flows import drafting

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SystemExit(f"error: {file}: {exc.strerror}") from None
    print(drafting.draft(text))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from flows import exports

    print(json.dumps(exports.export(_engine(args)), indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_sources(args: argparse.Namespace) -> int:
    from flows import exports

    print(exports.sources_text(_engine(args)))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from flows.demo import run_demo

    return run_demo(args.db, print)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="claimwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL",
                        help="SQLAlchemy URL (default: $CLAIMWATCH_DATABASE_URL or "
                             "SQLite in $CLAIMWATCH_HOME or ~/.claimwatch)")

    run = sub.add_parser("run", parents=[common], help="run one monitoring cycle")
    run.add_argument("--claims", type=Path, default=settings.DEFAULT_CLAIMS)
    run.add_argument("--sources", type=Path, default=settings.DEFAULT_SOURCES)
    run.add_argument("--all", action="store_true", help="poll sources that are backing off too")
    run.set_defaults(func=cmd_run)

    devs = sub.add_parser("developments", parents=[common], help="list developments with evidence")
    devs.add_argument("--claim", metavar="ID")
    devs.add_argument("--since", metavar="DATE", help="ISO 8601 date or time")
    devs.add_argument("--json", action="store_true")
    devs.set_defaults(func=cmd_developments)

    claims = sub.add_parser("claims", parents=[common], help="claims with current state; "
                                                             "`claims draft FILE` proposes claims")
    claims.add_argument("action", nargs="?", choices=["draft"])
    claims.add_argument("file", nargs="?", type=Path)
    claims.add_argument("--json", action="store_true")
    claims.set_defaults(func=cmd_claims)

    export = sub.add_parser("export", parents=[common], help="everything as JSON")
    export.add_argument("--json", action="store_true", required=True)
    export.set_defaults(func=cmd_export)

    sources = sub.add_parser("sources", parents=[common], help="each source's health")
    sources.set_defaults(func=cmd_sources)

    demo = sub.add_parser("demo", parents=[common], help="run the pipeline on a bundled offline site")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.func
    try:
        return handler(args)
    except SeedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from storage.db import DatabaseError

        if isinstance(exc, DatabaseError):
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        raise


if __name__ == "__main__":
    sys.exit(main())
