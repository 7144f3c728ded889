"""Time `claimwatch report` on a database of 10,000 matches (the issue asks for under 5 s).

    .venv/bin/python -m bench.report_bench [--matches N] [--claims N] [--runs N]

Builds a real SQLite file in a temp folder: claims with developments, articles from a dozen
outlets (some syndicated copies, some edited into a second version), matches spread over 60 days
and over every relation; then times load (three queries) and render+write, separately.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from claimwatch.flows.report import report
from claimwatch.storage.db import engine_for, session
from claimwatch.storage.models import Article, ArticleVersion, ClaimRecord, Development, Match

START = datetime(2026, 1, 1, 8, tzinfo=UTC)
OUTLETS = ("Harbor Wire", "Kyiv Ledger", "Capitol Record", "Gulf Courier", "Baltic Post",
           "Metro Daily", "Atlas News", "The Observer Desk", "River Times", "Northern Herald",
           "Plains Gazette", None)
RELATIONS = ("confirms", "mentions", "updates", "contradicts")
WEIGHTS = (50, 30, 15, 5)
DAYS = 60
SENTENCE = ("Officials said the {n}th round of talks in the Emirati capital would now take place "
            "on {d}, after delegations asked for more time to prepare the agenda.")


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _rows(matches: int, claims: int, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    claim_rows = [{"id": f"claim-{c:03d}", "statement": f"Claim {c}: talks are set for a date.",
                   "keywords": [], "facts": {"status": "scheduled", "date": "2026-02-04"},
                   "state": {"status": "held", "date": "2026-02-10"}, "added_at": START}
                  for c in range(claims)]
    devs_per_claim = 20
    dev_rows = []
    for c in range(claims):
        for k in range(devs_per_claim):
            relation = "contradicts" if k % 7 == 6 else "updates"
            dev_rows.append({"id": len(dev_rows) + 1, "claim_id": f"claim-{c:03d}",
                             "relation": relation, "summary": f"date: day {k} → day {k + 1}",
                             "changes": {"date": [f"2026-02-{k + 1:02d}", f"2026-02-{k + 2:02d}"]},
                             "facts": {"date": f"2026-02-{k + 2:02d}"},
                             "first_seen_at": START + timedelta(days=k * DAYS // devs_per_claim,
                                                                hours=rng.randrange(24))})
    articles, versions, match_rows = [], [], []
    prints = [_signed(rng.getrandbits(64)) for _ in range(matches // 2)]
    for m in range(matches):
        a = len(articles) + 1
        day = rng.randrange(DAYS)
        published = START + timedelta(days=day, minutes=rng.randrange(1440))
        articles.append({"id": a, "url": f"https://news{a % 97}.example/story/{a}",
                         "title": f"Story {a}: talks move on", "outlet": rng.choice(OUTLETS),
                         "published_at": published, "first_seen_at": published,
                         "latest_version": 1})
        # Half the articles are syndicated copies of another's text (a near-duplicate print).
        fingerprint = rng.choice(prints) ^ (1 << rng.randrange(60))
        versions.append({"id": a, "article_id": a, "version": 1, "title": "", "text": "x" * 3000,
                         "text_hash": f"{a:064x}", "fingerprint": _signed(fingerprint & (2**64 - 1)),
                         "fetched_at": published, "matched_at": published})
        claim = rng.randrange(claims)
        relation = rng.choices(RELATIONS, WEIGHTS)[0]
        dev = None
        if relation != "mentions" and rng.random() < 0.6:
            dev = claim * devs_per_claim + rng.randrange(devs_per_claim) + 1
        match_rows.append({"claim_id": f"claim-{claim:03d}", "article_version_id": a,
                           "relation": relation, "score": 0.8, "facts": {},
                           "evidence": SENTENCE.format(n=m, d=published.date()),
                           "development_id": dev, "matched_at": published})
    return {"claim": claim_rows, "development": dev_rows, "article": articles,
            "article_version": versions, "match": match_rows}


def build(url: str, matches: int, claims: int, seed: int = 7) -> None:
    rows = _rows(matches, claims, random.Random(seed))
    tables = {"claim": ClaimRecord, "development": Development, "article": Article,
              "article_version": ArticleVersion, "match": Match}
    with session(engine_for(url)) as s:
        for name, model in tables.items():
            s.connection().execute(insert(model.__table__), rows[name])  # type: ignore[attr-defined]


def _timed(fn: Any, *args: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - started, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=10_000)
    parser.add_argument("--claims", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="claimwatch-report-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        build_s, _ = _timed(lambda: build(url, args.matches, args.claims))
        engine = engine_for(url)
        loads, renders, totals, size = [], [], [], 0
        for _ in range(args.runs):
            load_s, rep = _timed(report.load, engine)
            render_s, _ = _timed(report.render, rep)
            total_s, path = _timed(report.write, engine, Path(tmp) / "out")
            loads.append(load_s)
            renders.append(render_s)
            totals.append(total_s)
            size = path.stat().st_size
    print(f"report bench: {args.matches:,} matches, {args.claims} claims, "
          f"{args.claims * 20} developments (database built in {build_s:.1f} s)")
    print(f"  load (3 queries + build): median {statistics.median(loads):.2f} s")
    print(f"  render (Jinja2 + SVG):    median {statistics.median(renders):.2f} s")
    print(f"  report.write end to end:  median {statistics.median(totals):.2f} s, "
          f"max {max(totals):.2f} s over {args.runs} runs; index.html {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
