"""Peak memory and CPU of this process and every process it starts (Linux /proc; no psutil).

The extraction workers are children of multiprocessing's forkserver, itself our child, so
getrusage(RUSAGE_CHILDREN) would miss them while they live: we sample the tree instead.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # the command name may contain spaces
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return 0


def _children(pid: int) -> list[int] | None:
    """pid's children from /proc/<pid>/task/*/children, or None where the kernel lacks them."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []  # gone
    found: list[int] = []
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            if not task.exists():
                continue  # the thread ended meanwhile
            return None  # no CONFIG_PROC_CHILDREN
        except OSError:
            continue
    return found


def descendants(root: int, exclude: Iterable[int] = ()) -> dict[int, float]:
    """pid -> CPU seconds of `root`'s descendants, leaving out the `exclude` subtrees.

    Walks the tree down from `root` (a few files per sample) rather than reading every
    process's stat: the sampler runs 20 times a second beside what it measures.
    """
    skip = set(exclude)
    tree: dict[int, float] = {}
    frontier = [root]
    while frontier:
        children = _children(frontier.pop())
        if children is None:
            return _descendants_by_scan(root, skip)
        for pid in children:
            if pid not in skip and pid not in tree and (found := _stat(pid)) is not None:
                tree[pid] = found[1]
                frontier.append(pid)
    return tree


def _descendants_by_scan(root: int, skip: set[int]) -> dict[int, float]:
    parents: dict[int, tuple[int, float]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = found
    tree: dict[int, float] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, cpu) in parents.items():
            if ppid == parent and pid not in skip and pid not in tree:
                tree[pid] = cpu
                frontier.append(pid)
    return tree


class TreeSampler:
    """Samples the tree's summed RSS and its children's CPU while a block runs."""

    def __init__(self, exclude: Iterable[int] = (), interval_s: float = 0.05) -> None:
        self._root = os.getpid()
        self._exclude = tuple(exclude)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="tree-sampler")
        self._before: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self.peak_rss_bytes = 0
        self.children_cpu_s = 0.0
        self.main_cpu_s = 0.0
        self._main_cpu_start = 0.0

    def _sample(self) -> None:
        tree = descendants(self._root, self._exclude)
        self._last.update(tree)
        rss = _rss_bytes(self._root) + sum(_rss_bytes(pid) for pid in tree)
        self.peak_rss_bytes = max(self.peak_rss_bytes, rss)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._sample()

    def __enter__(self) -> TreeSampler:
        self._before = descendants(self._root, self._exclude)
        self._main_cpu_start = time.process_time()
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.main_cpu_s = time.process_time() - self._main_cpu_start
        self.children_cpu_s = sum(cpu - self._before.get(pid, 0.0)
                                  for pid, cpu in self._last.items())
