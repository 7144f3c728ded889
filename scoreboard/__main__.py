"""`python -m scoreboard [--blind] [--story NAME ...] [--show]`: the engine beside TF-IDF, per story.

Stories people tune on are printed first, then the blind ones apart (--blind prints them; they
are never looked at while changing the engine). --show lists each wrong answer of a non-blind
story, for reading.
"""

from __future__ import annotations

import argparse
import sys

from scoreboard import Story, all_stories, pooled, run_baseline, run_engine
from scoreboard.scoring import Score

HEADER = (f"{'story':18}{'arts':>5}{'pairs':>6}  {'P':>5}{'R':>5}{'rel F1':>7}{'tfidf':>7}"
          f"  {'macroF1':>8}{'tfidf':>7}"
          f"  {'dev ok':>8}{'dup dev':>8}{'edits':>7}{'facts':>9}")


def _row(story: Story, engine: Score, base: Score) -> str:
    return (f"{story.name:18}{len(story.articles):>5}{engine.pairs:>6}  {engine.precision:>5.2f}"
            f"{engine.recall:>5.2f}{engine.f1:>7.3f}"
            f"{base.f1:>7.3f}  {engine.relation_macro_f1:>8.3f}{base.relation_macro_f1:>7.3f}"
            f"  {engine.development_right:>3}/{engine.development_total:<4}"
            f"{engine.duplicate_developments:>3}/{engine.duplicates:<4}"
            f"{engine.edits_right:>3}/{engine.edits:<3}{engine.facts_right:>4}/{engine.facts_total:<4}")


def _table(title: str, stories: list[Story], show: bool) -> None:
    print(title)
    print(HEADER)
    engines, bases = [], []
    for story in stories:
        engine, outs = run_engine(story)
        base = run_baseline(story)
        engines.append(engine)
        bases.append(base)
        print(_row(story, engine, base))
        if show and not story.blind:
            _wrong(story, outs)
    if engines:
        e, b = pooled(engines), pooled(bases)
        print(f"{'mean':39}  {e[0]:>7.3f}{b[0]:>7.3f}  {e[1]:>8.3f}{b[1]:>7.3f}")
        rel = ", ".join(f"{r} {sum(x.per_relation.get(r, 0) for x in engines) / len(engines):.2f}"
                        for r in ("confirms", "updates", "contradicts", "mentions"))
        print(f"  per relation F1 (mean): {rel}")


def _wrong(story: Story, outs: dict) -> None:  # type: ignore[type-arg]
    for a in story.articles:
        out = outs[a.id]
        if out.skipped:
            continue
        want = {e.claim: e for e in a.expect}
        for claim in sorted(set(want) | set(out.relations)):
            got = out.relations.get(claim, "none")
            w = want[claim].relation if claim in want else "none"
            if got != w:
                print(f"    {a.id:40} {claim:28} want {w:11} got {got:11} {out.facts.get(claim, '')}")
                if claim in out.evidence:
                    print(f"        {out.evidence[claim][:160]!r}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m scoreboard")
    parser.add_argument("--blind", action="store_true", help="also score the blind stories")
    parser.add_argument("--story", action="append", help="only these stories")
    parser.add_argument("--show", action="store_true", help="list wrong answers (non-blind only)")
    args = parser.parse_args(argv)
    stories = [s for s in all_stories() if not args.story or s.name in args.story]
    _table("Stories tuned on", [s for s in stories if not s.blind], args.show)
    if args.blind:
        print()
        _table("Blind stories (written before these engine changes; never tuned on)",
               [s for s in stories if s.blind], False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
