"""`python -m scoreboard [set.toml ...]`: print the engine's figures beside the TF-IDF baseline.

With no argument it scores both sets: the labelled set (articles.toml, whose floors are pinned)
and the held-out set (heldout.toml, written before tuning, to show whether the rules carry over).
"""

from __future__ import annotations

import sys
from pathlib import Path

from scoreboard import HELDOUT, LABELLED, render, run


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or [LABELLED, HELDOUT]
    for i, path in enumerate(paths):
        engine, baseline = run(path)
        if i:
            print()
        print(f"scoreboard: {path}")
        print(render(engine, baseline))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
