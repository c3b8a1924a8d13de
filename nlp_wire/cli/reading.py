"""Options every command that reads stories shares: the size cap, symlinks, and listing what was not read."""

from __future__ import annotations

import sys

from ..story import DEFAULT_MAX_BYTES

# Reasons every folder has plenty of: counted always, listed one by one only with --verbose.
QUIET_REASONS = ("hidden", "not .txt")


def add_reading_args(p) -> None:
    """Add ``--max-bytes``, ``--follow-symlinks`` and ``--verbose`` to a subcommand's parser."""
    p.add_argument("--max-bytes", type=byte_cap, default=DEFAULT_MAX_BYTES, metavar="N",
                   help=f"skip story files over N bytes (default {DEFAULT_MAX_BYTES:,}; 0: no cap), named with their size")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="read file symlinks that lead out of the folders given (not followed by default)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="list every path not read (hidden, not .txt ...), not only the unusual ones")


def byte_cap(text: str) -> int | None:
    """``--max-bytes`` N: a cap in bytes, 0 for none."""
    value = int(text)
    if value < 0:
        raise ValueError("--max-bytes must be >= 0")
    return value or None


def print_skips(skipped, verbose: bool, file=None) -> None:
    """One ``not read:`` line per path skipped, leaving the common reasons out unless ``verbose``."""
    file = file or sys.stderr
    for s in skipped:
        if verbose or s.reason not in QUIET_REASONS:
            print(f"not read: {s}", file=file)
