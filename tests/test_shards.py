"""Sharding sources: every source in exactly one shard, the same one in every process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from claimwatch.flows import shards
from claimwatch.flows.seeds import SourceSpec

SPECS = [SourceSpec("feed", f"Feed {i}", f"https://news{i}.example/rss") for i in range(40)]


def test_every_source_is_in_exactly_one_shard() -> None:
    parts = [shards.select(SPECS, shards.Shard(k, 4)) for k in range(1, 5)]
    assert sorted(s.url for part in parts for s in part) == sorted(s.url for s in SPECS)
    assert all(part for part in parts)  # 40 URLs spread over 4 shards: none empty


def test_no_shard_means_every_source() -> None:
    assert shards.select(SPECS, shards.parse(None)) == tuple(SPECS)
    assert shards.parse(" 2 / 4 ") == shards.Shard(2, 4) and str(shards.Shard(2, 4)) == "2/4"


@pytest.mark.parametrize("text", ["0/4", "5/4", "2", "a/b", "2/0"])
def test_a_malformed_shard_is_refused_in_words(text: str) -> None:
    with pytest.raises(ValueError, match="shard"):
        shards.parse(text)


def test_a_source_lands_in_the_same_shard_in_another_process() -> None:
    code = "from flows import shards; print(shards.of('https://news7.example/rss', 5))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": "12345"})
    assert int(other.stdout) == shards.of("https://news7.example/rss", 5)
