"""Run inside a pool worker by tests: what that process has loaded. Imports nothing of
claimwatch, so that asking does not load what is asked about."""

from __future__ import annotations

import sys


def loaded(module: str) -> bool:
    return module in sys.modules
