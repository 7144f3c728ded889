"""Bad seeds get a clear error naming the file and the problem, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from claimwatch.flows.app.cli import main
from claimwatch.flows.app.commands import EXIT_BAD_INPUT
from claimwatch.flows.seeds import SeedError, load_claims, load_sources
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
    ("unknown-key", GOOD_SOURCE + "interval = 5\n", "unknown key(s) interval"),
    ("not-http", '[[feeds]]\nname = "F"\nurl = "ftp://example.org/rss"\n', "'ftp' is not http"),
    ("file-url", '[[pages]]\nname = "P"\nurl = "file:///etc/passwd"\n', "'file' is not http"),
    ("top-level-typo", "allow_private = true\n" + GOOD_SOURCE, "unknown key(s) allow_private"),
    ("twice", GOOD_SOURCE + GOOD_SOURCE, "listed twice"),
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
