"""Stream stories from files, folders and JSONL, reporting bad inputs without stopping."""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal

from .story import Story, WireFormatError, _read_bytes, decode_wire_bytes, parse_stories

__all__ = ["read_stories", "iter_files", "iter_records", "ReadReport", "Corpus", "read_jsonl_stories"]

logger = logging.getLogger(__name__)

STORY_SUFFIXES = (".txt",)
RECORD_SUFFIXES = (".jsonl",)


@dataclass
class ReadReport:
    """Counts and failures gathered while reading (pass one to :func:`read_stories`)."""

    files: int = 0
    stories: int = 0
    errors: list[WireFormatError] = field(default_factory=list)

    def __call__(self, error: WireFormatError) -> None:
        self.errors.append(error)


def iter_files(path: str | Path, suffixes: tuple[str, ...] = STORY_SUFFIXES) -> Iterator[Path]:
    """Yield the story files under ``path`` (a file or a folder, recursive) in a stable, sorted order.

    A file given by name is yielded whatever its suffix; in folders only ``suffixes`` count, so that
    ``labels.csv`` or a JSONL of predictions written beside the stories are never read as stories.
    Streams: only one folder's listing is held at a time. Hidden files and folders are skipped;
    symlinked folders are not followed (no loops).

    Raises:
        WireFormatError: When ``path`` does not exist.
    """
    path = Path(path)
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        raise WireFormatError("no such file or folder", path)
    stack = [path]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            logger.warning("%s: cannot list folder: %s", folder, exc.strerror or exc)
            continue
        subdirs = []
        for e in entries:
            if e.name.startswith("."):
                continue
            if e.is_dir(follow_symlinks=False):
                subdirs.append(Path(e.path))
            elif e.name.endswith(suffixes) and e.is_file():
                yield Path(e.path)
        stack.extend(reversed(subdirs))


def _fail(err: WireFormatError, on_error: Callable[[WireFormatError], None] | None) -> None:
    if on_error is None:
        raise err
    on_error(err)


def iter_records(path: str | Path, on_error: Callable[[WireFormatError], None] | None = None) -> Iterator[tuple[int, dict]]:
    """Yield ``(line number, record)`` for each JSON object of a ``.jsonl`` file or row of a ``.csv`` file.

    Each JSONL line is decoded on its own, so a stray byte costs nothing and a bad line is named
    exactly. Bad lines (and an unreadable file) go to ``on_error`` and are skipped; with no
    ``on_error`` they raise :class:`WireFormatError`.
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
        for line_no, raw in enumerate(fh, 1):
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


def read_jsonl_stories(path: str | Path, on_error: Callable[[WireFormatError], None] | None = None) -> Iterator[Story]:
    """Yield a story per JSON line (``id``, ``headline``, ``body``...) of a JSONL file.

    Bad lines are passed to ``on_error`` (or raised when it is None) and skipped.
    """
    path = Path(path)
    for line_no, record in iter_records(path, on_error):
        try:
            yield Story.from_record(record, id=f"{path.stem}:{line_no}", path=str(path), line=line_no)
        except WireFormatError as err:
            _fail(err, on_error)


def read_file_stories(path: Path) -> list[Story]:
    """All stories of one wire ``.txt`` file (raises :class:`WireFormatError`)."""
    text = decode_wire_bytes(_read_bytes(path), path)
    return list(parse_stories(text, id=path.stem, path=str(path)))


def read_stories(
    path: str | Path | Iterable[str | Path],
    errors: Literal["report", "raise"] = "report",
    on_error: Callable[[WireFormatError], None] | None = None,
    warn: bool = True,
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

    Yields:
        :class:`Story` objects, in a stable order (sorted paths, file order within a file).

    Raises:
        WireFormatError: With ``errors="raise"``, naming the file and line.
    """
    if errors not in ("report", "raise"):
        raise ValueError(f"errors must be 'report' or 'raise', not {errors!r}")
    report = on_error if isinstance(on_error, ReadReport) else None

    def handle(err: WireFormatError) -> None:
        if errors == "raise":
            raise err
        if warn:
            logger.warning("skipped %s", err)
        if on_error is not None:
            on_error(err)

    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    for root in paths:
        if not os.path.exists(root):
            handle(WireFormatError("no such file or folder", root))
            continue
        for file in iter_files(root):
            if report is not None:
                report.files += 1
            if file.suffix in RECORD_SUFFIXES:
                stories: Iterable[Story] = read_jsonl_stories(file, on_error=handle)
            else:
                try:
                    stories = read_file_stories(file)
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
    """

    def __init__(self, path, limit: int | None = None, shuffle: bool = False, seed: int = 0, errors: str = "report"):
        self.path = path
        self.limit = limit
        self.shuffle = shuffle
        self.seed = seed
        self.errors = errors

    def __iter__(self) -> Iterator[Story]:
        stories: Iterable[Story] = read_stories(self.path, errors=self.errors)
        if self.shuffle:
            stories = list(stories)
            random.Random(self.seed).shuffle(stories)
        yield from itertools.islice(stories, self.limit)
