"""Article pages in layouts the corpus lacks, built from its human-annotated article bodies.

Each page carries one truth text (`../shared/corpus/truth`, kind `full_text`) in a layout that
has cost extractors whole articles: paragraphs separated by `<br><br>` inside one `<div>` with a
cookie notice in a `<p>` elsewhere, old table layouts, class-name div soup, a consent dialog
before the article, a paywall teaser, a live blog of timestamped updates. Around it sit the
navigation, "most read" box and footer of a news site. The truth of a page is what a reader
sees as the article (a paywalled page's truth is its teaser), so token F1 against it says
whether an extractor kept the article.

Pure: strings in, strings out; used by `python -m bench` and by tests/test_extraction_layouts.py.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

LAYOUTS = ("br", "table", "div_soup", "consent", "paywall", "live_blog")
MIN_BODY_CHARS = 300  # a news brief; shorter annotated bodies are captions and stubs

COOKIE = ("We use cookies and similar technologies to improve your experience on our site, to "
          "analyse traffic and to show you personalised advertising. By continuing to browse "
          "you agree to our use of cookies. Learn more.")  # 209 characters, as in the issue
CONSENT = (
    "We value your privacy",
    "We and our 842 partners store and access information on your device, such as cookies and "
    "unique identifiers, and process personal data such as browsing data to personalise ads "
    "and content, to measure ads and content, to understand audiences and to develop and "
    "improve products.",
    "With your permission we and our partners may use precise geolocation data and "
    "identification through device scanning. You may click to consent to our and our "
    "partners' processing as described above, or access more detailed information and change "
    "your preferences before consenting or to refuse consenting.",
    "Please note that some processing of your personal data may not require your consent, "
    "but you have a right to object to such processing. Your preferences will apply to this "
    "website only. You can change your preferences at any time by returning to this site or "
    "visiting our privacy policy.",
)
PAYWALL = (
    "Subscribe to continue reading",
    "You have read all of your free articles this month. Subscribe now for unlimited access "
    "to award-winning journalism, our apps and the daily newsletter, from 1 dollar a week "
    "for the first year. Cancel anytime.",
    "Already a subscriber? Log in to keep reading. Questions about your subscription? "
    "Contact our customer service team seven days a week.",
)
NEWSLETTER = ("Sign up for our morning newsletter: the day's top stories in your inbox before "
              "breakfast, every weekday. Enter your email address to subscribe; you can "
              "unsubscribe at any time.")
SECTIONS = ("World", "Politics", "Business", "Technology", "Science", "Health", "Sport",
            "Culture", "Opinion", "Travel", "Podcasts", "Newsletters")
MOST_READ = ("Markets slide as central bank signals a longer pause",
             "The town that voted to leave the grid",
             "Five takeaways from last night's debate",
             "A record year for rail travel, and the delays that came with it",
             "Inside the race to build a cheaper battery")


@dataclass(frozen=True, slots=True)
class LayoutPage:
    """One synthesized page and the text a reader sees as its article."""

    name: str  # "<layout>/<truth page>", e.g. "br/html/aeb_042bb7b5fedab6ea.html"
    layout: str
    html: str
    truth: str


def paragraphs(body: str) -> list[str]:
    """An annotated article body's paragraphs (one per line), HTML-escaped."""
    return [html.escape(line.strip(), quote=False) for line in body.splitlines() if line.strip()]


def _chrome(title: str, main: str, before: str = "", after: str = "") -> str:
    nav = "".join(f'<li><a href="/{s.lower()}">{s}</a></li>' for s in SECTIONS)
    most = "".join(f'<li><a href="/story/{i}">{t}</a></li>' for i, t in enumerate(MOST_READ))
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} | "
            f"The Daily Wire Service</title></head><body>{before}<header><a href=\"/\">The Daily "
            f"Wire Service</a><nav><ul>{nav}</ul></nav></header>{main}<aside><h3>Most read</h3>"
            f"<ol>{most}</ol></aside>{after}<footer><p>&copy; 2026 The Daily Wire Service. All "
            f"rights reserved.</p><a href=\"/privacy\">Privacy</a> <a href=\"/terms\">Terms</a>"
            "</footer></body></html>")


def _br(title: str, paras: Sequence[str]) -> tuple[str, int]:
    main = (f'<div class="story"><h1>{title}</h1><div class="byline">By Staff Reporter</div>'
            f'<div class="story-text">{"<br><br>".join(paras)}</div></div>')
    after = f'<div class="site-notice"><p>{COOKIE}</p><button>OK</button></div>'
    return _chrome(title, main, after=after), len(paras)


def _table(title: str, paras: Sequence[str]) -> tuple[str, int]:
    nav = "<br>".join(f'<a href="/{s.lower()}">{s}</a>' for s in SECTIONS)
    rows = "".join(f'<tr><td class="text"><font face="Arial" size="2">{p}</font></td></tr>'
                   for p in paras)
    main = (f'<table width="100%" border="0"><tr><td width="160" valign="top">{nav}</td>'
            f'<td valign="top"><table><tr><td><b><font size="5">{title}</font></b></td></tr>'
            f"{rows}</table></td></tr></table>")
    return _chrome(title, main, after=f'<p class="newsletter">{NEWSLETTER}</p>'), len(paras)


