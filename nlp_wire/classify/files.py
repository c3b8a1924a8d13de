"""Files to labels on every core: read, parse and predict wire files in a pool of processes.

:func:`classify_files` streams one JSON line per story, in the order one process would give (sorted
paths, file order within a file), whatever the number of workers. Folders and wire files are cut
into chunks of files; each worker loads the model once and turns a chunk into JSON lines. At most
a few chunks per worker are in flight, so memory stays flat however many files there are. JSONL
and CSV files of records are read in the main process, in their place in the order. A worker that
dies (the OOM killer) stops the run with an error instead of a hang.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sys
from itertools import islice
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..atomic import atomic_write
from ..outputs import check_errors_file, check_not_input, error_entry, errors_path_for, own_output, write_errors
from ..reader import (
    DEFAULT_MAX_BYTES,
    FirstSight,
    ReadReport,
    Skip,
    _file_stories,
    _Skipped,
    is_record_file,
    iter_files,
    read_stories,
)
from ..story import WireFormatError
from ..workers import WorkerDied, ordered_map
from .base import WireClassifier, proba_with_words

__all__ = ["classify_files", "classify_to_file", "check_out", "default_workers", "prediction_lines"]

logger = logging.getLogger(__name__)

_IN_FLIGHT_PER_WORKER = 4
# Characters of parsed stories a worker holds before it predicts them (its memory: a few times this).
_TEXT_BUDGET = 4_000_000
_encode = json.JSONEncoder(ensure_ascii=False).encode


def _load_spec(load) -> dict:
    """``load`` as :func:`~nlp_wire.classify.load_classifier`'s keywords: a dict, or a model folder or name."""
    if isinstance(load, (str, os.PathLike)):
        return {"path": os.fspath(load)}
    if not isinstance(load, dict):
        raise TypeError(f"load is a model folder or name, or load_classifier's keywords as a dict, not "
                        f"{type(load).__name__}")
    return load


def default_workers(model) -> int:
    """One process per core for the TF-IDF baseline; 1 for torch models, whose threads use every core.

    Args:
        model: A loaded classifier, or a model folder or name (``None``: the default model).
    """
    from .base import read_model_card
    from .catalog import resolve_model

    if isinstance(model, WireClassifier):
        from .baseline import TfidfClassifier

        baseline = isinstance(model, TfidfClassifier)
    else:
        baseline = read_model_card(resolve_model(model))["kind"] == "baseline"
    return (os.cpu_count() or 1) if baseline else 1


def prediction_lines(model: WireClassifier, stories: list, batch_size: int) -> tuple[list[str], int]:
    """The JSON line of each story (``id``, ``path``, ``label``, ``score``, ``scores``; the answers
    ``model.predict`` gives) ending in a newline, and how many stories had no words. The one line format of both
    engines; ``path`` tells apart stories of files with the same name in other folders."""
    proba, wordless = proba_with_words(model, model.texts(stories), batch_size)
    return [_encode({"id": s.id, "path": s.path, **p.to_dict()}) + "\n"
            for s, p in zip(stories, model.answers(proba))], wordless


# -- in the worker processes -----------------------------------------------------------------------
_worker: dict = {}


def _init_worker(load: dict, batch_size: int, max_bytes: int | None, model=None) -> None:
    from . import load_classifier

    _one_torch_thread()  # before any torch operation here
    model = model if model is not None else load_classifier(**load)  # forked: the parent's model, not loaded again
    _one_torch_thread()  # torch imported by the load (spawned workers): one thread each, not one per core each
    _worker.update(model=model, batch_size=batch_size, max_bytes=max_bytes)


