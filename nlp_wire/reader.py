"""Stream stories from files, folders and JSONL, reporting bad inputs without stopping."""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import os
import random
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal

from .story import (
    DEFAULT_MAX_BYTES,
    SKIP_REASONS,
    SkippedInput,
    Story,
    WireFormatError,
    _read_bytes,
    decode_wire_bytes,
    parse_stories,
    read_file_bytes,
    skip_for_os_error,
)

__all__ = [
    "read_stories", "iter_files", "iter_records", "ReadReport", "Corpus", "read_jsonl_stories", "SkippedInput",
    "DEFAULT_MAX_BYTES",
]

logger = logging.getLogger(__name__)

STORY_SUFFIXES = (".txt",)
RECORD_SUFFIXES = (".jsonl",)


@dataclass
class ReadReport:
    """Counts, failures and paths not read, gathered while reading (pass one to :func:`read_stories`)."""

    files: int = 0
    stories: int = 0
    errors: list[WireFormatError] = field(default_factory=list)
    skipped: list[SkippedInput] = field(default_factory=list)

    def __call__(self, error: WireFormatError) -> None:
        self.errors.append(error)

    def skip(self, skipped: SkippedInput) -> None:
        """Record a path not read (the ``on_skip`` of :func:`iter_files` and :func:`read_stories`)."""
        self.skipped.append(skipped)

    def skip_counts(self) -> dict[str, int]:
        """Paths not read, by reason, in the order of :data:`~nlp_wire.story.SKIP_REASONS`."""
        counts = Counter(s.reason for s in self.skipped)
        return {r: counts[r] for r in SKIP_REASONS if counts[r]}

    def skip_summary(self) -> str:
        """``"3 paths not read (2 hidden, 1 too large)"``, or ``"no path left unread"``."""
        if not self.skipped:
            return "no path left unread"
        counts = ", ".join(f"{n} {reason}" for reason, n in self.skip_counts().items())
        return f"{len(self.skipped)} path{'s' * (len(self.skipped) != 1)} not read ({counts})"


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def iter_files(
    path: str | Path,
    suffixes: tuple[str, ...] = STORY_SUFFIXES,
    on_skip: Callable[[SkippedInput], None] | None = None,
    follow_symlinks: bool = False,
) -> Iterator[Path]:
    """Yield the story files under ``path`` (a file or a folder, recursive) in a stable, sorted order.

    A file given by name is yielded whatever its suffix; in folders only ``suffixes`` count, so that
    ``labels.csv`` or a JSONL of predictions written beside the stories are never read as stories.
    Suffixes match whatever their case (``STORY.TXT`` is read: Windows and macOS file systems keep
    whatever case a tool wrote). Streams: only one folder's listing is held at a time.

    Nothing is left out in silence: every path not yielded goes to ``on_skip`` as a
    :class:`SkippedInput` with its reason: ``hidden`` (a dotfile or dot-folder, not entered),
    ``not .txt``, ``not a regular file`` (a FIFO, socket or device: never opened),
    ``dangling symlink``, ``symlink loop``, ``symlink out of tree`` (a file link leading out of
    ``path``: not followed unless ``follow_symlinks``), ``symlinked folder`` (never followed, so no
    loops), ``path too long`` and ``unlistable folder``. A ``path`` that is itself such a thing (a
    FIFO, a loop) is one skip, never an exception.

    Args:
        path: A file or a folder.
        suffixes: File name endings read in folders (lower case).
        on_skip: Called with each path not yielded (None: logged at debug level only).
        follow_symlinks: Read file symlinks that lead out of ``path`` too.

    Raises:
        WireFormatError: When ``path`` does not exist.
    """

    def skip(s: SkippedInput) -> None:
        logger.debug("not read: %s", s)
        if on_skip is not None:
            on_skip(s)

    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        skipped = skip_for_os_error(exc, path)
        if skipped is None:
            raise WireFormatError("no such file or folder", path) from None
        skip(skipped)
        return
    if not stat.S_ISDIR(st.st_mode):
        if stat.S_ISREG(st.st_mode):
            yield path
        else:
            skip(SkippedInput("not a regular file", path))
        return
    root = os.path.realpath(path)
    stack = [str(path)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            skip(skip_for_os_error(exc, folder) or SkippedInput("unlistable folder", folder, exc.strerror or str(exc)))
            continue
        subdirs = []
        for e in entries:
            if e.name.startswith("."):
                skip(SkippedInput("hidden", e.path))
            elif e.is_dir(follow_symlinks=False):
                subdirs.append(e.path)
            elif e.is_symlink():
                why_not = _symlink_skip(e.path, root, follow_symlinks)
                if why_not is not None:
                    skip(why_not)
                elif e.name.lower().endswith(suffixes):
                    yield Path(e.path)
                else:
                    skip(SkippedInput("not .txt", e.path))
            elif not e.is_file(follow_symlinks=False):
                skip(SkippedInput("not a regular file", e.path))
            elif e.name.lower().endswith(suffixes):
                yield Path(e.path)
            else:
                skip(SkippedInput("not .txt", e.path))
        stack.extend(reversed(subdirs))


def _symlink_skip(path: str, root: str, follow: bool) -> SkippedInput | None:
    """None when a symlink met in a folder may be read, else why not."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return skip_for_os_error(exc, path) or SkippedInput("dangling symlink", path, exc.strerror or "")
    if stat.S_ISDIR(st.st_mode):
        return SkippedInput("symlinked folder", path, "folder links are never followed")
    if not stat.S_ISREG(st.st_mode):
        return SkippedInput("not a regular file", path)
    target = os.path.realpath(path)
    if not follow and not _inside(target, root):
        return SkippedInput("symlink out of tree", path, f"to {target}; --follow-symlinks reads it")
    return None


def _fail(err: WireFormatError, on_error: Callable[[WireFormatError], None] | None) -> None:
    if on_error is None:
        raise err
    on_error(err)


def iter_records(
    path: str | Path,
    on_error: Callable[[WireFormatError], None] | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Iterator[tuple[int, dict]]:
    """Yield ``(line number, record)`` for each JSON object of a ``.jsonl`` file or row of a ``.csv`` file.

    Each JSONL line is decoded on its own, so a stray byte costs nothing and a bad line is named
    exactly. Bad lines (and an unreadable file) go to ``on_error`` and are skipped; with no
    ``on_error`` they raise :class:`WireFormatError`. A JSONL line over ``max_bytes`` is a
    :class:`SkippedInput` (``too large``), never held in memory whole.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        try:
            text = decode_wire_bytes(_read_bytes(path), path)
        except WireFormatError as err:
            _fail(err, on_error)
            return
        rows = csv.DictReader(io.StringIO(text, newline=""))
        for row in rows:
            yield rows.line_num, row
        return
    try:
        fh = open(path, "rb")
    except OSError as exc:
        _fail(WireFormatError(f"cannot read: {exc.strerror or exc}", path), on_error)
        return
    with fh:
        for line_no, raw in enumerate(_capped_lines(fh, max_bytes), 1):
            if raw is None:
                _fail(SkippedInput("too large", f"{path}:{line_no}", f"a line over {max_bytes:,} bytes"), on_error)
                continue
            if not raw.strip():
                continue
            try:
                record = json.loads(decode_wire_bytes(raw, path))
            except WireFormatError as err:
                _fail(WireFormatError(err.message, path, line_no), on_error)
                continue
            except json.JSONDecodeError as exc:
                _fail(WireFormatError(f"invalid JSON: {exc.msg} (column {exc.colno})", path, line_no), on_error)
                continue
            if not isinstance(record, dict):
                _fail(WireFormatError("a record must be a JSON object", path, line_no), on_error)
                continue
            yield line_no, record


def _capped_lines(fh, max_bytes: int | None) -> Iterator[bytes | None]:
    """The lines of a binary file; None for a line over ``max_bytes`` (read past in small pieces)."""
    if max_bytes is None:
        yield from fh
        return
    while raw := fh.readline(max_bytes + 1):
        if len(raw) <= max_bytes or raw.endswith(b"\n"):
            yield raw
            continue
        while (rest := fh.readline(1 << 20)) and not rest.endswith(b"\n"):
            pass
        yield None


def read_jsonl_stories(
    path: str | Path,
    on_error: Callable[[WireFormatError], None] | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Iterator[Story]:
    """Yield a story per JSON line (``id``, ``headline``, ``body``...) of a JSONL file.

    Bad lines are passed to ``on_error`` (or raised when it is None) and skipped.
    """
    path = Path(path)
    for line_no, record in iter_records(path, on_error, max_bytes):
        try:
            yield Story.from_record(record, id=f"{path.stem}:{line_no}", path=str(path), line=line_no)
        except WireFormatError as err:
            _fail(err, on_error)


def read_file_stories(path: str | Path, max_bytes: int | None = DEFAULT_MAX_BYTES) -> list[Story]:
    """All stories of one wire ``.txt`` file (raises :class:`WireFormatError`; :class:`SkippedInput`
    when over ``max_bytes`` or not a regular file)."""
    path = os.fspath(path)
    name = os.path.basename(path)
    stem = name[: name.rfind(".")] if "." in name.lstrip(".") else name  # Path.stem, without a Path
    # No local name for the text: parse_stories drops it once split into lines (a big file is not held twice).
    return list(parse_stories(decode_wire_bytes(read_file_bytes(path, max_bytes), path), id=stem, path=path))


def read_stories(
    path: str | Path | Iterable[str | Path],
    errors: Literal["report", "raise"] = "report",
    on_error: Callable[[WireFormatError], None] | None = None,
    warn: bool = True,
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    on_skip: Callable[[SkippedInput], None] | None = None,
    follow_symlinks: bool = False,
) -> Iterator[Story]:
    """Stream the stories in a file, a folder (recursive ``*.txt``) or several paths.

    Args:
        path: A wire file, a ``.jsonl`` file of records, a folder, or a list of these.
        errors: ``"report"`` logs each bad file (and passes it to ``on_error``) and carries on;
            ``"raise"`` stops at the first one.
        on_error: Called with each :class:`WireFormatError` when ``errors="report"``;
            a :class:`ReadReport` collects them with counts.
        warn: Log each skipped input as a warning (``False`` when ``on_error`` names them itself, so that
            no input is named twice).
        max_bytes: Largest story file read (a JSONL file: largest line); bigger ones are skipped,
            checked before reading. None: no cap.
        on_skip: Called with each path not read and why (a :class:`SkippedInput`: hidden,
            not .txt, too large, a FIFO, a symlink loop...; see :func:`iter_files`). Skips never
            raise, whatever ``errors`` says. Default: the ``ReadReport`` given as ``on_error``.
        follow_symlinks: Read file symlinks that lead out of a folder given.

    Yields:
        :class:`Story` objects, in a stable order (sorted paths, file order within a file).

    Raises:
        WireFormatError: With ``errors="raise"``, naming the file and line.
    """
    if errors not in ("report", "raise"):
        raise ValueError(f"errors must be 'report' or 'raise', not {errors!r}")
    if max_bytes is not None and max_bytes < 1:
        raise ValueError(f"max_bytes must be >= 1 or None, not {max_bytes!r}")
    report = on_error if isinstance(on_error, ReadReport) else None
    if on_skip is None and report is not None:
        on_skip = report.skip

    def skip(s: SkippedInput) -> None:
        quiet = not warn or s.reason in ("hidden", "not .txt")
        (logger.debug if quiet else logger.warning)("not read: %s", s)
        if on_skip is not None:
            on_skip(s)

    def handle(err: WireFormatError) -> None:
        if isinstance(err, SkippedInput):
            return skip(err)
        if errors == "raise":
            raise err
        if warn:
            logger.warning("skipped %s", err)
        if on_error is not None:
            on_error(err)

    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    for root in paths:
        try:
            os.lstat(root)
        except FileNotFoundError:
            handle(WireFormatError("no such file or folder", root))
            continue
        except OSError:
            pass  # a path too long: iter_files names it
        for file in iter_files(root, on_skip=skip, follow_symlinks=follow_symlinks):
            if report is not None:
                report.files += 1
            if file.suffix in RECORD_SUFFIXES:
                stories: Iterable[Story] = read_jsonl_stories(file, on_error=handle, max_bytes=max_bytes)
            else:
                try:
                    stories = read_file_stories(file, max_bytes)
                except WireFormatError as err:
                    handle(err)
                    continue
            for story in stories:
                if report is not None:
                    report.stories += 1
                yield story


class Corpus:
    """A re-iterable view of the stories under a path, with ``limit`` and ``shuffle`` for quick runs.

    Args:
        path: As for :func:`read_stories`.
        limit: Stop after this many stories (None: all).
        shuffle: Shuffle (needs the stories in memory; use with ``limit`` on big folders).
        seed: Seed for the shuffle.
        errors: As for :func:`read_stories`.
        max_bytes: As for :func:`read_stories`.
    """

    def __init__(self, path, limit: int | None = None, shuffle: bool = False, seed: int = 0, errors: str = "report",
                 max_bytes: int | None = DEFAULT_MAX_BYTES):
        self.path = path
        self.limit = limit
        self.shuffle = shuffle
        self.seed = seed
        self.errors = errors
        self.max_bytes = max_bytes

    def __iter__(self) -> Iterator[Story]:
        stories: Iterable[Story] = read_stories(self.path, errors=self.errors, max_bytes=self.max_bytes)
        if self.shuffle:
            stories = list(stories)
            random.Random(self.seed).shuffle(stories)
        yield from itertools.islice(stories, self.limit)
