"""`python -m scoreboard [articles.toml]`: print the engine's figures beside the TF-IDF baseline."""

from __future__ import annotations

import sys
from pathlib import Path

from scoreboard import LABELLED, render, run


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else LABELLED
    engine, baseline = run(path)
    print(f"scoreboard: {path}")
    print(render(engine, baseline))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