def _one_torch_thread() -> None:
    """Run torch on one thread in this worker. Forked from a process that ran torch, the worker has lost its OpenMP
    thread pool, and its first parallel operation would wait for those threads forever; one thread needs no pool."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _classify_chunk(paths: list[str] | str) -> tuple[list[str], list[WireFormatError], list[Skip], int] | None:
    """JSON lines for the stories of some wire files, with the files that failed or were not read, and how many
    stories had no words.

    A JSONL or CSV file of records (a string) is read by the main process in its place: nothing to do here.

    Stories are predicted as soon as the parsed text held passes ``_TEXT_BUDGET`` characters, so a
    chunk of large files is never all in memory at once.
    """
    if isinstance(paths, str):
        return None
    model, batch_size = _worker["model"], _worker["batch_size"]
    lines, stories, errors, skipped = [], [], [], []
    held = wordless = 0
    for path in paths:
        try:
            got = _file_stories(path, _worker["max_bytes"], on_error=errors.append)  # a bad story: the rest stay
        except _Skipped as s:
            skipped.append(Skip(path, s.reason, s.detail))
            continue
        except WireFormatError as err:
            errors.append(err)
            continue
        stories += got
        held += sum(len(s.headline) + sum(map(len, s.paragraphs)) for s in got)
        if held > _TEXT_BUDGET:
            part, empty = prediction_lines(model, stories, batch_size)
            lines, wordless, stories, held = lines + part, wordless + empty, [], 0
    part, empty = prediction_lines(model, stories, batch_size)
    return lines + part, errors, skipped, wordless + empty


# -- in the main process ----------------------------------------------------------------------------
def classify_files(
    load: dict,
    paths: Iterable[str | Path],
    *,
    workers: int = 0,
    batch_size: int = 256,
    chunk_files: int = 128,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    follow_symlinks: bool = False,
    report: ReadReport | None = None,
    warn: bool = True,
    on_progress: Callable[[int], None] | None = None,
    on_wordless: Callable[[int], None] | None = None,
    model: WireClassifier | None = None,
    text_field: str | None = None,
    headline_field: str | None = None,
) -> Iterator[str]:
    """Classify every story under ``paths``: one JSON line (``id``, ``path``, ``label``, ``score``, ``scores``) each.

    Args:
        load: Keyword arguments of :func:`~nlp_wire.classify.load_classifier` (each worker loads the
            model with them; the main process too, only when a record file or one worker asks for it), or a
            model folder or shipped name.
        paths: Folders (recursive ``*.txt``), wire files, and JSONL or CSV files of records.
        workers: Processes (0: :func:`default_workers` for the model; 1: no pool).
        batch_size: Stories per ``predict`` call.
        chunk_files: Files handed to a worker at a time.
        max_bytes: Largest story file read (see :func:`~nlp_wire.reader.read_stories`).
        follow_symlinks: Read file symlinks that lead out of the folders given.
        report: Collects files, stories, errors and paths not read, as :func:`read_stories` does.
        warn: Log each bad input and unusual skip as a warning (False when the caller names them).
        on_progress: Called with the number of stories of each chunk written.
        on_wordless: Called with the number of stories of each chunk that had no words to classify (they are
            answered with equal scores and the default label, not shown to the model).
        model: The model ``load`` gives, when the caller has it already: used in this process and, where
            processes are forked (Linux), shared with the workers instead of loaded again in each
            (loading the baseline takes longer than classifying thousands of stories).
        text_field: In JSONL or CSV records, the field holding the story's text (``"article"``); None: ``body``,
            else ``text``. A record without it is a bad line in ``report``.
        headline_field: In JSONL or CSV records, the field holding the headline; None: ``headline`` (optional).

    Yields:
        JSON lines ending in a newline, in input order.

    Raises:
        ValueError: Bad ``workers``, ``batch_size`` or ``chunk_files``.
        nlp_wire.workers.WorkerDied: A worker process died (killed, out of memory); the lines yielded
            before it are complete.
    """
    if workers < 0 or batch_size < 1 or chunk_files < 1:
        raise ValueError("workers must be >= 0, batch_size and chunk_files >= 1")
    load = _load_spec(load)
    report = report if report is not None else ReadReport()
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    workers = workers or default_workers(model if model is not None else load.get("path"))
    progress = on_progress or (lambda n: None)
    wordless = on_wordless or (lambda n: None)
    main_model = [model] if model is not None else []

    def model():
        if not main_model:
            from . import load_classifier

            main_model.append(load_classifier(**load))
        return main_model[0]

    def in_main(source) -> Iterator[str]:
        stories = read_stories(source, on_error=report, warn=warn, max_bytes=max_bytes, follow_symlinks=follow_symlinks,
                               text_field=text_field, headline_field=headline_field)
        while batch := list(islice(stories, batch_size)):
            lines, empty = prediction_lines(model(), batch, batch_size)
            yield from lines
            progress(len(batch))
            wordless(empty)

    if workers == 1:
        yield from in_main(paths)
        return
    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else None)
    shared = main_model[0] if fork and main_model else None
    done = 0
    try:
        for chunk, result in ordered_map(_classify_chunk, _chunks(paths, report, chunk_files, follow_symlinks, warn),
                                         workers=workers, initializer=_init_worker, in_flight=_IN_FLIGHT_PER_WORKER,
                                         initargs=(load, batch_size, max_bytes, shared), mp_context=context):
            if isinstance(chunk, str):  # a file of records: in its place, in this process
                for line in in_main(chunk):
                    done += 1
                    yield line
                continue
            lines, errors, skipped, empty = result
            report.files += len(chunk) - len(skipped)  # as read_stories counts: files read, well or badly
            for err in errors:
                if warn:
                    logger.warning("skipped %s", err)
                report(err)
            for s in skipped:
                if warn:
                    logger.warning("not read: %s", s)
                report.skip(s)
            report.stories += len(lines)
            done += len(lines)
            yield from lines
            progress(len(lines))
            wordless(empty)
    except WorkerDied as exc:
        died = WorkerDied(f"{exc}; {done:,} stories' lines were written before it, in input order, the rest were not")
        died.reason = str(exc)  # without what was written: classify_to_file writes nothing then
        raise died from None


def _chunks(paths: list, report: ReadReport, size: int, follow_symlinks: bool, warn: bool) -> Iterator[list[str] | str]:
    """Lists of up to ``size`` wire files, and each file of records on its own, in input order."""
    chunk: list[str] = []
    first_sight = FirstSight(paths, report.skip)
    for root in paths:
        if not os.path.lexists(root):
            report(WireFormatError("no such file or folder", root))
            if warn:
                logger.warning("skipped %s", report.errors[-1])
            continue
        for file in iter_files(root, on_skip=report.skip, follow_symlinks=follow_symlinks):
            if not first_sight(file):
                if warn:
                    logger.warning("not read: %s", report.skipped[-1])
                continue
            if is_record_file(file):
                if chunk:
                    yield chunk
                    chunk = []
                yield str(file)
                continue
            chunk.append(str(file))
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


# -- into a file ------------------------------------------------------------------------------------
def check_out(out: str | Path) -> Path:
    """``out`` as a path, if it can be :func:`classify_to_file`'s output: a ``.jsonl`` file in a folder that exists.

    Raises:
        ValueError: Naming what is wrong.
    """
    out = Path(out)
    if out.suffix.lower() != ".jsonl" or out.is_dir():
        raise ValueError(f"{out}: name a .jsonl file for the JSON lines")
    if not out.parent.is_dir():
        raise ValueError(f"{out}: no such folder {out.parent}")
    check_errors_file(out)
    return out


class _NothingClassified(Exception):
    pass


def classify_to_file(load: dict, paths: Iterable[str | Path], out: str | Path, *, report: ReadReport | None = None,
                     **options) -> ReadReport:
    """:func:`classify_files` into ``out``, written whole or not at all, with the bad inputs (and input paths that
    do not exist) in ``OUT.errors.jsonl`` (:func:`nlp_wire.outputs.errors_path_for`).

    ``out`` is replaced only when at least one story was classified: a run that finds none (every input missing
    or bad) leaves an earlier ``out`` and its errors file as they were. ``out`` may lie inside an input folder: its
    own files are neither read nor counted among the paths not read.

    Args:
        load, paths: As for :func:`classify_files`.
        out: The ``.jsonl`` file to write.
        report: Collects counts, bad inputs and paths not read (a new one when None).
        **options: Any other keyword of :func:`classify_files`.

    Returns:
        The report; ``report.stories`` lines were written (none: ``out`` was not touched).

    Raises:
        ValueError: ``out`` is not a ``.jsonl`` file in a folder that exists (see :func:`check_out`), or it (or its
            errors file) is one of the input ``paths``.
        nlp_wire.workers.WorkerDied: A worker process died; ``out`` was left as it was.
    """
    out = check_out(out)
    load = _load_spec(load)
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    check_not_input(out, paths)
    report = report if report is not None else ReadReport()
    try:
        with atomic_write(out) as fh:
            for line in classify_files(load, paths, report=report, **options):
                fh.write(line)
            if not report.stories:
                raise _NothingClassified
    except _NothingClassified:
        pass
    except WorkerDied as exc:
        raise WorkerDied(f"{getattr(exc, 'reason', exc)}; nothing was written: {out} was left as it was") from None
    finally:
        is_own = own_output(out)
        report.skipped[:] = [s for s in report.skipped if not is_own(s.path)]
    if report.stories:
        write_errors(errors_path_for(out), (error_entry(e.path, e.line, e.message) for e in report.errors))
    return report
