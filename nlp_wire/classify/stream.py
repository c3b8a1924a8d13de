"""Classify every story under some paths, on several processes, streaming and in a stable order.

``classify_paths(model, paths, workers=N)`` lists the inputs lazily (a unit per wire file and per
JSONL line), hands them to worker processes in chunks (at most a few chunks per worker in flight,
so memory stays flat from 10k to 100k files), where each chunk is read, parsed and predicted in one
batch, and yields ``(story id, Prediction)`` in input order: the output of any number of workers
is the output of one. Bad inputs go to the :class:`~nlp_wire.reader.ReadReport` as errors and paths
not read at all as skips, exactly as :func:`~nlp_wire.reader.read_stories` reports them.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Iterator, Sequence

from ..parallel import chunked, ordered_map
from ..reader import (
    DEFAULT_MAX_BYTES,
    RECORD_SUFFIXES,
    STORY_SUFFIXES,
    ReadReport,
    Skip,
    _file_stories,
    _Skipped,
    _walk,
    capped_lines,
    parse_record_line,
    record_story,
)
from ..story import Story, WireFormatError
from .base import Prediction, WireClassifier

__all__ = ["classify_paths"]

logger = logging.getLogger(__name__)

# Set in each worker (and in this process when there is one worker): the model and the reading settings.
_state: dict = {}
# Characters of parsed stories a worker holds before it predicts them (memory: a few times this).
_TEXT_BUDGET = 4_000_000


def _init(model: WireClassifier, batch_size: int, max_bytes: int | None, threads: int | None) -> None:
    _state.update(model=model, batch_size=batch_size, max_bytes=max_bytes)
    if threads and "torch" in sys.modules:  # N workers x all cores each would only fight over the cores
        sys.modules["torch"].set_num_threads(threads)


def _stories_of(unit: tuple, max_bytes: int | None) -> list[Story]:
    kind, path, line = unit[0], unit[1], unit[2]
    if kind == "t":
        return _file_stories(path, max_bytes)
    if kind == "x":  # a JSONL file that could not be opened, or a line over the cap
        raise WireFormatError(unit[3], path, line)
    return [record_story(parse_record_line(unit[3], path, line), path, line)]


def _classify_chunk(chunk: list[tuple]) -> list[tuple]:
    """For each unit: ``(kind, [(story id, prediction)...], error, skip)``; a bad input never stops the chunk.

    Stories are predicted as soon as the parsed text held passes ``_TEXT_BUDGET`` characters, so a
    chunk of large files never sits in memory at once.
    """
    model, max_bytes, batch_size = _state["model"], _state["max_bytes"], _state["batch_size"]
    results: list[tuple] = []
    waiting: list[tuple[list, Story]] = []  # (the unit's predictions list, story), not yet predicted
    held = 0
    for unit in chunk:
        stories, err, skip = [], None, None
        try:
            stories = _stories_of(unit, max_bytes)
        except _Skipped as skipped:
            skip = Skip(unit[1], skipped.reason, skipped.detail)
        except WireFormatError as error:
            err = error
        except Exception as exc:  # a bug must not lose the other inputs: the input is listed as bad
            err = WireFormatError(f"{type(exc).__name__}: {exc}", unit[1], unit[2])
        results.append((unit[0], [], err, skip))
        for story in stories:
            waiting.append((results[-1][1], story))
            held += len(story.headline) + sum(map(len, story.paragraphs))
        if held > _TEXT_BUDGET:
            _predict(model, waiting, batch_size)
            held = 0
    _predict(model, waiting, batch_size)
    return results


def _predict(model: WireClassifier, waiting: list[tuple[list, Story]], batch_size: int) -> None:
    if waiting:
        for (out, story), pred in zip(waiting, model.predict([s for _, s in waiting], batch_size=batch_size)):
            out.append((story.id, pred))
        waiting.clear()


def _units(paths: Sequence, report: ReadReport, handle, max_bytes: int | None, follow_symlinks: bool) -> Iterator[tuple]:
    """``("t", path, None)`` per wire file, ``("j", path, line, raw)`` per JSONL line, ``("x", path, line, reason)``."""
    for root in paths:
        if not os.path.lexists(root):
            handle(WireFormatError("no such file or folder", root))
            continue
        for path in _walk(root, STORY_SUFFIXES, report.skip, follow_symlinks):
            if not path.endswith(RECORD_SUFFIXES):
                yield ("t", path, None)
                continue
            report.files += 1
            try:
                fh = open(path, "rb")
            except OSError as exc:
                yield ("x", path, None, f"cannot read: {exc.strerror or exc}")
                continue
            with fh:
                for line_no, raw in capped_lines(fh, max_bytes):
                    if raw is None:
                        yield ("x", path, line_no, f"line too long (over the cap of {max_bytes:,} bytes)")
                    elif raw.strip():
                        yield ("j", path, line_no, raw)


def classify_paths(
    model: WireClassifier,
    paths: str | Path | Sequence[str | Path],
    *,
    workers: int = 1,
    batch_size: int = 256,
    report: ReadReport | None = None,
    warn: bool = True,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    follow_symlinks: bool = False,
) -> Iterator[tuple[str, Prediction]]:
    """Yield ``(story id, prediction)`` for every story under ``paths``, in the order of :func:`read_stories`.

    Args:
        model: A loaded classifier (forked into the workers, not loaded again).
        paths: Wire files, folders (recursive ``*.txt``) or JSONL files.
        workers: Processes that read, parse and predict (1: all in this process). For a transformer
            model each worker gets ``cores / workers`` torch threads.
        batch_size: Inputs (files or JSONL lines) a worker reads and predicts at a time.
        report: Collects bad inputs (``errors``), paths not read (``skipped``) and counts.
        warn: Log each bad input as a warning.
        max_bytes: As for :func:`~nlp_wire.reader.read_stories`.
        follow_symlinks: As for :func:`~nlp_wire.reader.read_stories`.

    Raises:
        nlp_wire.parallel.WorkerDied: A worker was killed.
    """
    if workers < 1 or batch_size < 1:
        raise ValueError(f"workers and batch_size must be >= 1, not {workers} and {batch_size}")
    if max_bytes is not None and max_bytes < 1:
        raise ValueError(f"max_bytes must be >= 1 (or None for no cap), not {max_bytes!r}")
    report = report if report is not None else ReadReport()
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)

    def handle(err: WireFormatError) -> None:
        if warn:
            logger.warning("skipped %s", err)
        report(err)

    threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None
    chunks = chunked(_units(paths, report, handle, max_bytes, follow_symlinks), batch_size)
    results = ordered_map(_classify_chunk, chunks, workers, _init, (model, batch_size, max_bytes, threads))
    for chunk_results in results:
        # in input order: the units were listed in this process, their results come back in the same order
        for kind, preds, err, skip in chunk_results:
            if skip is not None:
                report.skip(skip)
                continue
            report.files += kind == "t"  # (a JSONL file was counted when it was listed)
            if err is not None:
                handle(err)
            report.stories += len(preds)
            yield from preds
