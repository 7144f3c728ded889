"""Named points where a test can have the process killed, to prove nothing is lost or doubled.

Set CLAIMWATCH_CRASH_AT=<name> and the process SIGKILLs itself on reaching that point.
Unset (always, outside tests) this is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

from claimwatch.flows import settings


def reached(name: str) -> None:
    """Kill this process, without cleanup, when the crash point `name` is armed."""
    if settings.crash_at() == name:
        os.kill(os.getpid(), signal.SIGKILL)
