"""The `claimwatch` command line: its arguments, help texts, exit codes and the errors people see."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from claimwatch.flows import settings
from claimwatch.flows.app.commands import (
    EXIT_BAD_INPUT,
    UsageError,
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

EXIT_PIPE_CLOSED = 141  # what a Unix tool killed by SIGPIPE exits with: the reader stopped early

DESCRIPTION = """\
claimwatch watches the news for the claims of a brief. It polls feeds and pages, reads each
new article, and records when a claim is confirmed, updated or contradicted (a development),
with the evidence and every source; it can alert Slack or email and write an HTML report."""

EPILOG = """\
examples:
  claimwatch demo                          see it work on a bundled offline news site
  claimwatch run                           one cycle: poll, read, match, alert
  claimwatch developments --since 2026-02-01
  claimwatch claims                        each claim, its facts now and its timeline
  claimwatch report --out site/            write site/index.html and site/developments.xml
  claimwatch export > archive.json         everything as JSON, articles included
  claimwatch sources add https://example.org/news --tag world
  claimwatch sources                       each source's health

files:     seeds/claims.toml, seeds/sources.toml, seeds/alerts.toml (--claims, --sources, --alerts)
database:  --db URL, else $CLAIMWATCH_DATABASE_URL, else ~/.claimwatch/claimwatch.db
exit codes: 0 done; 1 some source or alert failed; 2 bad input (a file, an option, the
            database); 141 the reader of the output stopped early (`| head`)
