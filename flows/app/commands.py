"""What each `claimwatch` command does: read the arguments, call the work, print the outcome.

Arguments are checked before anything is opened, and commands that only read refuse a
database that does not exist (naming its path) instead of creating an empty one: only `run`,
`serve`, `demo` and `db upgrade` create a database.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claimwatch.flows import settings, shards
from claimwatch.flows.alerts import config as alert_config
from claimwatch.flows.alerts import delivery, outbox, policy
from claimwatch.flows.app import demo, runner, serve
from claimwatch.flows.app import sources as source_files
from claimwatch.flows.app.usage import EXIT_BAD_INPUT, EXIT_FAILED_SOURCES, EXIT_OK, UsageError
from claimwatch.flows.engine import drafting
from claimwatch.flows.report import exports, publish
from claimwatch.flows.report.times import shown
from claimwatch.flows.seeds import SourceSpec, load_claims, load_sources
from claimwatch.storage import db, schema


def _engine(args: argparse.Namespace) -> Any:
    """The database for a command that writes (run, demo, db upgrade): created when absent."""
    return db.engine_for(settings.database_url(args.db))


def _existing(args: argparse.Namespace) -> Any:
    """The database for a command that reads: an error naming the path when it does not exist."""
    url = settings.database_url(args.db)
    absent = db.missing_file(url)
    if absent is not None:
        raise UsageError(f"no claimwatch database at {absent} (nothing was created): check --db or "
                         "$CLAIMWATCH_DATABASE_URL, or create it with `claimwatch run`")
    return db.engine_for(url)


def _warn_unmatched_tags(config: policy.AlertsConfig | None, specs: Sequence[SourceSpec],
                         path: Path) -> None:
    """A channel whose only_tags no source carries would never hear anything: say so."""
    if config is None:
        return
    tags = {tag for spec in specs for tag in spec.tags}
    for name, wanted in alert_config.unmatched_tags(config, tags).items():
        print(f"warning: alert channel {name!r} has only_tags {', '.join(wanted)}, which no "
              f"source in {path} carries: it will hear about nothing", file=sys.stderr)


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--since {value!r} is not a date: use ISO 8601, e.g. 2026-02-01 "
                         "or 2026-02-01T09:30") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _known_claim(engine: Any, claim_id: str | None) -> None:
    """An unknown --claim is a mistake to point out, not an empty answer."""
    if not claim_id:
        return
    known = exports.claim_ids(engine)
    if claim_id not in known:
        listed = ", ".join(known) if known else "none stored yet (`claimwatch run` loads them)"
        raise UsageError(f"unknown claim {claim_id!r}; known claims: {listed}")


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _report_dir(value: Path | None) -> str | None:
    """`--report DIR` on run and serve: the report is written there after each cycle. It
    travels in the environment, as the database URL does, to the flow and its subprocesses."""
    return str(value.expanduser().resolve()) if value else None


def cmd_run(args: argparse.Namespace) -> int:
    load_claims(args.claims)  # fail fast, before Prefect starts or anything is written
    alerts_path = None if args.alerts is None else str(args.alerts)
    config = alert_config.resolve(alerts_path)  # a bad alerts.toml fails here too
    _warn_unmatched_tags(config, load_sources(args.sources).sources, args.sources)
    try:
        shards.parse(args.shard)
    except ValueError as exc:
        raise UsageError(f"--shard: {exc}") from None
    # --db travels in this process's environment, never as a (Prefect) parameter.
    with settings.database(args.db), \
            settings.exported("CLAIMWATCH_REPORT_DIR", _report_dir(args.report)):
        result = runner.run_cycle(args.claims, args.sources, respect_backoff=not args.all,
                                  alerts_path=alerts_path, shard=args.shard, prefect=args.prefect)
        written = settings.report_dir()
    if "busy" in result:  # another cycle holds these sources: nothing done, nothing wrong
        print(result["busy"])
        return EXIT_OK
    print(runner.summary_text(result))
    if result.get("alerts"):
        print("\n".join(f"  {line}" for line in outbox.report(result["alerts"])))
    if written is not None:
        print(f"  report: {written / publish.INDEX} and {written / publish.FEED}")
    failed = result["poll"]["failed"] or result["read"]["failed_pages"]
    return EXIT_FAILED_SOURCES if failed else EXIT_OK


def cmd_developments(args: argparse.Namespace) -> int:
    since = _since(args.since)
    engine = _existing(args)
    _known_claim(engine, args.claim)
    rows = exports.developments(engine, args.claim, since)
    if args.json:
        _print_json(rows)
    else:
        print(exports.developments_text(rows))
    return EXIT_OK


def cmd_claims(args: argparse.Namespace) -> int:
    if args.action == "draft":
        return _draft(args.file, args.vocabulary)
    if args.file is not None:
        raise UsageError(f"unexpected argument {str(args.file)!r}: did you mean `claims draft FILE`?")
    rows = exports.claims(_existing(args))
    if not rows:
        print("No claims stored yet: `claimwatch run` loads them from seeds/claims.toml.")
        return EXIT_OK
    if args.json:
        _print_json(rows)
    else:
        print(exports.claims_text(rows))
    return EXIT_OK


def _draft(file: Path | None, vocabulary_out: Path | None = None) -> int:
    if file is None:
        raise UsageError("claims draft needs a FILE (the brief to draft claims from)")
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{file}: {exc.strerror}") from None
    if vocabulary_out is not None:
        if vocabulary_out.exists():
            raise UsageError(f"{vocabulary_out} exists; move it away or name another file")
        vocabulary_out.write_text(drafting.vocabulary(text), encoding="utf-8")
        print(f"# vocabulary proposed in {vocabulary_out}", file=sys.stderr)
    print(drafting.draft(text))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    _print_json(exports.export(_existing(args)))  # JSON whether or not --json is given
    return EXIT_OK


def cmd_sources(args: argparse.Namespace) -> int:
    if args.action is not None:
        args.sources = args.sources or settings.DEFAULT_SOURCES
        return source_files.run(args, print)
    source_files.refuse_options(args, None)
    # Compared with a sources file only when one is named: the cycles may have run on another.
    configured = load_sources(args.sources).sources if args.sources else None
    print(exports.sources_text(_existing(args), configured))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    since = _since(args.since)
    engine = _existing(args)
    _known_claim(engine, args.claim)
    try:
        written = publish.write(engine, args.out, args.claim, since)
    except OSError as exc:
        raise UsageError(f"cannot write the report into {args.out}: {exc.strerror or exc}") from None
    print(written)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    return demo.run_demo(args.db, print, prefect=args.prefect)


def cmd_serve(args: argparse.Namespace) -> int:
    load_claims(args.claims)  # fail fast, before Prefect starts
    load_sources(args.sources)
    settings.quiet_prefect()
    if args.report:
        settings.export("CLAIMWATCH_REPORT_DIR", _report_dir(args.report) or "")
    written = settings.report_dir()
    where = written / publish.INDEX if written else "off (--report DIR or CLAIMWATCH_REPORT_DIR)"
    print(f"claimwatch serve: a cycle on {args.cron!r}; the report after each cycle: {where}",
          flush=True)
    serve.serve(args.claims, args.sources, args.alerts, args.db, args.cron, args.digest_cron)
    return EXIT_OK


def cmd_db(args: argparse.Namespace) -> int:
    url = settings.database_url(args.db)
    where = db.redact(url)
    if args.action == "upgrade":
        before, after = schema.upgrade(db.connect(url))
        print(f"{where}: schema version {after}" + (
            " (already up to date)" if before == after else f" (was {before or 'empty'})"))
        return EXIT_OK
    absent = db.missing_file(url)
    if absent is not None:
        raise UsageError(f"no claimwatch database at {absent} (nothing was created)")
    found = schema.version(db.connect(url))
    print(f"{where}: schema version {found.current or 'none (empty database)'};"
          f" this claimwatch knows up to {found.head}")
    if found.current is not None and not schema.known(found.current):
        print("error: the database is newer than this claimwatch", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _alerts_config(args: argparse.Namespace) -> policy.AlertsConfig:
    config = alert_config.resolve(None if args.alerts is None else str(args.alerts))
    if config is None:
        raise UsageError("no alerts file: pass --alerts FILE or create seeds/alerts.toml")
    return config


def _moment(value: Any) -> str:
    """A time from an outbox row (ISO text or a datetime) as people read it."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return shown(value) if isinstance(value, datetime) else ""


