"""Word lists the engine reads from its vocabulary folder (data, not code): the stop words."""

from __future__ import annotations

from pathlib import Path

LANGUAGE = Path(__file__).with_name("language")


def _read_list(name: str) -> frozenset[str]:
    lines = (LANGUAGE / name).read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


STOP_WORDS = _read_list("stopwords.txt")
