"""Options every command that reads stories shares: the size cap, symlinks, record fields, and listing what was not read."""

from __future__ import annotations

import sys
from typing import Sequence

from ..dataset import split_labels
from ..reader import DEFAULT_MAX_BYTES, HIDDEN, STORY_SUFFIXES, ReadReport, Skip, is_record_file, other_suffix
from .errors import UserError

# Reasons common enough in any folder to be only counted unless --verbose; the others are always listed.
_ROUTINE = {HIDDEN, other_suffix(STORY_SUFFIXES)}


def add_field_options(p, records: str = "JSONL/CSV records") -> None:
    """``--text-field`` and ``--headline-field``: where a JSONL (or CSV) record keeps its text and headline.

    Args:
        p: The command's parser.
        records: The record files the command reads, as its help names them.
    """
    p.add_argument("--text-field", metavar="NAME", default=None,
                   help=f"{records}: the field holding the story's text, e.g. article (default: body, else "
                        "text); a record without it is a bad line, named with file and line")
    p.add_argument("--headline-field", metavar="NAME", default=None,
                   help=f"{records}: the field holding the headline, e.g. title (default: headline, which may be "
                        "absent); a field named here must be in every record (a misspelt name would otherwise "
                        "drop every headline in silence): a record without it is a bad line")


def field_options(args, inputs: Sequence = ()) -> dict:
    """The ``text_field`` / ``headline_field`` keywords the options of :func:`add_field_options` set.

    With the command's ``inputs``, a warning when they are given and no input is a record file: a folder is
    read as wire files, whose text and headline are found by the wire format, so the names would do nothing.
    """
    given = []
    for flag, value in (("--text-field", args.text_field), ("--headline-field", args.headline_field)):
        if value is not None and not value.strip():
            raise UserError(f"{flag} needs a field name")
        if value is not None:
            given.append(flag)
    if given and inputs and not any(is_record_file(split_labels(str(p))[0]) for p in inputs):
        print(f"warning: {' and '.join(given)} name{'s' * (len(given) == 1)} a field of JSONL/CSV records, and no "
              "input is a record file (a folder is read as wire .txt files): ignored", file=sys.stderr)
    return {"text_field": args.text_field, "headline_field": args.headline_field}


def add_reading_options(p, records: str = "JSONL/CSV records") -> None:
    """``--max-bytes``, ``--follow-symlinks``, ``--text-field``, ``--headline-field`` and ``--verbose``.

    Args:
        p: The command's parser.
        records: The record files the command reads (see :func:`add_field_options`).
    """
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, metavar="N",
                   help=f"skip a story file (or JSONL line, or CSV field) over N bytes, named with its size "
                        f"(default {DEFAULT_MAX_BYTES:,}; 0: no cap)")
    p.add_argument("--follow-symlinks", action="store_true",
                   help="read file symlinks that point out of the given folder (folders are never followed)")
    add_field_options(p, records)
    p.add_argument("-v", "--verbose", action="store_true",
                   help="list every path not read and why (hidden files and other suffixes are otherwise only counted)")


def reading_options(args, inputs: Sequence = ()) -> dict:
    """The :func:`nlp_wire.read_stories` keywords the options above set (``inputs``: see :func:`field_options`)."""
    if args.max_bytes < 0:
        raise UserError(f"--max-bytes must be >= 0 (0: no cap), not {args.max_bytes}")
    return {"max_bytes": args.max_bytes or None, "follow_symlinks": args.follow_symlinks,
            **field_options(args, inputs)}


def refuse_local_only(args, workers_default) -> None:
    """Refuse, in one line, the options set that only the local engine reads, before a run with ``--engine ray``.

    The Ray engine reads every file with the default size cap, never follows a symlink out of a folder,
    reads records' default fields and sizes its own pool of tasks: a value given for these would be
    ignored in silence.

    Args:
        args: The parsed command line (with :func:`add_reading_options`' options and ``--workers``).
        workers_default: The command's default ``--workers``.

    Raises:
        UserError: Naming every such option given.
    """
    given = [flag for flag, on in (("--text-field", args.text_field is not None),
                                   ("--headline-field", args.headline_field is not None),
                                   ("--max-bytes", args.max_bytes != DEFAULT_MAX_BYTES),
                                   ("--follow-symlinks", args.follow_symlinks),
                                   ("--workers", args.workers != workers_default)) if on]
    if given:
        raise UserError(f"{', '.join(given)} work{'s' * (len(given) == 1)} with the local engine only "
                        "(not --engine ray)")


def print_not_read(skipped: list[Skip], verbose: bool) -> None:
    """List the paths not read on stderr: all of them with ``--verbose``, else the unusual ones."""
    for skip in skipped:
        if verbose or skip.reason not in _ROUTINE:
            print(f"not read: {skip}", file=sys.stderr)


def not_read_tail(report: ReadReport) -> str:
    """``"; 3 paths not read (hidden 2, too large 1)"`` for a command's summary line, or ``""``."""
    text = report.not_read()
    return f"; {text}" if text else ""


def print_unwritten(report) -> None:
    """A run that summarized nothing wrote no errors file: name its failures and skipped stories here."""
    for entry in report.unwritten:
        where = f"{entry['path']}:{entry['line']}" if entry.get("line") else entry["path"]
        print(f"skipped: {where}: {entry['reason']}", file=sys.stderr)
    more = report.failed + report.skipped - len(report.unwritten)
    if report.unwritten and more > 0:
        print(f"skipped: ... and {more:,} more", file=sys.stderr)


def warn_ignored_by_baselines(model, name: str, flags: dict[str, bool]) -> None:
    """Warn that the runtime flags given (``{"--device": given?, ...}``) do nothing for a model made only of TF-IDF
    baselines (scikit-learn on the CPU in float64), so a ``--device cuda`` does not look used."""
    from ..classify.baseline import TfidfClassifier

    members = getattr(model, "members", {name: model}).values()
    ignored = [flag for flag, given in flags.items() if given]
    if ignored and all(isinstance(m, TfidfClassifier) for m in members):
        print(f"warning: {', '.join(ignored)} ignored: {name} is made of TF-IDF baselines (CPU, float64)", file=sys.stderr)
