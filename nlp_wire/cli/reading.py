"""Options every command that reads stories shares: the size cap, symlinks, and listing what was not read."""

from __future__ import annotations

import sys

from ..reader import DEFAULT_MAX_BYTES, HIDDEN, STORY_SUFFIXES, ReadReport, Skip, other_suffix

# Reasons common enough in any folder to be only counted unless --verbose; the others are always listed.
_ROUTINE = {HIDDEN, other_suffix(STORY_SUFFIXES)}


def add_reading_options(p) -> None:
    """``--max-bytes``, ``--follow-symlinks`` and ``--verbose`` on a subcommand's parser."""
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, metavar="N",
                   help=f"skip a story file (or JSONL line) over N bytes, named with its size "
                        f"(default {DEFAULT_MAX_BYTES:,}; 0: no cap)")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="read file symlinks that point out of the given folder (folders are never followed)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="list every path not read and why (hidden files and other suffixes are otherwise only counted)")


def reading_options(args) -> dict:
    """The :func:`nlp_wire.read_stories` keywords the options above set."""
    if args.max_bytes < 0:
        from .main import UserError

        raise UserError(f"--max-bytes must be >= 0 (0: no cap), not {args.max_bytes}")
    return {"max_bytes": args.max_bytes or None, "follow_symlinks": args.follow_symlinks}


def print_not_read(skipped: list[Skip], verbose: bool) -> None:
    """List the paths not read on stderr: all of them with ``--verbose``, else the unusual ones."""
    for skip in skipped:
        if verbose or skip.reason not in _ROUTINE:
            print(f"not read: {skip}", file=sys.stderr)


def not_read_tail(report: ReadReport) -> str:
    """``"; 3 paths not read (hidden 2, too large 1)"`` for a command's summary line, or ``""``."""
    text = report.not_read()
    return f"; {text}" if text else ""
