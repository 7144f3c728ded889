"""`python -m bench`: how fast and frugal one claimwatch cycle is, next to trafilatura alone.

Runs everything in one process on this machine and reports every figure beside the floor (default
trafilatura extraction over the same pages with the same number of processes) measured in the
same run, because absolute times on a shared machine are noise. Prints a table; writes JSON.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Before anything imports prefect: an offline, private Prefect home and no telemetry.
_TMP = Path(tempfile.mkdtemp(prefix="claimwatch-bench-"))
atexit.register(shutil.rmtree, _TMP, True)
os.environ.setdefault("PREFECT_HOME", str(_TMP / "prefect"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ["PREFECT_UI_ENABLED"] = "false"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("CLAIMWATCH_HOME", str(_TMP / "home"))

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict  # noqa: E402
from typing import Any  # noqa: E402

from bench import extraction, fixed_cost, layouts, matching, quality, site  # noqa: E402
from bench.table import render_table, verdicts  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--feeds", type=int, default=100, help="feeds in the end-to-end cycle")
    parser.add_argument("--articles", type=int, default=2000,
                        help="new articles in the end-to-end cycle (spread over --feeds)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="extraction processes, for the floor and for claimwatch alike")
    parser.add_argument("--rss-articles", type=int, default=10_000,
                        help="articles of the cycle that measures peak memory (0: skip)")
    parser.add_argument("--idle-feeds", type=int, default=1000,
                        help="feeds of the unchanged (304) and the new-items polls")
    parser.add_argument("--new-entries", type=int, default=20, help="new entries per feed")
    parser.add_argument("--match-articles", type=int, default=100,
                        help="corpus articles timed against each claim set")
    parser.add_argument("--quality-pages", type=int, default=0,
                        help="score extraction on the first N truth pages only (0: all 310)")
    parser.add_argument("--fixed-repeats", type=int, default=3,
                        help="runs of each fixed-cost figure (a cycle with nothing due)")
    parser.add_argument("--layout-pages", type=int, default=40,
                        help="annotated articles rendered in each synthesized layout "
                             f"({', '.join(layouts.LAYOUTS)})")
    parser.add_argument("--no-prefect", action="store_true",
                        help="skip the runs through Prefect's temporary server")
    parser.add_argument("--quick", action="store_true", help="small sizes: about a minute")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.feeds, args.articles, args.rss_articles = 20, 200, 0
        args.idle_feeds, args.match_articles, args.layout_pages = 200, 30, 8
    return args


def _say(what: str) -> None:
    print(f"bench: {what}", file=sys.stderr, flush=True)


EXTRACTORS = (("floor", extraction.default_text), ("claimwatch", extraction.claimwatch_text),
              ("fast_path", extraction.fast_path_text))


def _extraction(args: argparse.Namespace, pages: list[Path], truth: dict[str, Any],
                corpus: Path, e2e_pages: list[Path]) -> dict[str, Any]:
    html = extraction.load_pages(pages)
    layout_truth = truth
    if args.quality_pages:
        truth = dict(list(truth.items())[: args.quality_pages])
    truth_pages = [corpus / p for p in truth]
    out: dict[str, Any] = {}
    for name, fn in EXTRACTORS:
        _say(f"{name} extraction and quality over {len(truth_pages)} corpus pages")
        run = extraction.run(fn, truth_pages, html, args.processes)
        texts = dict(zip(truth, run.texts, strict=True))
        out[name] = {"corpus_pages_per_s": round(run.pages_per_s, 2),
                     "corpus_cpu_ms_per_page": round(run.cpu_ms_per_page, 2),
                     "quality": asdict(quality.score(texts, truth)),
                     "fallbacks": run.fallbacks, "_texts": texts}
    floor_texts = out["floor"]["_texts"]
    out["lost"] = {name: quality.lost(out[name]["_texts"], floor_texts, truth)
                   for name in ("claimwatch", "fast_path")}
    out["layouts"] = _layouts(args, layout_truth)
    _say(f"floor over the cycle's {len(e2e_pages)} pages")
    floor = extraction.run(extraction.default_text, e2e_pages, html, args.processes)
    out["floor"].update(pages=floor.pages, wall_s=round(floor.wall_s, 3),
                        pages_per_s=round(floor.pages_per_s, 2),
                        peak_rss_mb=round(floor.peak_rss_mb, 1))
    out["fast_path"].pop("_texts")
    return out


def _layouts(args: argparse.Namespace, truth: dict[str, Any]) -> dict[str, Any]:
    """The corpus's annotated articles in the layouts that cost fast extraction whole articles
    (bench/layouts.py): quality, speed and lost articles of the floor, claimwatch and its fast
    path, overall and per layout."""
    built = layouts.pages(truth, args.layout_pages)
    html = {page.name: page.html for page in built}
    truths = {page.name: {"kind": "full_text", "articleBody": page.truth} for page in built}
    names = [page.name for page in built]
    _say(f"extraction over {len(built)} synthesized pages ({args.layout_pages} per layout)")
    runs = {name: extraction.run(fn, names, html, args.processes) for name, fn in EXTRACTORS}
    texts = {name: dict(zip(names, run.texts, strict=True)) for name, run in runs.items()}
    out: dict[str, Any] = {"pages": len(built), "per_layout": args.layout_pages}
    for name, run in runs.items():
        scores = [quality.page_score(text or "", truths[page])
                  for page, text in texts[name].items()]
        out[name] = {"pages_per_s": round(run.pages_per_s, 2), "fallbacks": run.fallbacks,
                     "cpu_ms_per_page": round(run.cpu_ms_per_page, 2),
                     "token_f1": round(sum(scores) / len(scores), 4) if scores else 0.0}
    out["lost"] = {name: quality.lost(texts[name], texts["floor"], truths)
                   for name in ("claimwatch", "fast_path")}
    reasons = dict(zip(names, runs["claimwatch"].reasons, strict=True))
    out["by_layout"] = {
        layout: {"pages": sum(1 for p in built if p.layout == layout),
                 "fallbacks": sum(1 for p in built if p.layout == layout and reasons[p.name]),
                 **{f"lost_{name}": sum(1 for page in lost if page.startswith(layout + "/"))
                    for name, lost in out["lost"].items()}}
        for layout in layouts.LAYOUTS}
    return out


def _sources(tmp: Path, name: str, web: site.Site, feeds: int, items: int) -> Path:
    return web.write_sources(tmp / f"{name}.toml", feeds, items)


def _cycles(args: argparse.Namespace, web: site.Site, tmp: Path) -> dict[str, Any]:
    from bench import cycles

    exclude = (web.pid,) if web.pid else ()
    per_feed = math.ceil(args.articles / args.feeds)
    out: dict[str, Any] = {"articles_per_feed": per_feed}
    sources = _sources(tmp, "e2e", web, args.feeds, per_feed)
    _say("end-to-end cycle (direct)")
    out["end_to_end"] = cycles.run_cycle("direct", sources, f"sqlite:///{tmp}/e2e.db",
                                         exclude).figures()
    if args.rss_articles:
        rss_feeds = max(1, args.rss_articles // per_feed)
        _say(f"big cycle: {rss_feeds * per_feed} articles (direct)")
        big = _sources(tmp, "big", web, rss_feeds, per_feed)
        out["big"] = cycles.run_cycle("direct", big, f"sqlite:///{tmp}/big.db", exclude).figures()
    idle_db = f"sqlite:///{tmp}/idle.db"
    idle = _sources(tmp, "idle", web, args.idle_feeds, args.new_entries)
    _say(f"{args.idle_feeds} feeds: first poll, unchanged cycle, new items")
    first = cycles.run_polls(idle, idle_db, exclude)
    cycles.mark_items_read(idle_db)
    out["idle_first_poll"] = first.figures()
    out["unchanged"] = cycles.run_cycle("direct", idle, idle_db, exclude).figures()
    web.set_round(1)
    out["new_items"] = cycles.run_polls(idle, idle_db, exclude).figures()
    cycles.mark_items_read(idle_db)
    _say("fixed cost: `claimwatch run` with nothing due, beside a bare Prefect flow")
    out["fixed_cost"] = fixed_cost.measure(_sources(tmp, "fixed", web, 1, 1), tmp,
                                           args.fixed_repeats, prefect=not args.no_prefect)
    if not args.no_prefect:
        out.update(_prefect(args, web, tmp, exclude, sources, idle, idle_db))
    return out


def _prefect(args: argparse.Namespace, web: site.Site, tmp: Path, exclude: tuple[int, ...],
             sources: Path, idle: Path, idle_db: str) -> dict[str, Any]:
    from bench import cycles

    os.environ.pop("PREFECT_API_URL", None)  # the temporary local server, as a fresh clone has
    _say("Prefect: temporary server, cycles through the flow")
    tiny = _sources(tmp, "tiny", web, 1, 1)
    start = time.perf_counter()
    cycles.run_cycle("prefect", tiny, f"sqlite:///{tmp}/tiny.db", exclude)
    out: dict[str, Any] = {"prefect_start_s": round(time.perf_counter() - start, 3)}
    if not args.quick:  # the quick run keeps only the short unchanged cycle through Prefect
        out["end_to_end_prefect"] = cycles.run_cycle("prefect", sources,
                                                     f"sqlite:///{tmp}/e2e-p.db", exclude).figures()
    out["unchanged_prefect"] = cycles.run_cycle("prefect", idle, idle_db, exclude).figures()
    return out


def _matching(args: argparse.Namespace, texts: dict[str, str | None]) -> list[dict[str, Any]]:
    from claimwatch.flows.engine.claims import ArticleText

    found = [ArticleText(page, "", text) for page, text in sorted(texts.items()) if text]
    step = max(1, len(found) // max(1, args.match_articles))
    chosen = found[::step][: args.match_articles] + matching.demo_articles()
    return [asdict(t) for t in matching.time_matching(chosen, (10, 50, 200))]


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    corpus = site.corpus_dir()
    truth = quality.load_truth(corpus)
    pages = site.corpus_pages(corpus)
    per_feed = math.ceil(args.articles / args.feeds)
    e2e_pages = [pages[site.page_index(f, 0, j, len(pages))]
                 for f in range(args.feeds) for j in range(per_feed)]
    os.environ["CLAIMWATCH_EXTRACT_WORKERS"] = str(args.processes)
    started = time.perf_counter()
    results: dict[str, Any] = {"cores": os.cpu_count(), "processes": args.processes,
                               "feeds": args.feeds, "articles": len(e2e_pages),
                               "quick": args.quick, "python": sys.version.split()[0]}
    print(f"bench: {os.cpu_count()} cores, {args.processes} extraction processes, "
          f"{len(e2e_pages)} articles over {args.feeds} feeds", file=sys.stderr)
    results["extraction"] = _extraction(args, pages, truth, corpus, e2e_pages)
    texts = results["extraction"]["claimwatch"].pop("_texts")
    results["extraction"]["floor"].pop("_texts")
    with tempfile.TemporaryDirectory(prefix="claimwatch-bench-") as tmp, \
            site.Site(corpus) as web:
        results.update(_cycles(args, web, Path(tmp)))
    _say("matching")
    results["matching"] = _matching(args, texts)
    results["total_s"] = round(time.perf_counter() - started, 1)
    results["verdicts"] = verdicts(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1))
    print(render_table(results))
    print(f"\nJSON: {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