def _div_soup(title: str, paras: Sequence[str]) -> tuple[str, int]:
    blocks = "".join(f'<div class="sc-{i:03x}a css-1q2w3e"><div class="sc-{i:03x}b"><span>{p}'
                     "</span></div></div>" for i, p in enumerate(paras))
    teasers = "".join(f'<div class="sc-teaser"><div><span><a href="/t/{i}">{t}</a></span></div>'
                      "</div>" for i, t in enumerate(MOST_READ))
    main = (f'<div id="root"><div class="sc-head"><div class="sc-title">{title}</div></div>'
            f'<div class="sc-body">{blocks}</div><div class="sc-more">{teasers}</div></div>')
    return _chrome(title, main, after=f'<div class="sc-notice"><p>{COOKIE}</p></div>'), len(paras)


def _consent(title: str, paras: Sequence[str]) -> tuple[str, int]:
    heading, *texts = CONSENT
    dialog = (f'<div id="consent-dialog" role="dialog"><h2>{heading}</h2>'
              + "".join(f"<p>{t}</p>" for t in texts)
              + "<button>Accept all</button><button>Manage options</button></div>")
    main = (f"<main><article><h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in paras)
            + "</article></main>")
    return _chrome(title, main, before=dialog), len(paras)


def _paywall(title: str, paras: Sequence[str]) -> tuple[str, int]:
    shown, total = 0, 0
    for shown, p in enumerate(paras, start=1):  # the teaser: about 40 % of the text, 2+ paragraphs
        total += len(p)
        if shown >= 2 and total >= 0.4 * sum(map(len, paras)):
            break
    heading, *texts = PAYWALL
    wall = (f'<div class="paywall"><h3>{heading}</h3>' + "".join(f"<p>{t}</p>" for t in texts)
            + '<a class="button" href="/subscribe">Subscribe</a></div>')
    main = (f'<main><article><h1>{title}</h1><div class="article-body">'
            + "".join(f"<p>{p}</p>" for p in paras[:shown]) + f"</div>{wall}</article></main>")
    return _chrome(title, main, after=f"<p>{NEWSLETTER}</p>"), shown


def _live_blog(title: str, paras: Sequence[str]) -> tuple[str, int]:
    updates = "".join(
        f'<div class="live-update" id="post-{i}"><time datetime="2026-02-0{1 + i % 9}T{9 + i // 6:02d}:'
        f'{(i * 7) % 60:02d}">{9 + i // 6:02d}:{(i * 7) % 60:02d}</time><div class="live-update-'
        f'body">{p}</div><a href="#post-{i}">Share</a></div>'
        for i, p in enumerate(reversed(paras)))
    key = "".join(f'<li><a href="#post-{i}">{t}</a></li>' for i, t in enumerate(MOST_READ[:3]))
    main = (f'<div class="live"><h1>Live: {title}</h1><div class="key-events"><h2>Key events'
            f'</h2><ul>{key}</ul></div><div class="live-feed">{updates}</div></div>')
    return _chrome(title, main, after=f'<div class="notice"><p>{COOKIE}</p></div>'), len(paras)


BUILDERS: Mapping[str, Callable[[str, Sequence[str]], tuple[str, int]]] = {
    "br": _br, "table": _table, "div_soup": _div_soup, "consent": _consent,
    "paywall": _paywall, "live_blog": _live_blog,
}


def build(layout: str, title: str, body: str) -> tuple[str, str]:
    """(page HTML, truth text) for an article body in one layout."""
    paras = paragraphs(body)
    page, shown = BUILDERS[layout](html.escape(title, quote=False), paras)
    truth = "\n".join(html.unescape(p) for p in paras[:shown])
    return page, truth


def pages(truth: Mapping[str, Mapping[str, object]], per_layout: int,
          layouts: Iterable[str] = LAYOUTS) -> list[LayoutPage]:
    """`per_layout` pages in each layout, each from an annotated body of the corpus; the bodies
    are spread evenly over their lengths (briefs are where boilerplate outweighs the article),
    and each body is used in every layout, so a layout's failures are not its texts' fault."""
    bodies = sorted((len(body), page, body) for page, record in truth.items()
                    if record.get("kind") == "full_text"
                    and len(body := str(record.get("articleBody") or "")) >= MIN_BODY_CHARS)
    step = max(1.0, len(bodies) / per_layout) if per_layout else 0.0
    chosen = [bodies[int(i * step)] for i in range(min(per_layout, len(bodies)))]
    out = []
    for layout in layouts:
        for _, page, body in chosen:
            title = body.split(".")[0][:90]  # the annotations carry no headline of their own
            document, text = build(layout, title, body)
            out.append(LayoutPage(f"{layout}/{page}", layout, document, text))
    return out
