"""What each `claimwatch` command does: read the arguments, call the work, print the outcome."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claimwatch.flows import settings, shards
from claimwatch.flows.alerts import config as alert_config
from claimwatch.flows.alerts import delivery, outbox, policy
from claimwatch.flows.app import demo, runner, serve
from claimwatch.flows.engine import drafting
from claimwatch.flows.report import exports, report
from claimwatch.flows.seeds import load_claims, load_sources
from claimwatch.storage import db, schema

EXIT_OK, EXIT_FAILED_SOURCES, EXIT_BAD_INPUT = 0, 1, 2


def _engine(args: argparse.Namespace) -> Any:
    return db.engine_for(settings.database_url(args.db))


def cmd_run(args: argparse.Namespace) -> int:
    load_claims(args.claims)  # fail fast, before Prefect starts or anything is written
    load_sources(args.sources)
    alerts_path = None if args.alerts is None else str(args.alerts)
    alert_config.resolve(alerts_path)  # a bad alerts.toml fails here too
    try:
        shards.parse(args.shard)
    except ValueError as exc:
        print(f"error: --shard: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    # --db travels in this process's environment, never as a (Prefect) parameter.
    with settings.database(args.db):
        result = runner.run_cycle(args.claims, args.sources, respect_backoff=not args.all,
                                  alerts_path=alerts_path, shard=args.shard, prefect=args.prefect)
    if "busy" in result:  # another cycle holds these sources: nothing done, nothing wrong
        print(result["busy"])
        return EXIT_OK
    print(runner.summary_text(result))
    if result.get("alerts"):
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
    rows = exports.developments(_engine(args), args.claim, _since(args.since))
    print(json.dumps(rows, indent=2, ensure_ascii=False) if args.json
          else exports.developments_text(rows))
    return EXIT_OK


def cmd_claims(args: argparse.Namespace) -> int:
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
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SystemExit(f"error: {file}: {exc.strerror}") from None
    print(drafting.draft(text))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    print(json.dumps(exports.export(_engine(args)), indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_sources(args: argparse.Namespace) -> int:
    print(exports.sources_text(_engine(args)))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    print(report.write(_engine(args), args.out, args.claim, _since(args.since)))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    return demo.run_demo(args.db, print, prefect=args.prefect)


def cmd_serve(args: argparse.Namespace) -> int:
    load_claims(args.claims)  # fail fast, before Prefect starts
    load_sources(args.sources)
    settings.quiet_prefect()
    serve.serve(args.claims, args.sources, args.alerts, args.db, args.cron, args.digest_cron)
    return EXIT_OK


def cmd_db(args: argparse.Namespace) -> int:
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


def _alerts_config(args: argparse.Namespace) -> policy.AlertsConfig:
    config = alert_config.resolve(None if args.alerts is None else str(args.alerts))
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
    now = datetime.now(UTC)
    if args.action == "test":
        if not args.channel:
            raise SystemExit("error: alerts test needs a CHANNEL name")
        sent = delivery.send_test(_alerts_config(args), args.channel, now)
        print(f"test message to {args.channel}: {sent.outcome}"
              + (f" ({sent.error})" if sent.error else ""))
        return EXIT_OK if sent.outcome == "sent" else EXIT_FAILED_SOURCES
    engine = _engine(args)
    if args.action == "retry":
        config = _alerts_config(args)
        print(f"{outbox.retry_failed(engine, now)} failed alert(s) queued again")
        summary = delivery.deliver(engine, config)
        print("\n".join(outbox.report(summary)))
        return EXIT_FAILED_SOURCES if summary.failed else EXIT_OK
    rows = outbox.listing(engine, "pending" if args.pending else "failed" if args.failed else None)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print("\n".join(_alert_line(r) for r in rows) if rows else "No alerts.")
    return EXIT_OK
