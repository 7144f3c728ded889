"""Markdown for the Prefect UI: a cycle's run artifact, with untrusted text made inert."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from claimwatch.flows.alerts import outbox
from claimwatch.flows.cycle import CycleSummary
from claimwatch.flows.fetch.urls import without_userinfo
from claimwatch.flows.report.links import claim_url, safe_href

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def md_text(text: str | None) -> str:
    """Untrusted text as inert markdown: no links, emphasis, table breaks or raw HTML."""
    flat = " ".join(str(text or "").split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", flat)


def md_link(url: str | None, label: str) -> str:
    """A markdown link to an http(s) URL, or the label alone when the URL may not be a link."""
    target = safe_href(url)
    if target is None:
        return md_text(label)
    return f"[{md_text(label)}]({quote(target, safe=':/?#[]@!$&*+,;=%~-._')})"


def markdown_rows(developments: Sequence[Mapping[str, Any]], report_url: str | None = None
                  ) -> list[str]:
    """The run's developments as a markdown table: claim (linked to the report), relation,
    what changed, and each source by outlet. Rows are the dicts flows/monitor.py collects."""
    if not developments:
        return []
    # "found by": the sources (and shards) whose feeds led to the articles, when known: a
    # shard's run matches whatever is pending, so the finder is not always the run itself.
    credited = any("found_by" in dev for dev in developments)
    lines = ["| claim | relation | what changed | sources |" + (" found by |" if credited else ""),
             "|---|---|---|---|" + ("---|" if credited else "")]
    for dev in developments:
        claim = str(dev["claim"])
        urls = [without_userinfo(u) for u in dev.get("urls", [])]
        outlets = list(dev.get("outlets", [])) + [None] * len(urls)
        links = ", ".join(md_link(u, o or urlsplit(u).hostname or f"source {i + 1}")
                          for i, (u, o) in enumerate(zip(urls, outlets, strict=False)))
        finders = ", ".join(md_text(f) for f in dev.get("found_by", [])) or "—"
        lines.append(f"| {md_link(claim_url(claim, report_url), claim)} | {md_text(dev['relation'])}"
                     f" | {md_text(dev['summary'])} | {links or '—'} |"
                     + (f" {finders} |" if credited else ""))
    return lines


def cycle(summary: CycleSummary) -> str:
    """The run artifact shown in the Prefect UI: counts, developments, failures, alerts."""
    p, r, m = summary.poll, summary.read, summary.match
    covered = f"shard {summary.shard} of the sources" if summary.shard else "every source"
    lines = [
        f"## claimwatch cycle {summary.run_id}",
        "",
        f"This run covered {covered}: {summary.due} due.",
        "",
        "| feeds polled | not modified | sources failed | new articles | new versions | matches"
        " | developments |",
        "|---|---|---|---|---|---|---|",
        f"| {p.polled} | {p.not_modified} | {len(p.failed) + len(r.failed_pages)}"
        f" | {r.new_articles} | {r.new_versions}"
        f" | {m.matches} | {len(m.developments)} |",
        "",
    ]
    if summary.developments:
        # The report's own table: escaped text, http(s) links by outlet, claims linked to
        # their section of the report when $CLAIMWATCH_REPORT_URL says where it lives.
        lines += ["### Developments", "", *markdown_rows(summary.developments)]
    if m.failed:  # a bug in matching, never silent (flows/matching.py)
        lines += ["", "### Matching failed", ""]
        lines += [f"- {md_text(without_userinfo(url))}: {md_text(why)}"
                  for url, why in sorted(m.failed.items())]
    failed = {**p.failed, **r.failed_pages}
    if failed:
        lines += ["", "### Failed sources", ""]
        lines += [f"- {md_text(name)}: {md_text(reason)}" for name, reason in sorted(failed.items())]
    if summary.alerts is not None:
        lines += ["", "### Alerts", "", *outbox.report(summary.alerts)]
    if p.notices or r.notices:
        lines += ["", "### Source health", ""]
        lines += [f"- {n['kind'].upper()}: {n['text']}" for n in [*p.notices, *r.notices]]
    return "\n".join(lines)