def _alert_line(row: dict[str, Any]) -> str:
    what = f"{row['kind']} {row['claim'] or ''} {row['relation'] or ''}".strip()
    if row["kind"] == "digest":
        what = f"digest of {row['items']}"
    elif row["kind"] == "confirmations":
        what = f"{row['items']} confirmations of {row['claim']}"
    when = (f"sent {_moment(row['sent_at'])}" if row["sent_at"] else
            f"next {_moment(row['next_attempt_at'])}" if row["next_attempt_at"] else "")
    error = f"\n      last error: {row['last_error']}" if row["last_error"] else ""
    return (f"  #{row['id']} {row['channel']}: {what} [{row['status']}] attempts {row['attempts']}"
            f" {when}{error}")


def _retry(engine: Any, config: policy.AlertsConfig, now: datetime) -> int:
    """Send what is owed now, pending and failed alike, and say what went out. Exit 1 while
    something is still owed or failed."""
    pending, failed = outbox.retry_owed(engine, now)
    if not pending + failed:
        print("Nothing was owed.")
    else:
        print(f"Sending what is owed now: {pending} pending and {failed} failed alert(s).")
    summary = delivery.deliver(engine, config)
    print("\n".join([*(f"sent {line}" for line in summary.delivered), *outbox.report(summary)]))
    return EXIT_FAILED_SOURCES if summary.failed or summary.pending else EXIT_OK


def cmd_alerts(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    if args.action == "test":
        if not args.channel:
            raise UsageError("alerts test needs a CHANNEL name (a [[channels]] name in alerts.toml)")
        sent = delivery.send_test(_alerts_config(args), args.channel, now)
        print(f"test message to {args.channel}: {sent.outcome}"
              + (f" ({sent.error})" if sent.error else ""))
        return EXIT_OK if sent.outcome == "sent" else EXIT_FAILED_SOURCES
    if args.action == "retry":
        return _retry(_existing(args), _alerts_config(args), now)
    rows = outbox.listing(_existing(args), "pending" if args.pending else
                          "failed" if args.failed else None)
    if args.json:
        _print_json(rows)
    else:
        print("\n".join(_alert_line(r) for r in rows) if rows else "No alerts.")
    return EXIT_OK
