"""Progress of long work on a terminal; silent anywhere else (logs, CI, Prefect workers)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Reporter(Protocol):
    def start(self, stage: str, total: int) -> None: ...
    def advance(self, stage: str, amount: int = 1) -> None: ...
    def finish(self, stage: str) -> None: ...


class Silent:
    """The default: no output."""

    def start(self, stage: str, total: int) -> None:
        return None

    def advance(self, stage: str, amount: int = 1) -> None:
        return None

    def finish(self, stage: str) -> None:
        return None


class Bars:
    """rich progress bars on stderr (rich ships with Prefect)."""

    def __init__(self) -> None:
        # rich.progress costs ~0.1 s to import: only a run on a terminal, showing bars, pays it.
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), transient=False,
        )
        self._tasks: dict[str, object] = {}

    def __enter__(self) -> Bars:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, stage: str, total: int) -> None:
        self._tasks[stage] = self._progress.add_task(stage, total=total)

    def advance(self, stage: str, amount: int = 1) -> None:
        if stage in self._tasks:
            self._progress.advance(self._tasks[stage], amount)  # type: ignore[arg-type]

    def finish(self, stage: str) -> None:
        if stage in self._tasks:
            for task in self._progress.tasks:
                if task.id == self._tasks[stage]:
                    self._progress.update(task.id, completed=task.total)


_current: Reporter = Silent()


def reporter() -> Reporter:
    return _current


@contextmanager
def on_terminal(enabled: bool = True) -> Iterator[Reporter]:
    """Show bars while the block runs when stderr is a terminal."""
    global _current
    if not (enabled and sys.stderr.isatty()):
        yield _current
        return
    with Bars() as bars:
        previous, _current = _current, bars
        try:
            yield bars
        finally:
            _current = previous
