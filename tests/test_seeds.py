"""Bad seeds get a clear error naming the file and the problem, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimwatch.flows.app.cli import main
from claimwatch.flows.app.commands import EXIT_BAD_INPUT
from claimwatch.flows.seeds import SeedError, SourceSpec, add_sources, load_claims, load_sources
from claimwatch.flows.settings import DEFAULT_CLAIMS, DEFAULT_SOURCES

GOOD_CLAIM = '[[claims]]\nid = "a"\nstatement = "A thing happens."\n'
GOOD_SOURCE = '[[feeds]]\nname = "F"\nurl = "https://example.org/rss"\n'

BAD_CLAIMS = [
    ("malformed", "[[claims]\nid = 'x'", "malformed TOML"),
    ("unknown-key", GOOD_CLAIM + 'colour = "red"\n', "unknown key(s) colour"),
    ("duplicate-id", GOOD_CLAIM + GOOD_CLAIM, "duplicate claim id 'a'"),
    ("bad-slug", '[[claims]]\nid = "Not A Slug"\nstatement = "x"\n', "lowercase slug"),
    ("no-statement", '[[claims]]\nid = "a"\n', "'statement' must be a non-empty string"),
    ("facts-not-strings", GOOD_CLAIM + "[claims.facts]\ndate = 2026-02-04\n", "string values"),
    ("empty", "", "no [[claims]] found"),
]
BAD_SOURCES = [
    ("malformed", "[[feeds]]\nname = ", "malformed TOML"),
    ("unknown-key", GOOD_SOURCE + "every = 5\n", "unknown key(s) every"),
    ("not-http", '[[feeds]]\nname = "F"\nurl = "ftp://example.org/rss"\n', "'ftp' is not http"),
    ("file-url", '[[pages]]\nname = "P"\nurl = "file:///etc/passwd"\n', "'file' is not http"),
    ("top-level-typo", "allow_private = true\n" + GOOD_SOURCE, "unknown key(s) allow_private"),
    ("twice", GOOD_SOURCE + GOOD_SOURCE, "listed twice"),
    ("interval-too-short", GOOD_SOURCE + "interval = 1\n",
     "'interval' must be a whole number of minutes from 5 to 1440, not 1"),
    ("interval-not-a-number", GOOD_SOURCE + 'interval = "hourly"\n', "'interval' must be a whole number"),
    ("interval-fraction", GOOD_SOURCE + "interval = 7.5\n", "'interval' must be a whole number"),
    ("enabled-not-bool", GOOD_SOURCE + 'enabled = "no"\n', "'enabled' must be true or false"),
]


@pytest.mark.parametrize(("name", "text", "problem"), BAD_CLAIMS, ids=[c[0] for c in BAD_CLAIMS])
def test_bad_claims_file_is_refused_with_its_name_and_problem(
    tmp_path: Path, name: str, text: str, problem: str
) -> None:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    with pytest.raises(SeedError) as caught:
        load_claims(path)
    assert str(path) in str(caught.value) and problem in str(caught.value)


@pytest.mark.parametrize(("name", "text", "problem"), BAD_SOURCES, ids=[c[0] for c in BAD_SOURCES])
def test_bad_sources_file_is_refused_with_its_name_and_problem(
    tmp_path: Path, name: str, text: str, problem: str
) -> None:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    with pytest.raises(SeedError) as caught:
        load_sources(path)
    assert str(path) in str(caught.value) and problem in str(caught.value)


@pytest.mark.parametrize("case", [BAD_CLAIMS[1], BAD_CLAIMS[2]], ids=["unknown-key", "duplicate-id"])
def test_run_with_bad_claims_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: tuple[str, str, str]
) -> None:
    claims = tmp_path / "claims.toml"
    claims.write_text(case[1])
    db = tmp_path / "never.db"
    code = main(["run", "--claims", str(claims), "--sources", str(DEFAULT_SOURCES),
                 "--db", f"sqlite:///{db}"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert f"error: {claims}: " in err and case[2] in err
    assert "Traceback" not in err
    assert not db.exists()


def test_run_with_non_http_source_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(BAD_SOURCES[2][1])
    db = tmp_path / "never.db"
    code = main(["run", "--sources", str(sources), "--db", f"sqlite:///{db}"])
    assert code == EXIT_BAD_INPUT
    assert "is not http or https" in capsys.readouterr().err
    assert not db.exists()


def test_shipped_seeds_are_valid_and_cover_the_brief() -> None:
    claims = {c.id: c for c in load_claims(DEFAULT_CLAIMS)}
    for required in ("abu-dhabi-talks", "russia-tariffs-500", "scotus-tariffs",
                     "confidence-building-agenda", "first-in-person-trilateral"):
        assert required in claims
    assert claims["abu-dhabi-talks"].facts["date"] == "2026-02-04/2026-02-05"
    sources = load_sources(DEFAULT_SOURCES)
    assert not sources.allow_private_networks
    assert len([s for s in sources.sources if s.kind == "feed"]) >= 10
    assert all(s.name and s.url.startswith("https://") for s in sources.sources)
    assert (DEFAULT_CLAIMS.parent / "brief.txt").read_text().startswith("Tri-party")


def test_enabled_and_interval_are_read_per_source(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(GOOD_SOURCE + "interval = 60\n"
                    '[[pages]]\nname = "P"\nurl = "https://example.org/p"\nenabled = false\n')
    feed, page = load_sources(path).sources
    assert (feed.enabled, feed.interval_min) == (True, 60)
    assert (page.enabled, page.interval_min) == (False, None)


COMMENTED = """\
# The desk's sources: keep this comment.
allow_private_networks = false   # trailing comment stays too

[[feeds]]
name = "First"     # aligned on purpose
url = "https://one.example/rss"
tags = ["world"]

# Pages below
[[pages]]
name = "Court page"
url = "https://court.example/opinions"
"""


def test_adding_a_source_keeps_the_files_comments_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(COMMENTED)
    add_sources(path, [SourceSpec("feed", "Second", "https://two.example/rss", ("europe",),
                                  interval_min=30)])
    text = path.read_text()
    assert text.startswith(COMMENTED.split("# Pages below")[0])  # everything before is as it was
    for kept in ("# The desk's sources: keep this comment.", "# trailing comment stays too",
                 'name = "First"     # aligned on purpose', "# Pages below"):
        assert kept in text
    loaded = load_sources(path).sources
    assert [(s.kind, s.name, s.tags, s.interval_min) for s in loaded] == [
        ("feed", "First", ("world",), None), ("feed", "Second", ("europe",), 30),
        ("page", "Court page", (), None)]


def test_adding_a_source_already_listed_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(COMMENTED)
    with pytest.raises(SeedError, match="listed twice"):
        add_sources(path, [SourceSpec("feed", "Again", "https://one.example/rss")])
    assert path.read_text() == COMMENTED
    assert [p.name for p in tmp_path.iterdir()] == ["sources.toml"]  # no temporary file left


def test_adding_to_a_missing_file_creates_it(tmp_path: Path) -> None:
    path = tmp_path / "new-sources.toml"
    add_sources(path, [SourceSpec("page", "Watched", "https://w.example/page")])
    (page,) = load_sources(path).sources
    assert (page.kind, page.name, page.url) == ("page", "Watched", "https://w.example/page")
