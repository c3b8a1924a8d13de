"""What the batch commands write beside their output, shared by classify, summarize and the Ray engine.

Every run that writes an output ``OUT`` lists its bad inputs in ``OUT.errors.jsonl`` (one
``{"path", "line", "reason"}`` object a line) and keeps its working files beside ``OUT`` as hidden siblings
named ``.OUT.*`` (a lock, a partial file, a journal, a temporary file, Ray's shard folder). When ``OUT`` lies
inside a folder being read, none of these is an input: :func:`own_output` tells them apart.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Iterable

from .atomic import atomic_write

__all__ = ["counted", "first_few", "errors_path_for", "ray_shards_path_for", "check_errors_file", "error_entry", "write_errors", "own_output", "inputs_only", "check_not_input"]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``"1 story"``, ``"2 stories"``, ``"1,200 bad inputs"``: a count with its noun in the right number for summary
    lines (``plural`` defaults to ``noun + "s"``, or ``-y`` -> ``-ies``)."""
    if plural is None:
        plural = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
    return f"{n:,} {noun if n == 1 else plural}"


def first_few(names: Iterable[str], sep: str = ", ", shown: int = 3) -> str:
    """``"a, b, c, ..."``: the first ``shown`` names, and ``", ..."`` when there are more (what a refused folder
    holds, in one line)."""
    names = list(names)
    return sep.join(names[:shown]) + (", ..." if len(names) > shown else "")


def errors_path_for(out: str | Path) -> Path:
    """The errors file beside ``out``: its whole name and ``.errors.jsonl``.

    ``sums.jsonl`` -> ``sums.jsonl.errors.jsonl``, ``sums.csv`` -> ``sums.csv.errors.jsonl``, the folder
    ``sums/`` -> ``sums.errors.jsonl``: outputs side by side never share (and overwrite) one list.
    """
    out = Path(out)
    return out.with_name(f"{out.name}.errors.jsonl")


def ray_shards_path_for(out: str | Path) -> Path:
    """The Ray engine's shard folder beside ``out`` (``.sums.jsonl.ray``): there while a Ray run on ``out`` is
    unfinished."""
    out = Path(out)
    return out.with_name(f".{out.name}.ray")


def check_errors_file(out: str | Path) -> None:
    """Refuse an ``out`` whose errors file is a folder, before any work: it is written last, after ``out`` was
    put in place, so the run would end with ``out`` replaced and the list of bad inputs lost.

    Raises:
        ValueError: Naming both paths.
    """
    errors = errors_path_for(out)
    if errors.is_dir():
        raise ValueError(f"{out}: its errors file {errors} is a folder; move it or name another OUT")


def error_entry(path: str | None, line: int | None, reason: str) -> dict:
    """One line of an errors file."""
    return {"path": path, "line": line, "reason": reason}


def write_errors(path: str | Path, entries: Iterable[dict]) -> int:
    """Write ``entries`` (see :func:`error_entry`) to ``path`` whole or not at all; with none, remove an errors
    file an earlier run left there. Returns how many were written."""
    entries = list(entries)
    if not entries:
        Path(path).unlink(missing_ok=True)
        return 0
    with atomic_write(path) as fh:
        fh.writelines(json.dumps(entry, ensure_ascii=False) + "\n" for entry in entries)
    return len(entries)


def own_output(out: str | Path) -> Callable[[str | Path], bool]:
    """A test of whether a path is ``out``, its errors file, a file inside ``out`` (a folder output) or one of
    the hidden ``.OUT.*`` working files beside it: what a run must not count among its inputs."""
    real = os.path.realpath(out)
    folder, name = os.path.split(real)
    errors = str(errors_path_for(real))

    def is_own(path: str | Path) -> bool:
        p = os.path.realpath(path)
        if p in (real, errors) or p.startswith(real + os.sep):
            return True
        where, base = os.path.split(p)
        return where == folder and base.startswith(f".{name}.")

    return is_own


def inputs_only(out: str | Path, on_skip: Callable) -> Callable:
    """An ``on_skip`` callback (see :func:`nlp_wire.reader.iter_files`) that passes on every path not read
    except ``out``'s own files (:func:`own_output`)."""
    is_own = own_output(out)

    def skip(s) -> None:
        if not is_own(s.path):
            on_skip(s)

    return skip


def check_not_input(out: str | Path, paths: Iterable[str | Path]) -> None:
    """Refuse an output file that is one of the input paths given, or whose errors file is.

    Raises:
        ValueError: Naming the input the run would overwrite.
    """
    written = {os.path.realpath(out), os.path.realpath(errors_path_for(out))}
    for path in paths:
        if os.path.realpath(path) in written:
            raise ValueError(f"{out}: the output would overwrite the input {path}")
