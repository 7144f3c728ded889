"""Rendering is pure: a development in, a Slack payload and an email out, escaped and capped."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime

from claimwatch.flows.alerts import mail, slack
from claimwatch.flows.alerts import render as alerts
from claimwatch.flows.alerts.render import AlertView, DigestView, Evidence

WHEN = datetime(2026, 2, 3, 9, 30, tzinfo=UTC)
EVIL = "<!channel> <https://evil.example|click> <script>alert(1)</script> & co"


def _view(relation: str = "updates", title: str = "Abu Dhabi talks postponed",
          sentence: str = "The meeting has been postponed to February 10.", sources: int = 1,
          outlet: str | None = "Harbor Wire", claim_id: str = "abu-dhabi-talks") -> AlertView:
    evidence = tuple(Evidence(sentence, title, outlet, f"https://news.example/a/{i}", relation)
                     for i in range(sources))
    changes = {"date": ("2026-02-04/2026-02-05", "2026-02-10")} if relation != "confirms" else {}
    return AlertView("k3y", claim_id, "Talks are set for February 4-5 in Abu Dhabi.", relation,
                     "date: 2026-02-04/2026-02-05 → 2026-02-10", changes, evidence, sources, WHEN)


def _slack_texts(payload: dict) -> list[str]:
    found = [payload["text"]]
    for block in payload["blocks"]:
        found += [block["text"]["text"]] if "text" in block else []
        found += [e["text"] for e in block.get("elements", [])]
    return found


def test_slack_alert_says_what_changed_quotes_evidence_and_links_the_source() -> None:
    payload = slack.slack(_view())
    text = "\n".join(_slack_texts(payload))
    assert payload["text"] == "Updated abu-dhabi-talks: date: 2026-02-04/2026-02-05 → 2026-02-10"
    assert payload["blocks"][0]["type"] == "header"
    assert "• date: 2026-02-04/2026-02-05 → 2026-02-10" in text
    assert "> The meeting has been postponed to February 10." in text
    assert "— <https://news.example/a/0|Abu Dhabi talks postponed> (Harbor Wire)" in text
    assert "1 source agrees · first seen 2026-02-03 09:30 UTC · ref k3y" in text


def test_contradiction_headline_names_who_contradicts() -> None:
    view = _view("contradicts", outlet="Kyiv Ledger")
    assert alerts.headline(view).startswith("Contradicted abu-dhabi-talks: ")
    assert "(contradicted by Kyiv Ledger)" in alerts.headline(view)


def test_confirmation_headline_counts_the_new_sources_and_says_more_when_others_came_first() -> None:
    assert alerts.headline(_view("confirms", sources=3)) == "3 sources confirm abu-dhabi-talks"
    later = replace(_view("confirms", sources=4), sources_agree=10)
    assert alerts.headline(later) == "4 more sources confirm abu-dhabi-talks"
    one = replace(_view("confirms", sources=1), sources_agree=2)
    assert alerts.headline(one) == "1 more source confirms abu-dhabi-talks"


def _confirmed(sources: int, agree: int) -> AlertView:
    evidence = tuple(Evidence(f"Talks are on, says outlet {i}.", f"Title {i}", f"Outlet {i}",
                              f"https://news.example/c/{i}", "confirms") for i in range(sources))
    return AlertView("c1", "abu-dhabi-talks", "Talks are set.", "confirms", "confirmed", {},
                     evidence, agree, WHEN)


def test_digest_folds_a_claims_confirmations_into_one_line_with_each_new_source() -> None:
    digest = DigestView("d1", (_view(), _confirmed(4, 6)), total=2, channel="newsroom")
    slack_lines = _slack_texts(slack.slack_digest(digest))
    (line,) = [t for t in slack_lines if "confirm" in t]
    assert line.startswith("• 4 more sources confirm abu-dhabi-talks: ")
    assert all(f"<https://news.example/c/{i}|Outlet {i}>" in line for i in range(4))
    assert "https://news.example/a/0" not in line  # never the development's own article
    assert sum("Updated abu-dhabi-talks" in t for t in slack_lines) == 1  # its own line
    email = mail.email_digest(digest)
    assert email.text.count("confirm abu-dhabi-talks") == 1
    assert "- 4 more sources confirm abu-dhabi-talks: Outlet 0 https://news.example/c/0, " in email.text
    assert all(f'<a href="https://news.example/c/{i}">Outlet {i}</a>' in email.html
               for i in range(4))


def test_folded_confirmations_list_at_most_five_sources_and_count_the_rest() -> None:
    digest = DigestView("d1", (_confirmed(8, 8),), total=1, channel="newsroom")
    (line,) = [t for t in _slack_texts(slack.slack_digest(digest)) if "confirm" in t]
    assert line.count("<https://news.example/c/") == 5 and "…and 3 more sources" in line
    assert "…and 3 more sources" in alerts.digest_line_plain(_confirmed(8, 8))


def test_an_immediate_confirmation_quotes_each_new_source() -> None:
    payload = slack.slack(_confirmed(2, 5))
    text = "\n".join(_slack_texts(payload))
    assert payload["text"] == "2 more sources confirm abu-dhabi-talks"
    assert "> Talks are on, says outlet 0." in text and "> Talks are on, says outlet 1." in text
    assert "<https://news.example/c/1|Title 1> (Outlet 1)" in text and "5 sources agree" in text
    assert mail.email(_confirmed(2, 5)).subject == (
        "[claimwatch] 2 more sources confirm abu-dhabi-talks")


def test_slack_escapes_mentions_and_forged_links_in_every_untrusted_field() -> None:
    payload = slack.slack(_view(title=EVIL, sentence=EVIL, outlet=EVIL))
    text = "\n".join(_slack_texts(payload))
    assert "<!channel>" not in text and "<https://evil.example" not in text
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt;" in text
    assert "&amp; co" in text
    links = re.findall(r"<([^>]*)>", text)
    assert links == ["https://news.example/a/0|&lt;!channel&gt; &lt;https://evil.example|click"
                     "&gt; &lt;script&gt;alert(1)&lt;/script&gt; &amp; co"]


def test_slack_link_to_a_non_http_url_is_plain_text() -> None:
    assert slack.slack_link("javascript:alert(1)", "x") == "x"
    assert slack.slack_link("https://a.example/x|y>z", "t") == "<https://a.example/x%7Cy%3Ez|t>"


def test_a_newline_cannot_start_a_quote_or_a_mention_line() -> None:
    text = "\n".join(_slack_texts(slack.slack(_view(sentence="ok\n> @here\n<!here>"))))
    assert "> ok &gt; @here &lt;!here&gt;" in text


def test_email_escapes_markup_and_keeps_headers_to_one_line() -> None:
    content = mail.email(_view(title=EVIL, sentence=EVIL, claim_id="x\r\nBcc: a@evil.example"))
    assert "\r" not in content.subject and "\n" not in content.subject
    assert content.subject.startswith("[claimwatch] Updated x Bcc: a@evil.example: date:")
    assert "<script>" not in content.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in content.html
    assert 'href="https://evil.example' not in content.html
    assert '<a href="https://news.example/a/0">' in content.html
    assert EVIL in content.text  # plain text is shown as text, nothing to escape


def test_email_subject_states_the_change_and_is_capped() -> None:
    long = _view(claim_id="c" * 400)
    assert len(mail.email(long).subject) == alerts.MAX_TITLE
    assert mail.email(_view()).subject == (
        "[claimwatch] Updated abu-dhabi-talks: date: 2026-02-04/2026-02-05 → 2026-02-10")


def test_many_sources_are_capped_with_and_n_more() -> None:
    view = _view(sources=12, sentence="s" * 5000)
    payload = slack.slack(view)
    text = "\n".join(_slack_texts(payload))
    assert "…and 7 more sources" in text and "12 sources agree" in text
    assert all(len(t) <= slack.SLACK_SECTION for t in _slack_texts(payload))
    assert len(json.dumps(payload).encode()) < alerts.MAX_BODY_BYTES
    content = mail.email(view)
    assert "…and 7 more sources" in content.text
    assert len(content.html.encode()) <= alerts.MAX_BODY_BYTES


def test_huge_titles_and_urls_never_exceed_the_body_cap() -> None:
    view = _view(sources=5, title="t" * 100_000, sentence="s" * 100_000)
    for body in (mail.email(view).text, mail.email(view).html, json.dumps(slack.slack(view))):
        assert len(body.encode()) <= alerts.MAX_BODY_BYTES


def test_clipped_mrkdwn_never_ends_in_half_an_entity_or_link() -> None:
    cut = slack._clip_mrkdwn("a" * 2990 + "&amp;<https://x.example|y>", 2995)
    assert cut.endswith("a…")


def test_digest_lists_items_and_ends_with_and_n_more() -> None:
    items = tuple(_view() for _ in range(3))
    digest = DigestView("d1", items, total=10, channel="newsroom")
    payload = slack.slack_digest(digest)
    text = "\n".join(_slack_texts(payload))
    assert payload["text"] == "claimwatch digest: 10 items for newsroom"
    assert text.count("• Updated abu-dhabi-talks") == 3
    assert "…and 7 more (see `claimwatch developments`)" in text
    email = mail.email_digest(digest)
    assert email.subject == "[claimwatch] claimwatch digest: 10 items for newsroom"
    assert email.text.count("- Updated abu-dhabi-talks") == 3 and "…and 7 more" in email.html


# ---------------------------------------------------------------- link to the claim's timeline

TIMELINE = "https://reports.example/claimwatch/index.html#claim-abu-dhabi-talks"


def _linked(url: str | None) -> AlertView:
    return replace(_view(), report_url=url)


def test_alert_links_the_claims_timeline_in_slack_blocks_fallback_and_both_emails() -> None:
    payload = slack.slack(_linked(TIMELINE))
    link = f"<{TIMELINE}|Claim timeline>"
    assert link in payload["text"] and payload["text"].startswith("Updated abu-dhabi-talks: ")
    assert any(link in block.get("text", {}).get("text", "") for block in payload["blocks"])
    content = mail.email(_linked(TIMELINE))
    assert f"Claim timeline: {TIMELINE}" in content.text
    assert f'<a href="{TIMELINE}">Claim timeline</a>' in content.html


def test_no_report_location_or_a_non_http_one_means_no_timeline_link() -> None:
    for url in (None, "javascript:alert(1)//#claim-x", "file:///srv/report/index.html#claim-x"):
        payload, content = slack.slack(_linked(url)), mail.email(_linked(url))
        every = json.dumps(payload) + content.text + content.html
        assert "Claim timeline" not in every and "javascript:" not in every
        assert "file:" not in every
