"""Sources split into N shards by a stable hash of their URL, each shard a flow run of its own.

The hash is SHA-256 rather than Python's hash(), which changes from process to process: every
worker must put a source in the same shard.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from claimwatch.flows.seeds import SourceSpec

SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class Shard:
    index: int  # 1 … count
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse(text: str | None) -> Shard | None:
    """ "2/4" -> Shard(2, 4); None or "" -> None (every source); anything else is refused."""
    if text is None or not text.strip():
        return None
    found = SHARD.match(text)
    if not found:
        raise ValueError(f"shard {text!r} must look like 2/4 (this run's part / how many parts)")
    index, count = int(found[1]), int(found[2])
    if not 1 <= index <= count:
        raise ValueError(f"shard {text!r}: the part must be between 1 and {count}")
    return Shard(index, count)


def of(url: str, count: int) -> int:
    """The shard (1 … count) a source URL belongs to."""
    digest = hashlib.sha256(url.encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


def select(specs: Sequence[SourceSpec], shard: Shard | None) -> tuple[SourceSpec, ...]:
    """The sources this shard polls, in file order; no shard: all of them."""
    if shard is None:
        return tuple(specs)
    return tuple(spec for spec in specs if of(spec.url, shard.count) == shard.index)
