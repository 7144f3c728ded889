"""Read and validate seeds/claims.toml and seeds/sources.toml; add sources to sources.toml.

Validation happens before anything touches the database, so bad input writes nothing. Sources
are added with tomlkit, which keeps the file's comments and layout; the new text is validated
like any sources file before it replaces the old one, so a bad addition changes nothing.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import tomlkit

from claimwatch.flows.engine import vocabulary
from claimwatch.flows.engine.model import Claim
from claimwatch.flows.fetch.urls import without_userinfo

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
CLAIM_KEYS = {"id", "statement", "keywords", "facts"}
SOURCE_KEYS = {"name", "url", "tags", "enabled", "interval"}
# Minutes between polls a source may ask for (RELIABILITY.md part C: at least 5, at most daily).
MIN_INTERVAL_MIN, MAX_INTERVAL_MIN = 5, 1440
SOURCES_TOP_KEYS = {"allow_private_networks", "feeds", "pages"}


class SeedError(ValueError):
    """A seed file is unusable; the message names the file and the problem."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One feed or watched page as configured."""

    kind: str  # "feed" | "page"
    name: str
    url: str
    tags: tuple[str, ...] = ()
    enabled: bool = True  # `enabled = false`: kept in the file, never polled
    interval_min: int | None = None  # `interval`: minutes between polls; None: every cycle


@dataclass(frozen=True, slots=True)
class SourceList:
    """Everything sources.toml says."""

    sources: tuple[SourceSpec, ...]
    allow_private_networks: bool = False


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SeedError(path, "file not found") from None
    except UnicodeDecodeError as exc:  # as tomllib.load would say it
        raise SeedError(path, f"malformed TOML: {exc}") from None
    return _parse_toml(text, path)


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(path, f"malformed TOML: {exc}") from None


