"""The benchmark's figures as one table, each beside the floor, and the targets' verdicts."""

from __future__ import annotations

from typing import Any

TARGET_F1 = 0.95
TARGET_IDLE_S = 10.0
TARGET_MATCH_MS = 20.0
TARGET_RSS_MB = 500.0
TARGET_FIXED_S = 3.0  # a `claimwatch run` with nothing due, wall time, quiet machine (issue 14)
LABELS = {"floor": "floor", "claimwatch": "claimwatch",
          "fast_path": "claimwatch's fast path alone (no fallback)"}


def _rate(run: dict[str, Any]) -> float:
    return (run.get("read") or 0) / run["wall_s"] if run.get("wall_s") else 0.0


def _pages(seconds: float, floor: float) -> str:
    """A duration as the number of pages the floor extracts in it."""
    return f"= {seconds * floor:,.0f} floor pages"


def bounding_stage(run: dict[str, Any]) -> str:
    """The stage with the most wall time, and how busy the extraction workers kept the cores."""
    stages = run.get("stages_s") or {}
    if not stages:
        return "unknown"
    name, seconds = max(stages.items(), key=lambda kv: kv[1])
    return f"{name} ({seconds / run['wall_s']:.0%} of the cycle)"


def verdicts(r: dict[str, Any]) -> dict[str, Any]:
    """Each target with the measured value and whether it is met."""
    floor = r["extraction"]["floor"]["pages_per_s"]
    out: dict[str, Any] = {}
    e2e = r.get("end_to_end")
    if e2e:
        out["end_to_end_vs_floor"] = {"value": round(_rate(e2e) / floor, 3), "target": ">= 1.0",
                                      "met": _rate(e2e) >= floor}
    f1 = r["extraction"]["claimwatch"]["quality"]["full_text_f1_aeb"]
    out["quality_token_f1"] = {"value": f1, "target": f">= {TARGET_F1}", "met": f1 >= TARGET_F1}
    lost = lost_articles(r["extraction"])
    if lost is not None:
        out["lost_articles"] = {"value": lost, "target": "0 (corpus and synthesized layouts)",
                                "met": lost == 0}
    unchanged = r.get("unchanged_prefect") or r.get("unchanged")  # as production runs it
    if unchanged:
        wall = unchanged["wall_s"]
        out["unchanged_feeds_s"] = {"value": wall, "feeds": unchanged["polled"],
                                    "mode": unchanged["mode"], "target": f"<= {TARGET_IDLE_S}",
                                    "met": wall <= TARGET_IDLE_S}
    fifty = next((m for m in r.get("matching", []) if m["claims"] == 50), None)
    if fifty:
        out["match_50_claims_median_ms"] = {"value": fifty["median_ms"],
                                            "target": f"<= {TARGET_MATCH_MS}",
                                            "met": fifty["median_ms"] <= TARGET_MATCH_MS}
    fixed = r.get("fixed_cost", {}).get("claimwatch_run")
    if fixed:
        out["fixed_cost_s"] = {"value": fixed["wall_s"], "target": f"<= {TARGET_FIXED_S}",
                               "met": fixed["wall_s"] <= TARGET_FIXED_S}
    if "big" in r:
        rss = r["big"]["peak_rss_mb"]
        out["peak_rss_mb"] = {"value": rss, "articles": r["big"]["read"],
                              "target": f"<= {TARGET_RSS_MB}", "met": rss <= TARGET_RSS_MB}
    return out


def lost_articles(ex: dict[str, Any], name: str = "claimwatch") -> int | None:
    """Pages of the corpus and of the synthesized layouts where `name` lost the article."""
    if "lost" not in ex:
        return None
    return len(ex["lost"][name]) + len(ex.get("layouts", {}).get("lost", {}).get(name, []))