`claimwatch COMMAND --help` explains each command."""


def _command(sub: Any, common: argparse.ArgumentParser, name: str, summary: str,
             examples: Sequence[str], details: str = "") -> argparse.ArgumentParser:
    """A subcommand whose --help says what it does and shows how it is used."""
    epilog = "example" + ("s" if len(examples) > 1 else "") + ":\n" + "\n".join(
        f"  {line}" for line in examples)
    return sub.add_parser(name, parents=[common], help=summary,
                          description=summary[0].upper() + summary[1:] + "." + (
                              f"\n\n{details}" if details else ""),
                          epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)


def _prefect_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument("--prefect", action=argparse.BooleanOptionalAction, default=None,
                         help="run the cycle as a Prefect flow (default: only when "
                              "$PREFECT_API_URL names a server; --prefect alone starts "
                              "Prefect's temporary local server)")


def _seed_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--claims", type=Path, default=settings.DEFAULT_CLAIMS, metavar="FILE",
                        help="the claims to track (default: seeds/claims.toml)")
    parser.add_argument("--sources", type=Path, default=settings.DEFAULT_SOURCES, metavar="FILE",
                        help="the feeds and pages to poll (default: seeds/sources.toml)")


def _run_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    run = _command(sub, common, "run", "run one monitoring cycle: poll, read, match, alert",
                   ["claimwatch run", "claimwatch run --sources my-sources.toml --report site/",
                    "claimwatch run --all    # also poll sources backing off after errors"],
                   "Prints what each source did (failures with their reason), new articles,\n"
                   "matches and developments. Exit 1 when a source failed.")
    _seed_options(run)
    run.add_argument("--all", action="store_true",
                     help="poll every enabled source now, even those backing off after errors "
                          "or waiting for their interval")
    _prefect_flag(run)
    run.add_argument("--alerts", metavar="FILE",  # a str: Path("") would become "."
                     help="alert channels and policy (default: seeds/alerts.toml if present; "
                          "'' turns alerts off)")
    run.add_argument("--report", type=Path, metavar="DIR",
                     help="write the report into DIR after the cycle "
                          "(default: $CLAIMWATCH_REPORT_DIR, if set)")
    run.add_argument("--shard", metavar="K/N",
                     help="only the K-th of N parts of the sources, e.g. 2/4 (deploy/README.md)")
    run.set_defaults(func=cmd_run)

    serve = _command(sub, common, "serve", "run the cycle on a schedule on this machine",
                     ["claimwatch serve", "claimwatch serve --cron '*/30 * * * *' --report /srv/www/claims"],
                     "Keeps running until interrupted (Ctrl-C); uses $PREFECT_API_URL or starts a\n"
                     "local Prefect server. With --report, the report is rewritten after each cycle.")
    _seed_options(serve)
    serve.add_argument("--alerts", type=Path, metavar="FILE",
                       help="alert channels and policy (default: seeds/alerts.toml if present)")
    serve.add_argument("--cron", default=DEFAULT_CRON, help=f"when cycles run ({DEFAULT_CRON!r})")
    serve.add_argument("--digest-cron", default=DIGEST_CRON,
                       help=f"when the daily digest goes out ({DIGEST_CRON!r})")
    serve.add_argument("--report", type=Path, metavar="DIR",
                       help="write the report into DIR after each cycle "
                            "(default: $CLAIMWATCH_REPORT_DIR, if set)")
    serve.set_defaults(func=cmd_serve)

    demo = _command(sub, common, "demo", "run the pipeline on a bundled offline news site",
                    ["claimwatch demo"],
                    "Three rounds of a fictional site served on 127.0.0.1; its own database\n"
                    "(~/.claimwatch/demo.db), and it never sends alerts.")
    _prefect_flag(demo)
    demo.set_defaults(func=cmd_demo)


def _read_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    devs = _command(sub, common, "developments",
                    "list developments with their evidence, facts and sources",
                    ["claimwatch developments", "claimwatch developments --claim abu-dhabi-talks",
                     "claimwatch developments --since 2026-02-01 --json"])
    devs.add_argument("--claim", metavar="ID", help="only this claim")
    devs.add_argument("--since", metavar="DATE", help="only since this ISO 8601 date or time")
    devs.add_argument("--json", action="store_true", help="JSON instead of text")
    devs.set_defaults(func=cmd_developments)

    claims = _command(sub, common, "claims", "show each claim: its seed facts, its state now "
                      "and its timeline; `claims draft FILE` proposes claims from a brief",
                      ["claimwatch claims", "claimwatch claims draft new-brief.txt > claims.toml",
                       "claimwatch claims draft brief.txt --vocabulary vocabulary.toml > claims.toml"])
    claims.add_argument("action", nargs="?", choices=["draft"], help="draft: propose claims")
    claims.add_argument("file", nargs="?", type=Path, help="for draft: the brief, a text file")
    claims.add_argument("--vocabulary", type=Path, metavar="OUT",
                        help="with draft: also propose the brief's vocabulary file, written to OUT "
                             "(keep it beside claims.toml as vocabulary.toml)")
    claims.add_argument("--json", action="store_true", help="JSON instead of text")
    claims.set_defaults(func=cmd_claims)

    export = _command(sub, common, "export",
                      "write everything stored as JSON: claims, matches, developments, articles",
                      ["claimwatch export > archive.json", "claimwatch export | jq '.articles | length'"])
    export.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # old scripts pass it
    export.set_defaults(func=cmd_export)

    report = _command(sub, common, "report",
                      "write the report: index.html, an HTML timeline per claim, and "
                      "developments.xml, an Atom feed of developments",
                      ["claimwatch report", "claimwatch report --out site/ --since 2026-02-01",
                       "claimwatch report --claim abu-dhabi-talks"],
                      "One self-contained page (no scripts, nothing fetched) that reads on a\n"
                      "phone, and a feed any feed reader can subscribe to.")
    report.add_argument("--out", type=Path, default=Path("claimwatch-report"), metavar="DIR",
                        help="folder for index.html and developments.xml "
                             "(default: ./claimwatch-report)")
    report.add_argument("--claim", metavar="ID", help="only this claim")
    report.add_argument("--since", metavar="DATE", help="only developments since (ISO 8601)")
    report.set_defaults(func=cmd_report)


def _manage_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    sources = _command(
        sub, common, "sources", "show each source's health, or add, import and export sources",
        ["claimwatch sources",
         "claimwatch sources --sources my-sources.toml",
         "claimwatch sources add https://example.org/news --name 'Example News' --tag world",
         "claimwatch sources add https://example.org/live-page --page",
         "claimwatch sources import subscriptions.opml",
         "claimwatch sources export --opml > subscriptions.opml"],
        "add URL     a feed, or a page whose <link rel=\"alternate\"> names its feed; the URL is\n"
        "            fetched and checked first, then added to the sources file keeping its\n"
        "            comments and layout (--page watches the page itself instead)\n"
        "import FILE the feeds of an OPML file from a feed reader (categories become tags)\n"
        "export      the feeds as OPML 2.0, for a feed reader (--out FILE, else printed)")
    sources.add_argument("action", nargs="?", choices=["add", "import", "export"])
    sources.add_argument("target", nargs="?", metavar="URL|FILE",
                         help="add: the feed's or page's URL; import: the OPML file")
    sources.add_argument("--sources", type=Path, metavar="FILE",
                         help="the sources file to change (default: seeds/sources.toml); "
                              "without an action, also say which stored sources it disables, "
                              "polls less often or no longer lists")
    sources.add_argument("--name", help="add: the source's name (default: the feed's title)")
    sources.add_argument("--tag", action="append", default=[], metavar="TAG",
                         help="add: a tag (repeatable)")
    sources.add_argument("--page", action="store_true",
                         help="add: watch this page itself, not a feed")
    sources.add_argument("--interval", type=int, metavar="MINUTES",
                         help="add: minutes between polls (default: every cycle)")
    sources.add_argument("--opml", action="store_true", help="export: as OPML 2.0 (the default)")
    sources.add_argument("--out", type=Path, metavar="FILE", help="export: write FILE")
    sources.set_defaults(func=cmd_sources)

    alerts = _command(sub, common, "alerts",
                      "show the alert outbox; `alerts retry` sends what is owed now, "
                      "`alerts test CHANNEL` sends a test message",
                      ["claimwatch alerts --pending", "claimwatch alerts retry",
                       "claimwatch alerts test desk-slack"])
    alerts.add_argument("action", nargs="?", choices=["retry", "test"],
                        help="retry: send every owed alert now (pending and failed alike) "
                             "and list what went out; test: a test message to CHANNEL")
    alerts.add_argument("channel", nargs="?", help="for `alerts test`: the channel's name")
    shown = alerts.add_mutually_exclusive_group()
    shown.add_argument("--pending", action="store_true", help="only alerts still owed")
    shown.add_argument("--failed", action="store_true", help="only alerts that failed")
    alerts.add_argument("--alerts", type=Path, metavar="FILE",
                        help="alert channels (default: seeds/alerts.toml if present)")
    alerts.add_argument("--json", action="store_true", help="JSON instead of text")
    alerts.set_defaults(func=cmd_alerts)

    database = _command(sub, common, "db", "`db upgrade` migrates the database's schema; "
                        "`db version` shows it", ["claimwatch db upgrade",
                                                  "claimwatch db version --db postgresql+psycopg://claimwatch@db/claimwatch"])
    database.add_argument("action", choices=["upgrade", "version"])
    database.set_defaults(func=cmd_db)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="claimwatch", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL",
                        help="database URL (default: $CLAIMWATCH_DATABASE_URL, else SQLite at "
                             "$CLAIMWATCH_HOME/claimwatch.db or ~/.claimwatch/claimwatch.db)")
    _run_parsers(sub, common)
    _read_parsers(sub, common)
    _manage_parsers(sub, common)
    return parser


def _dispatch(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.func
    try:
        settings.environment()  # a bad CLAIMWATCH_* value is refused before anything starts
        return handler(args)
    except (SeedError, settings.SettingsError, UsageError, DatabaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _stdout_gone() -> None:
    """The reader of our output went away (`claimwatch export | head`): send what is left
    nowhere, so the interpreter's last flush cannot print a BrokenPipeError either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is no file (a test's capture)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _dispatch(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, inside the try, not at exit
    except BrokenPipeError:
        _stdout_gone()
        return EXIT_PIPE_CLOSED


if __name__ == "__main__":
    sys.exit(main())
