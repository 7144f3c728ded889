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

from claimwatch.flows import settings
from claimwatch.flows.seeds import SeedError, load_claims, load_sources

EXIT_OK, EXIT_FAILED_SOURCES, EXIT_BAD_INPUT = 0, 1, 2


def _quiet_prefect() -> None:
    """Prefect offline and calm by default; the user's own settings win."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_UVICORN_LEVEL", "ERROR")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")


def _engine(args: argparse.Namespace) -> Any:
    from claimwatch.storage import db

    return db.engine_for(settings.database_url(args.db))


def _summary_text(result: dict[str, Any]) -> str:
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


def run_cycle(claims: Path, sources: Path, db_url: str | None, respect_backoff: bool = True,
              alerts_path: str | None = None, shard: str | None = None) -> dict[str, Any]:
    """Run one cycle through Prefect (a temporary local server when none is configured)."""
    _quiet_prefect()
    from claimwatch.flows.monitor import cycle
    from claimwatch.flows.progress import on_terminal

    with on_terminal():
        return cycle(claims_path=str(claims), sources_path=str(sources), db_url=db_url,
                     respect_backoff=respect_backoff, alerts_path=alerts_path, shard=shard)


def cmd_run(args: argparse.Namespace) -> int:
    load_claims(args.claims)  # fail fast, before Prefect starts or anything is written
    load_sources(args.sources)
    from claimwatch.flows.alerts import channels

    alerts_path = None if args.alerts is None else str(args.alerts)
    channels.resolve(alerts_path)  # a bad alerts.toml fails here too
    result = run_cycle(args.claims, args.sources, settings.database_url(args.db),
                       respect_backoff=not args.all, alerts_path=alerts_path, shard=args.shard)
    if "busy" in result:  # another cycle holds these sources: nothing done, nothing wrong
        print(result["busy"])
        return EXIT_OK
    print(_summary_text(result))
    if result.get("alerts"):
        from claimwatch.flows.alerts import outbox

        print("\n".join(f"  {line}" for line in outbox.report(result["alerts"])))
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
    from claimwatch.flows.report import exports

    rows = exports.developments(_engine(args), args.claim, _since(args.since))
    print(json.dumps(rows, indent=2, ensure_ascii=False) if args.json
          else exports.developments_text(rows))
    return EXIT_OK


def cmd_claims(args: argparse.Namespace) -> int:
    from claimwatch.flows.report import exports

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
    from claimwatch.flows.engine import drafting

    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SystemExit(f"error: {file}: {exc.strerror}") from None
    print(drafting.draft(text))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from claimwatch.flows.report import exports

    print(json.dumps(exports.export(_engine(args)), indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_sources(args: argparse.Namespace) -> int:
    from claimwatch.flows.report import exports

    print(exports.sources_text(_engine(args)))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from claimwatch.flows.report import report

    print(report.write(_engine(args), args.out, args.claim, _since(args.since)))
    return EXIT_OK


def _report_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    page = sub.add_parser("report", parents=[common],
                          help="write the claim timeline report: one self-contained HTML file")
    page.add_argument("--out", type=Path, default=Path("claimwatch-report"), metavar="DIR",
                      help="folder for index.html (default: ./claimwatch-report)")
    page.add_argument("--claim", metavar="ID", help="only this claim")
    page.add_argument("--since", metavar="DATE", help="only developments since (ISO 8601)")
    page.set_defaults(func=cmd_report)


def cmd_demo(args: argparse.Namespace) -> int:
    from claimwatch.flows.app.demo import run_demo

    return run_demo(args.db, print)


def cmd_serve(args: argparse.Namespace) -> int:
    load_claims(args.claims)  # fail fast, before Prefect starts
    load_sources(args.sources)
    _quiet_prefect()
    from claimwatch.flows.app.serve import serve

    serve(args.claims, args.sources, args.alerts, args.db, args.cron, args.digest_cron)
    return EXIT_OK


def cmd_db(args: argparse.Namespace) -> int:
    from claimwatch.storage import db, schema

    url = settings.database_url(args.db)
    engine, where = db.connect(url), db.redact(url)
    if args.action == "upgrade":
        before, after = schema.upgrade(engine)
        print(f"{where}: schema version {after}" + (
            " (already up to date)" if before == after else f" (was {before or 'empty'})"))
        return EXIT_OK
    found = schema.version(engine)
    print(f"{where}: schema version {found.current or 'none (empty database)'};"
          f" this claimwatch knows up to {found.head}")
    if found.current is not None and not schema.known(found.current):
        print("error: the database is newer than this claimwatch", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _deploy_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    from claimwatch.flows.app.serve import DEFAULT_CRON, DIGEST_CRON

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


def _alerts_config(args: argparse.Namespace) -> Any:
    from claimwatch.flows.alerts import channels

    config = channels.resolve(None if args.alerts is None else str(args.alerts))
    if config is None:
        raise SystemExit("error: no alerts file: pass --alerts FILE or create seeds/alerts.toml")
    return config


def _alert_line(row: dict[str, Any]) -> str:
    what = f"{row['kind']} {row['claim'] or ''} {row['relation'] or ''}".strip()
    if row["kind"] == "digest":
        what = f"digest of {row['items']}"
    when = row["sent_at"] or (f"next {row['next_attempt_at']}" if row["next_attempt_at"] else "")
    error = f"\n      last error: {row['last_error']}" if row["last_error"] else ""
    return (f"  #{row['id']} {row['channel']}: {what} [{row['status']}] attempts {row['attempts']}"
            f" {when}{error}")


def cmd_alerts(args: argparse.Namespace) -> int:
    from claimwatch.flows.alerts import outbox

    now = datetime.now(UTC)
    if args.action == "test":
        if not args.channel:
            raise SystemExit("error: alerts test needs a CHANNEL name")
        sent = outbox.send_test(_alerts_config(args), args.channel, now)
        print(f"test message to {args.channel}: {sent.outcome}"
              + (f" ({sent.error})" if sent.error else ""))
        return EXIT_OK if sent.outcome == "sent" else EXIT_FAILED_SOURCES
    engine = _engine(args)
    if args.action == "retry":
        config = _alerts_config(args)
        print(f"{outbox.retry_failed(engine, now)} failed alert(s) queued again")
        summary = outbox.deliver(engine, config)
        print("\n".join(outbox.report(summary)))
        return EXIT_FAILED_SOURCES if summary.failed else EXIT_OK
    rows = outbox.listing(engine, "pending" if args.pending else "failed" if args.failed else None)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print("\n".join(_alert_line(r) for r in rows) if rows else "No alerts.")
    return EXIT_OK


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
    run.add_argument("--alerts", metavar="FILE",  # a str: Path("") would become "."
                     help="alert channels and policy (default: seeds/alerts.toml if present; "
                          "'' turns alerts off)")
    run.add_argument("--shard", metavar="K/N",
                     help="only the K-th of N parts of the sources, e.g. 2/4 (deploy/README.md)")
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
        from claimwatch.storage.db import DatabaseError

        if isinstance(exc, DatabaseError):
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        raise


if __name__ == "__main__":
    sys.exit(main())