def _extraction_rows(ex: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Lost articles, the fallback's cost and the synthesized layouts, beside the floor."""
    if "lost" not in ex:
        return []
    corpus_pages = ex["floor"]["quality"]["aeb_pages"] + ex["floor"]["quality"]["np4k_pages"] \
        + ex["floor"]["quality"]["snippets_pages"]
    lay = ex["layouts"]
    fast, full = ex["fast_path"]["corpus_cpu_ms_per_page"], ex["claimwatch"]["corpus_cpu_ms_per_page"]
    rows = [("lost articles: claimwatch < 0.5 token F1 where the floor >= 0.8, corpus / layouts",
             f"{len(ex['lost']['claimwatch'])} of {corpus_pages} / "
             f"{len(lay['lost']['claimwatch'])} of {lay['pages']}",
             f"fast path alone: {len(ex['lost']['fast_path'])} / "
             f"{len(lay['lost']['fast_path'])}"),
            ("  pages that fell back to trafilatura's default mode: corpus / layouts",
             f"{ex['claimwatch']['fallbacks']} / {lay['claimwatch']['fallbacks']}",
             f"cost on the corpus: {full - fast:+.1f} ms CPU a page ({full / fast - 1:+.0%})"
             if fast else "")]
    labels = {**LABELS, "fast_path": "fast path alone"}
    for name in ("floor", "claimwatch", "fast_path"):
        cpu, floor_cpu = lay[name]["cpu_ms_per_page"], lay["floor"]["cpu_ms_per_page"]
        rows.append((f"synthesized layouts, {lay['pages']} pages: {labels[name]} token F1, "
                     "speed, CPU a page",
                     f"{lay[name]['token_f1']:.3f}, {lay[name]['pages_per_s']:.1f} pages/s, "
                     f"{cpu:.1f} ms", f"{floor_cpu / cpu:.2f}x floor (CPU)" if cpu else ""))
    for layout, counts in lay["by_layout"].items():
        rows.append((f"  layout {layout}: lost (claimwatch / fast path), fallbacks",
                     f"{counts['lost_claimwatch']} / {counts['lost_fast_path']}, "
                     f"{counts['fallbacks']} of {counts['pages']}", ""))
    return rows


def _cycle_rows(name: str, run: dict[str, Any], floor: float, floor_rss: float
                ) -> list[tuple[str, str, str]]:
    rows = [(f"{name}: articles/s ({run['read']} read, {run['new_articles']} new)",
             f"{_rate(run):.1f}", f"{_rate(run) / floor:.2f}x floor"),
            (f"{name}: wall", f"{run['wall_s']:.1f} s", _pages(run["wall_s"], floor))]
    for stage, seconds in run["stages_s"].items():
        rows.append((f"  stage {stage}", f"{seconds:.2f} s", _pages(seconds, floor)))
    store = sum(run["store_s"].values())
    rows += [("  of which ingest writes (store_poll/store_read)", f"{store:.2f} s",
              _pages(store, floor)),
             ("  main process CPU / page-fetch CPU", f"{run['main_process_cpu_s']:.1f} / "
              f"{run['page_fetch_cpu_s']:.1f} s", ""),
             ("  extraction workers CPU", f"{run['child_processes_cpu_s']:.1f} s", ""),
             (f"{name}: peak RSS, whole process tree", f"{run['peak_rss_mb']:.0f} MB",
              f"{run['peak_rss_mb'] / floor_rss:.2f}x floor RSS")]
    return rows


def fixed_cost_rows(f: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The fixed cost of a cycle with nothing due, each figure beside a bare Prefect flow's."""
    if "claimwatch_run" not in f:
        return []
    bare = f.get("bare_prefect")

    def versus(run: dict[str, Any]) -> str:
        return f"{run['wall_s'] / bare['wall_s']:.2f}x bare Prefect flow" if bare else ""

    run = f["claimwatch_run"]
    out = [(f"fixed cost: `claimwatch run`, nothing due, a new process (median of {run['runs']})",
            f"{run['wall_s']:.2f} s wall, {run['cpu_s']:.2f} s CPU", versus(run))]
    if bare:
        first = f["bare_prefect_first"]
        out += [("  bare Prefect flow, one task, temporary server (its first start)",
                 f"{bare['wall_s']:.2f} s wall, {bare['cpu_s']:.2f} s CPU"
                 f" ({first['wall_s']:.1f} s, {first['cpu_s']:.1f} s)", "1.00x bare Prefect flow"),
                ("  `claimwatch run --prefect`, nothing due",
                 f"{f['claimwatch_run_prefect']['wall_s']:.2f} s wall,"
                 f" {f['claimwatch_run_prefect']['cpu_s']:.2f} s CPU",
                 versus(f["claimwatch_run_prefect"]))]
    return out


def rows(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    ex = r["extraction"]
    floor, floor_rss = ex["floor"]["pages_per_s"], ex["floor"]["peak_rss_mb"]
    out: list[tuple[str, str, str]] = [
        (f"floor: trafilatura default, {r['processes']} processes, {ex['floor']['pages']} pages",
         f"{floor:.1f} pages/s", "1.00x floor"),
        ("floor: peak RSS (workers included)", f"{floor_rss:.0f} MB", "1.00x floor RSS"),
    ]
    for name in (n for n in LABELS if n in ex):
        q, cpu = ex[name]["quality"], ex[name].get("corpus_cpu_ms_per_page")
        out.append((f"{LABELS[name]} extraction alone, 310 corpus pages",
                    f"{ex[name]['corpus_pages_per_s']:.1f} pages/s"
                    + (f", {cpu:.1f} ms CPU a page" if cpu else ""),
                    f"{ex[name]['corpus_pages_per_s'] / ex['floor']['corpus_pages_per_s']:.2f}x"
                    " floor"))
        out.append((f"{LABELS[name]} quality: token F1 (AEB) / np4k / snippet F1",
                    f"{q['full_text_f1_aeb']:.3f} / {q['full_text_f1_np4k']:.3f} / "
                    f"{q['snippets_f1']:.3f}", ""))
    out += _extraction_rows(ex)
    if "end_to_end" in r:
        out += _cycle_rows("end-to-end (direct)", r["end_to_end"], floor, floor_rss)
    if "end_to_end_prefect" in r:
        p, d = r["end_to_end_prefect"], r["end_to_end"]
        out += [("end-to-end through Prefect: articles/s", f"{_rate(p):.1f}",
                 f"{_rate(p) / floor:.2f}x floor"),
                ("  orchestration overhead (Prefect - direct)",
                 f"{p['wall_s'] - d['wall_s']:.1f} s", _pages(p["wall_s"] - d["wall_s"], floor)),
                ("  Prefect temporary server start + a 1-article cycle",
                 f"{r['prefect_start_s']:.1f} s", "")]
    if "big" in r:
        out += _cycle_rows("big cycle (direct)", r["big"], floor, floor_rss)
    for key, label in (("unchanged", "direct"), ("unchanged_prefect", "through Prefect")):
        if key in r:
            u = r[key]
            out.append((f"unchanged: {u['polled']} feeds all 304, whole cycle ({label})",
                        f"{u['wall_s']:.2f} s", _pages(u["wall_s"], floor)))
    if "unchanged" in r and "unchanged_prefect" in r:
        extra = r["unchanged_prefect"]["wall_s"] - r["unchanged"]["wall_s"]
        out.append(("  orchestration overhead of that cycle (Prefect - direct)", f"{extra:.2f} s",
                    _pages(extra, floor)))
    if "new_items" in r:
        n = r["new_items"]
        out += [(f"new items: {n['polled']} feeds, {n['new_items']} new entries (poll+parse+store)",
                 f"{n['wall_s']:.2f} s", _pages(n["wall_s"], floor)),
                ("  entries/s / feed parsing CPU (pool) / item writes",
                 f"{n['new_items'] / n['wall_s']:.0f} / {n['child_processes_cpu_s']:.1f} s / "
                 f"{sum(n['store_s'].values()):.1f} s", "")]
    out += fixed_cost_rows(r.get("fixed_cost", {}))
    for m in r.get("matching", []):
        out.append((f"matching: one article vs {m['claims']} claims, median (p90)",
                    f"{m['median_ms']:.1f} ({m['p90_ms']:.1f}) ms",
                    _pages(m["median_ms"] / 1000, floor)))
    return out


def render_table(r: dict[str, Any]) -> str:
    """Markdown: figure | value | beside the floor; then the targets and the bounding stage."""
    lines = [f"claimwatch benchmark: {r['cores']} cores, {r['processes']} extraction processes,"
             f" {r['articles']} articles over {r['feeds']} feeds ({r['total_s']} s)", "",
             "| figure | value | vs floor |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows(r)]
    lines += ["", "| target | measured | goal | met |", "|---|---|---|---|"]
    for name, v in r["verdicts"].items():
        lines.append(f"| {name} | {v['value']} | {v['target']} | {'yes' if v['met'] else 'NO'} |")
    if "end_to_end" in r:
        lines += ["", f"Bounding stage: {bounding_stage(r['end_to_end'])}"]
    return "\n".join(lines)
