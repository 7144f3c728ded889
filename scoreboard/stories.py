"""Labelled stories (tests/scoreboard/FORMAT.md): a brief's claims and the coverage that followed."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claimwatch.flows.engine.model import Claim
from claimwatch.flows.seeds import load_claims

ROOT = Path(__file__).resolve().parent.parent
STORIES = ROOT / "tests" / "scoreboard" / "stories"
SEED_CLAIMS = ROOT / "seeds" / "claims.toml"
# The project's first labelled sets, on the seed brief: tuned on, so neither is blind any more.
SEED_SETS = {"seed": ROOT / "tests" / "scoreboard" / "articles.toml",
             "seed-heldout": ROOT / "tests" / "scoreboard" / "heldout.toml"}


@dataclass(frozen=True, slots=True)
class Expect:
    claim: str
    relation: str
    facts: Mapping[str, str]
    development: bool | None


@dataclass(frozen=True, slots=True)
class Labelled:
    id: str
    round: int
    url: str
    title: str
    text: str
    published_at: datetime | None
    kind: str
    duplicate_of: str | None
    edit_of: str | None
    expect: tuple[Expect, ...]


@dataclass(frozen=True, slots=True)
class Story:
    name: str
    blind: bool
    claims: tuple[Claim, ...]
    articles: tuple[Labelled, ...]  # in polling order: round, then publication time
    domain: str = ""


def load_articles(path: Path) -> tuple[Labelled, ...]:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))["articles"]
    items = tuple(_labelled(a) for a in raw)
    return tuple(sorted(items, key=lambda a: (a.round, a.published_at or datetime.min.replace(tzinfo=UTC))))


def _labelled(a: Mapping[str, Any]) -> Labelled:
    published = a.get("published_at")
    when = datetime.fromisoformat(str(published).replace("Z", "+00:00")) if published else None
    expect = tuple(Expect(str(e["claim"]), str(e["relation"]),
                          {k: str(v) for k, v in e.get("facts", {}).items()}, e.get("development"))
                   for e in a.get("expect", []))
    return Labelled(str(a["id"]), int(a["round"]), str(a["url"]), str(a.get("title", "")),
                    str(a["text"]), when, str(a.get("kind", "")), a.get("duplicate_of"),
                    a.get("edit_of"), expect)


def load_story(folder: Path) -> Story:
    meta = tomllib.loads((folder / "story.toml").read_text(encoding="utf-8"))
    claims_path = ROOT / meta["claims"] if "claims" in meta else folder / "claims.toml"
    return Story(folder.name, bool(meta.get("blind", False)), load_claims(claims_path),
                 load_articles(folder / "articles.toml"), str(meta.get("domain", "")))


def all_stories() -> list[Story]:
    """The seed sets first, then every story folder in name order."""
    seed = load_claims(SEED_CLAIMS)
    found = [Story(name, False, seed, load_articles(path), "diplomacy and trade")
             for name, path in SEED_SETS.items()]
    found += [load_story(f) for f in sorted(STORIES.iterdir()) if (f / "story.toml").is_file()]
    return found
