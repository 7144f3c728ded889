"""The `claimwatch` command line: its arguments, and the exit codes and errors people see."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from claimwatch.flows import settings
from claimwatch.flows.app.commands import (
    EXIT_BAD_INPUT,
    cmd_alerts,
    cmd_claims,
    cmd_db,
    cmd_demo,
    cmd_developments,
    cmd_export,
    cmd_report,
    cmd_run,
    cmd_serve,
    cmd_sources,
)
from claimwatch.flows.app.serve import DEFAULT_CRON, DIGEST_CRON
from claimwatch.flows.seeds import SeedError
from claimwatch.storage.db import DatabaseError

DESCRIPTION = "claimwatch keeps the claims of a brief honest: it polls news and alerts on changes."


def _prefect_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument("--prefect", action=argparse.BooleanOptionalAction, default=None,
                         help="run the cycle as a Prefect flow (default: only when "
                              "$PREFECT_API_URL names a server; --prefect alone starts "
                              "Prefect's temporary local server)")


def _report_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    page = sub.add_parser("report", parents=[common],
                          help="write the claim timeline report: one self-contained HTML file")
    page.add_argument("--out", type=Path, default=Path("claimwatch-report"), metavar="DIR",
                      help="folder for index.html (default: ./claimwatch-report)")
    page.add_argument("--claim", metavar="ID", help="only this claim")
    page.add_argument("--since", metavar="DATE", help="only developments since (ISO 8601)")
    page.set_defaults(func=cmd_report)


def _deploy_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser("serve", parents=[common],
                           help="run the monitor on a schedule on this machine (Prefect serve)")
    serve.add_argument("--claims", type=Path, default=settings.DEFAULT_CLAIMS)
    serve.add_argument("--sources", type=Path, default=settings.DEFAULT_SOURCES)
    serve.add_argument("--alerts", type=Path, metavar="FILE",
                       help="alert channels and policy (default: seeds/alerts.toml if present)")
    serve.add_argument("--cron", default=DEFAULT_CRON, help=f"when cycles run ({DEFAULT_CRON!r})")
    serve.add_argument("--digest-cron", default=DIGEST_CRON,
                       help=f"when the daily digest goes out ({DIGEST_CRON!r})")
    serve.set_defaults(func=cmd_serve)
    database = sub.add_parser("db", parents=[common], help="`db upgrade`: migrate the schema;"
                                                           " `db version`: show it")
    database.add_argument("action", choices=["upgrade", "version"])
    database.set_defaults(func=cmd_db)


def _alerts_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    alerts = sub.add_parser("alerts", parents=[common],
                            help="the alert outbox; `alerts retry`, `alerts test CHANNEL`")
    alerts.add_argument("action", nargs="?", choices=["retry", "test"])
    alerts.add_argument("channel", nargs="?", help="for `alerts test`: the channel's name")
    shown = alerts.add_mutually_exclusive_group()
    shown.add_argument("--pending", action="store_true", help="only alerts still owed")
    shown.add_argument("--failed", action="store_true", help="only alerts that failed")
    alerts.add_argument("--alerts", type=Path, metavar="FILE",
                        help="alert channels (default: seeds/alerts.toml if present)")
    alerts.add_argument("--json", action="store_true")
    alerts.set_defaults(func=cmd_alerts)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="claimwatch", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL",
                        help="SQLAlchemy URL (default: $CLAIMWATCH_DATABASE_URL or "
                             "SQLite in $CLAIMWATCH_HOME or ~/.claimwatch)")

    run = sub.add_parser("run", parents=[common], help="run one monitoring cycle")
    run.add_argument("--claims", type=Path, default=settings.DEFAULT_CLAIMS)
    run.add_argument("--sources", type=Path, default=settings.DEFAULT_SOURCES)
    run.add_argument("--all", action="store_true", help="poll sources that are backing off too")
    run.add_argument("--alerts", metavar="FILE",  # a str: Path("") would become "."
                     help="alert channels and policy (default: seeds/alerts.toml if present; "
                          "'' turns alerts off)")
    run.add_argument("--shard", metavar="K/N",
                     help="only the K-th of N parts of the sources, e.g. 2/4 (deploy/README.md)")
    _prefect_flag(run)
    run.set_defaults(func=cmd_run)

    _alerts_parser(sub, common)
    _deploy_parsers(sub, common)
    _report_parser(sub, common)

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
    _prefect_flag(demo)
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.func
    try:
        settings.environment()  # a bad CLAIMWATCH_* value is refused before anything starts
        return handler(args)
    except (SeedError, settings.SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except DatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