def _check_keys(path: Path, where: str, table: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SeedError(path, f"{where}: unknown key(s) {', '.join(unknown)}")


def _string(path: Path, where: str, table: dict[str, Any], key: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SeedError(path, f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _strings(path: Path, where: str, value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SeedError(path, f"{where}: '{key}' must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def _claim(path: Path, index: int, table: Any) -> Claim:
    where = f"claims[{index}]"
    if not isinstance(table, dict):
        raise SeedError(path, f"{where}: must be a table")
    _check_keys(path, where, table, CLAIM_KEYS)
    claim_id = _string(path, where, table, "id")
    if not SLUG.match(claim_id):
        raise SeedError(path, f"{where}: id {claim_id!r} must be a lowercase slug (a-z, 0-9, -)")
    facts = table.get("facts", {})
    if not isinstance(facts, dict) or not all(isinstance(v, str) for v in facts.values()):
        raise SeedError(path, f"{where} ({claim_id}): 'facts' must be a table of string values")
    return Claim(
        id=claim_id,
        statement=_string(path, where, table, "statement"),
        keywords=_strings(path, where, table.get("keywords"), "keywords"),
        facts=dict(facts),
    )


VOCABULARY_FILE = "vocabulary.toml"  # the brief's own names, beside its claims (optional)


def load_claims(path: Path) -> tuple[Claim, ...]:
    """Parse claims.toml and the vocabulary.toml beside it, if any; raise SeedError naming the
    file and the problem."""
    claims = _claims(path, _read_toml(path))
    words = load_vocabulary(path.parent / VOCABULARY_FILE)
    return tuple(replace(c, vocabulary=words) for c in claims) if words else claims


def load_vocabulary(path: Path) -> vocabulary.Vocabulary | None:
    """A brief's vocabulary file (flows/engine/vocabulary.py), or None when there is none."""
    if not path.is_file():
        return None
    try:
        return vocabulary.parse(_read_toml(path), str(path))
    except vocabulary.VocabularyError as exc:
        raise SeedError(path, str(exc).removeprefix(f"{path}: ")) from None


def parse_claims(text: str, path: Path = Path("<claims>")) -> tuple[Claim, ...]:
    """Claims from claims.toml text (a drafted file, a test's copy), validated the same way."""
    return _claims(path, _parse_toml(text, path))


def _claims(path: Path, data: dict[str, Any]) -> tuple[Claim, ...]:
    _check_keys(path, "top level", data, {"claims"})
    tables = data.get("claims")
    if not isinstance(tables, list) or not tables:
        raise SeedError(path, "no [[claims]] found")
    claims = tuple(_claim(path, i, t) for i, t in enumerate(tables))
    seen: set[str] = set()
    for claim in claims:
        if claim.id in seen:
            raise SeedError(path, f"duplicate claim id {claim.id!r}")
        seen.add(claim.id)
    return claims


def check_url(url: str, max_length: int = 2048) -> str | None:
    """Return why a URL cannot be fetched, or None when it is an absolute http(s) URL."""
    if len(url) > max_length:
        return f"URL longer than {max_length} characters"
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        return f"scheme {parts.scheme or '(none)'!r} is not http or https"
    if not parts.hostname:
        return "URL has no host"
    return None


def _source(path: Path, kind: str, index: int, table: Any) -> SourceSpec:
    where = f"{kind}s[{index}]"
    if not isinstance(table, dict):
        raise SeedError(path, f"{where}: must be a table")
    _check_keys(path, where, table, SOURCE_KEYS)
    url = _string(path, where, table, "url")
    problem = check_url(url)
    if problem:
        raise SeedError(path, f"{where}: url {without_userinfo(url)!r}: {problem}")
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise SeedError(path, f"{where}: 'enabled' must be true or false")
    interval = table.get("interval")
    if interval is not None and (isinstance(interval, bool) or not isinstance(interval, int)
                                 or not MIN_INTERVAL_MIN <= interval <= MAX_INTERVAL_MIN):
        raise SeedError(path, f"{where}: 'interval' must be a whole number of minutes from "
                              f"{MIN_INTERVAL_MIN} to {MAX_INTERVAL_MIN}, not {interval!r}")
    return SourceSpec(
        kind=kind,
        name=_string(path, where, table, "name"),
        url=url,
        tags=_strings(path, where, table.get("tags"), "tags"),
        enabled=enabled,
        interval_min=interval,
    )


def load_sources(path: Path) -> SourceList:
    """Parse sources.toml; raise SeedError naming the file and the problem."""
    return _sources(path, _read_toml(path))


def parse_sources(text: str, path: Path = Path("<sources>")) -> SourceList:
    """Sources from sources.toml text, validated the same way."""
    return _sources(path, _parse_toml(text, path))


def _sources(path: Path, data: dict[str, Any]) -> SourceList:
    _check_keys(path, "top level", data, SOURCES_TOP_KEYS)
    allow = data.get("allow_private_networks", False)
    if not isinstance(allow, bool):
        raise SeedError(path, "'allow_private_networks' must be true or false")
    specs: list[SourceSpec] = []
    for kind, key in (("feed", "feeds"), ("page", "pages")):
        tables = data.get(key, [])
        if not isinstance(tables, list):
            raise SeedError(path, f"'{key}' must be an array of tables ([[{key}]])")
        specs.extend(_source(path, kind, i, t) for i, t in enumerate(tables))
    urls: set[str] = set()
    for spec in specs:
        if spec.url in urls:
            raise SeedError(path, f"source url {spec.url!r} is listed twice")
        urls.add(spec.url)
    if not specs:
        raise SeedError(path, "no [[feeds]] or [[pages]] found")
    return SourceList(sources=tuple(specs), allow_private_networks=allow)


def source_table(spec: SourceSpec) -> dict[str, Any]:
    """A source as its sources.toml table: only what differs from the defaults is written."""
    table: dict[str, Any] = {"name": spec.name, "url": spec.url}
    if spec.tags:
        table["tags"] = list(spec.tags)
    if not spec.enabled:
        table["enabled"] = False
    if spec.interval_min is not None:
        table["interval"] = spec.interval_min
    return table


def add_sources(path: Path, new: Sequence[SourceSpec]) -> SourceList:
    """Append sources to a sources file (created when absent), keeping its comments and layout.

    The new text is validated first (a URL listed twice, a bad name): SeedError, file unchanged.
    """
    try:
        text = path.read_bytes().decode("utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(path, f"cannot read: {exc}") from None
    _parse_toml(text, path)  # a broken file is reported as one, not as tomlkit's own error
    document = tomlkit.parse(text)
    for spec in new:
        key = f"{spec.kind}s"
        if key not in document:
            document.append(key, tomlkit.aot())
        tables = document[key]
        if not isinstance(tables, tomlkit.items.AoT):
            raise SeedError(path, f"'{key}' must be an array of tables ([[{key}]])")
        table = tomlkit.table()
        table.update(source_table(spec))
        tables.append(table)
    updated = tomlkit.dumps(document)
    result = parse_sources(updated, path)
    _replace(path, updated)
    return result


def _replace(path: Path, text: str) -> None:
    """Write the file whole or not at all: a crash midway leaves the old file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        partial.write_text(text, encoding="utf-8")
        if path.exists():
            partial.chmod(path.stat().st_mode & 0o7777)  # keep who may read and edit it
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise SeedError(path, f"cannot write: {exc.strerror or exc}") from None
