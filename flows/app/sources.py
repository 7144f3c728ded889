"""`claimwatch sources add | import | export`: the sources file changed without editing TOML.

`add` fetches the URL first through the one client factory and its address guard
(flows/fetch/http.py): a feed is added as one, a page is searched for the feed its
<link rel="alternate"> names. Every change goes through seeds.add_sources, which keeps the
file's comments and layout and validates the result before writing: a refused change writes
nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from claimwatch.flows import settings
from claimwatch.flows.app import opml
from claimwatch.flows.app.usage import EXIT_FAILED_SOURCES, EXIT_OK, Unreachable, UsageError
from claimwatch.flows.fetch import discovery, feeds, pages
from claimwatch.flows.fetch.charsets import decode
from claimwatch.flows.fetch.http import Client, fetch, make_client
from claimwatch.flows.seeds import SourceList, SourceSpec, add_sources, check_url, load_sources

Say = Callable[[str], None]
# Options that belong to one action only: given to another, they are refused, not ignored.
OPTIONS = {"name": "add", "tag": "add", "page": "add", "interval": "add", "opml": "export",
           "out": "export"}


@dataclass(frozen=True, slots=True)
class Found:
    """What a URL turned out to be: a feed (maybe found through a page) or a watched page."""

    kind: str  # "feed" | "page"
    url: str
    title: str
    via: str | None = None  # the page whose <link rel="alternate"> named the feed


def refuse_options(args: argparse.Namespace, action: str | None) -> None:
    for option, owner in OPTIONS.items():
        if getattr(args, option, None) and owner != action:
            raise UsageError(f"--{option} goes with `claimwatch sources {owner}`")
    if action is None and args.target:
        raise UsageError(f"unexpected {args.target!r}: `sources add URL` or `sources import FILE`?")


def _current(path: Path) -> SourceList:
    """The sources file as it stands (validated: a broken file is fixed first), or none yet."""
    return load_sources(path) if path.exists() else SourceList(())


def _listed(current: SourceList, url: str) -> SourceSpec | None:
    return next((s for s in current.sources if s.url == url), None)


def _feed_at(client: Client, url: str, limits: settings.FetchLimits) -> tuple[bytes, str, str]:
    """The body, final URL and content type at `url`; Unreachable when it did not answer."""
    got = fetch(client, url, max_bytes=limits.max_feed_bytes, deadline_s=limits.feed_deadline_s,
                max_redirects=limits.max_redirects)
    if not got.ok:
        raise Unreachable(f"{url}: {got.error or f'HTTP {got.status}'}")
    return got.body, got.url, got.headers.get("content-type", "")


def discover(client: Client, url: str, limits: settings.FetchLimits) -> Found:
    """A feed URL as it is, or the first working feed a page names in <link rel="alternate">."""
    now = datetime.now(UTC)
    body, final, content_type = _feed_at(client, url, limits)
    parsed = feeds.parse(body, final, limits.max_items_per_poll, now)
    if parsed.error is None:
        return Found("feed", url, parsed.title)
    links = discovery.page_links(decode(body, content_type), final)
    if not links.feeds:
        raise UsageError(f"{url} is neither a feed nor a page that names one (no <link "
                         "rel=\"alternate\" type=\"application/rss+xml\">); to watch the page "
                         "itself, add --page")
    problems = []
    for candidate in links.feeds:
        try:
            body, final, _ = _feed_at(client, candidate, limits)
        except Unreachable as exc:
            problems.append(str(exc))
            continue
        parsed = feeds.parse(body, final, limits.max_items_per_poll, now)
        if parsed.error is None:
            return Found("feed", candidate, parsed.title or links.title, via=url)
        problems.append(f"{candidate}: {parsed.error}")
    raise Unreachable(f"{url} names feeds, but none works: {'; '.join(problems)}")


def watch_page(client: Client, url: str, limits: settings.FetchLimits) -> Found:
    page = pages.get(client, url, limits)
    if not page.ok:
        raise Unreachable(f"{url}: {page.error}")
    return Found("page", url, discovery.page_links(page.html, page.url).title)


def add(args: argparse.Namespace, say: Say) -> int:
    if not args.target:
        raise UsageError("sources add needs a URL, e.g. claimwatch sources add https://example.org/rss")
    url, path = args.target.strip(), args.sources
    problem = check_url(url)
    if problem:
        raise UsageError(f"{url!r}: {problem}")
    current = _current(path)
    if (spec := _listed(current, url)) is not None:
        raise UsageError(f"{url} is already in {path} (as {spec.name!r})")
    limits = settings.fetch_limits()
    with make_client(limits, settings.allow_private_networks(current.allow_private_networks)) as c:
        found = watch_page(c, url, limits) if args.page else discover(c, url, limits)
    if (spec := _listed(current, found.url)) is not None:
        raise UsageError(f"{url} names the feed {found.url}, already in {path} (as {spec.name!r})")
    name = (args.name or found.title or urlsplit(found.url).hostname or found.url).strip()
    add_sources(path, [SourceSpec(found.kind, name, found.url, tuple(args.tag),
                                  interval_min=args.interval)])
    via = f" (named by {found.via})" if found.via else ""
    say(f"added {found.kind} {name!r}: {found.url}{via} to {path}")
    return EXIT_OK


def import_opml(args: argparse.Namespace, say: Say) -> int:
    if not args.target:
        raise UsageError("sources import needs an OPML file, e.g. claimwatch sources import feeds.opml")
    source = Path(args.target)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise UsageError(f"{source}: {exc.strerror or exc}") from None
    try:
        found = opml.parse(data)
    except opml.OpmlError as exc:
        raise UsageError(f"{source}: {exc}; nothing was imported") from None
    current = _current(args.sources)
    new = [SourceSpec("feed", (f.name or urlsplit(f.url).hostname or f.url), f.url, f.tags)
           for f in found if _listed(current, f.url) is None]
    if new:
        add_sources(args.sources, new)
    kept = len(found) - len(new)
    say(f"imported {len(new)} feed(s) from {source} into {args.sources}"
        + (f"; {kept} already listed, left as they were" if kept else ""))
    return EXIT_OK


def export_opml(args: argparse.Namespace, say: Say) -> int:
    current = load_sources(args.sources)
    listed = [opml.OpmlFeed(s.name, s.url, s.tags) for s in current.sources if s.kind == "feed"]
    left_out = len(current.sources) - len(listed)
    document = opml.render(listed, f"claimwatch sources ({args.sources.name})", datetime.now(UTC))
    if args.out is None:
        say(document.decode("utf-8").rstrip("\n"))
    else:
        try:
            args.out.write_bytes(document)
        except OSError as exc:
            raise UsageError(f"{args.out}: {exc.strerror or exc}") from None
        say(f"wrote {len(listed)} feed(s) to {args.out}")
    if left_out:  # on stderr: stdout may be the OPML itself
        print(f"note: {left_out} watched page(s) left out: OPML lists feeds only", file=sys.stderr)
    return EXIT_OK


def run(args: argparse.Namespace, say: Say) -> int:
    """`sources add`, `sources import` or `sources export`."""
    refuse_options(args, args.action)
    try:
        if args.action == "add":
            return add(args, say)
        if args.action == "import":
            return import_opml(args, say)
        return export_opml(args, say)
    except Unreachable as exc:
        print(f"error: {exc}; nothing was changed", file=sys.stderr)
        return EXIT_FAILED_SOURCES
