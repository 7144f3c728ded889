"""What every command shares about failing: the exit codes, and the error for bad input."""

from __future__ import annotations

EXIT_OK, EXIT_FAILED_SOURCES, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(ValueError):
    """A bad option, argument or file: said in one line, exit code 2, nothing written."""


class Unreachable(RuntimeError):
    """What a command needed from the network did not answer: exit code 1, nothing written."""
