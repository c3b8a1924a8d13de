"""Stream stories from files, folders and JSONL, reporting bad inputs without stopping."""

from __future__ import annotations

import json
import logging
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal

from .story import Story, WireFormatError, _read_bytes, decode_wire_bytes, parse_stories

__all__ = ["read_stories", "iter_files", "ReadReport", "Corpus", "read_jsonl_stories"]

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


def iter_files(path: str | Path, suffixes: tuple[str, ...] = STORY_SUFFIXES + RECORD_SUFFIXES) -> Iterator[Path]:
    """Yield story files under ``path`` (a file or a folder, recursive) in a stable, sorted order.

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


def read_jsonl_stories(path: str | Path, on_error: Callable[[WireFormatError], None] | None = None) -> Iterator[Story]:
    """Yield a story per JSON line (``id``, ``headline``, ``body``...) of a JSONL file.

    Bad lines are passed to ``on_error`` (or raised when it is None) and skipped.
    """
    path = Path(path)
    try:
        fh = open(path, encoding="utf-8-sig", errors="strict")
    except OSError as exc:
        raise WireFormatError(f"cannot read: {exc.strerror or exc}", path) from None
    with fh:
        line_no = 0
        while True:
            line_no += 1
            try:
                line = fh.readline()
            except UnicodeDecodeError:
                err = WireFormatError("undecodable text (not UTF-8)", path, line_no)
                if on_error is None:
                    raise err from None
                on_error(err)
                return
            if not line:
                break
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                yield Story.from_record(record, id=f"{path.stem}:{line_no}", path=str(path), line=line_no)
            except json.JSONDecodeError as exc:
                err = WireFormatError(f"invalid JSON: {exc.msg} (column {exc.colno})", path, line_no)
                if on_error is None:
                    raise err from None
                on_error(err)
            except WireFormatError as err:
                if on_error is None:
                    raise
                on_error(err)


def read_file_stories(path: Path) -> list[Story]:
    """All stories of one wire ``.txt`` file (raises :class:`WireFormatError`)."""
    text = decode_wire_bytes(_read_bytes(path), path)
    return list(parse_stories(text, id=path.stem, path=str(path)))


def read_stories(
    path: str | Path | Iterable[str | Path],
    errors: Literal["report", "raise"] = "report",
    on_error: Callable[[WireFormatError], None] | None = None,
) -> Iterator[Story]:
    """Stream the stories in a file, a folder (recursive ``*.txt`` and ``*.jsonl``) or several paths.

    Args:
        path: A wire ``.txt`` file, a ``.jsonl`` file of records, a folder, or a list of these.
        errors: ``"report"`` logs each bad file (and passes it to ``on_error``) and carries on;
            ``"raise"`` stops at the first one.
        on_error: Called with each :class:`WireFormatError` when ``errors="report"``;
            a :class:`ReadReport` collects them with counts.

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
        logger.warning("skipped %s", err)
        if on_error is not None:
            on_error(err)

    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    for root in paths:
        try:
            files = iter_files(root)
            for file in files:
                if report is not None:
                    report.files += 1
                if file.suffix in RECORD_SUFFIXES:
                    for story in read_jsonl_stories(file, on_error=handle if errors == "report" else None):
                        if report is not None:
                            report.stories += 1
                        yield story
                    continue
                try:
                    stories = read_file_stories(file)
                except WireFormatError as err:
                    handle(err)
                    continue
                if report is not None:
                    report.stories += len(stories)
                yield from stories
        except WireFormatError as err:  # the root itself is missing
            handle(err)


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
        for i, story in enumerate(stories):
            if self.limit is not None and i >= self.limit:
                return
            yield story
