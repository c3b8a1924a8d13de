"""Summarize every story under a folder: streaming, on several processes, safe to interrupt.

``summarize_folder(src, out)`` reads a folder of wire files (recursive), one wire file, or a JSONL
of records, and writes one summary per story to ``out``: a JSONL file (one object a line:
``id, path, headline, date, summary, sentences``), a CSV file (same columns, sentences one a line),
or a folder of ``.txt`` files (one per story, sentences one a line).

How it stays fast and safe:

* **Streaming.** Inputs are listed lazily and handed out in chunks through ``Pool.imap``; at most
  a few chunks per worker are in flight, so memory stays flat however many files there are.
* **Order.** Results come back in input order, so a rerun writes byte-identical output.
* **Bad inputs** never stop the run: each one goes to the errors file (``<out>.errors.jsonl``
  beside ``out``: ``{"path", "line", "reason"}``) and is counted as failed.
* **Atomic output.** A JSONL or CSV output is written to a hidden partial file beside ``out`` and
  renamed over ``out`` only when the run completes; each ``.txt`` is written to a temporary file and
  renamed. A crash or Ctrl-C never leaves a half-written ``out``.
* **Resume.** A journal beside ``out`` records, every few seconds, how many inputs are done and
  how long the partial files were then (after an fsync). ``resume=True`` cuts the partial files back
  to that point and goes on from the next input, so no story is lost or written twice.
* **Path safety.** ``.txt`` names are built from ids with only ``[A-Za-z0-9._-]`` (plus a hash of
  the original when anything was replaced), never start with a dot, and a folder that resolves
  outside ``out`` (a symlink) is refused for that story.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import logging
import multiprocessing
import os
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from ..atomic import atomic_write
from ..reader import (
    DEFAULT_MAX_BYTES,
    Skip,
    _read_bytes,
    _Skipped,
    capped_lines,
    iter_files,
    parse_record_line,
    record_story,
)
from ..story import Story, WireFormatError, decode_wire_bytes, parse_stories
from . import cap_words, get_summarizer

__all__ = ["BatchReport", "summarize_folder", "output_format", "errors_path_for", "safe_name"]

logger = logging.getLogger(__name__)

CSV_HEADER = ["id", "path", "headline", "date", "summary", "sentences"]
JOURNAL_VERSION = 1
_IN_FLIGHT_PER_WORKER = 4
_UNSAFE_RE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 100
_encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(..., ensure_ascii=False) builds one per call
# The header line of the next story in a file (as story.HEADER_START_RE, at a line start).
_NEXT_HEADER_RE = re.compile(r"\n[ \t\ufeff]*date[ \t]+\d{4}-\d{1,2}-\d{1,2}(?=[ \t\r\n]|$)")


@dataclass
class BatchReport:
    """What a folder run did.

    Args:
        done: Stories summarized (including ``resumed``).
        skipped: Stories with no prose to summarize (written with an empty summary, no ``.txt``).
        failed: Files or records that could not be read (each one is in the errors file).
        resumed: Stories an interrupted earlier run had already written.
        out: Where the summaries are.
        errors_path: The errors file, or None when nothing failed.
        seconds: Wall time of this run.
    """

    done: int = 0
    skipped: int = 0
    failed: int = 0
    resumed: int = 0
    out: str = ""
    errors_path: str | None = None
    seconds: float = 0.0
    units: int = field(default=0, repr=False)  # inputs (files or JSONL lines) finished, for the journal
    not_read: list[Skip] = field(default_factory=list, repr=False)  # paths not read at all, and why

    def line(self) -> str:
        """One line for the end of a run."""
        text = f"done {self.done:,}, skipped {self.skipped:,} (no prose), failed {self.failed:,}"
        if self.resumed:
            text += f"; {self.resumed:,} resumed from the interrupted run"
        if self.failed:
            text += f"; failures listed in {self.errors_path}"
        if self.not_read:
            from ..reader import ReadReport

            text += f"; {ReadReport(skipped=self.not_read).not_read()}"
        return f"{text}; wrote {self.out} in {self.seconds:.1f} s"


# -- names and paths ---------------------------------------------------------------------------
def output_format(out: str | Path) -> str:
    """``"jsonl"``, ``"csv"`` or ``"txt"`` (a folder) from the output path.

    Raises:
        ValueError: For a file name with another suffix.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix in (".jsonl", ".csv"):
        return suffix[1:]
    if out.is_dir() or not suffix:
        return "txt"
    raise ValueError(f"{out}: OUT must be a .jsonl file, a .csv file or a folder (for .txt files)")


def errors_path_for(out: str | Path) -> Path:
    """The errors file beside ``out``: ``sums.jsonl`` -> ``sums.errors.jsonl``, ``sums/`` -> ``sums.errors.jsonl``."""
    out = Path(out)
    stem = out.name if output_format(out) == "txt" else out.stem
    return out.with_name(f"{stem}.errors.jsonl")


def safe_name(name: str) -> str:
    """A file or folder name made only of ``[A-Za-z0-9._-]``, never hidden, never ``..``.

    When anything had to change, a short hash of the original is appended so that two different
    ids never share a name (``"a/b"`` and ``"a:b"`` both clean to ``a_b``).
    """
    cleaned = _UNSAFE_RE.sub("_", name).strip("._-")[:_MAX_NAME] or "_"
    if cleaned != name:
        cleaned += "-" + hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return cleaned


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# -- the work, run in worker processes ---------------------------------------------------------
@dataclass(frozen=True)
class _Job:
    """Settings every worker needs (sent once, at pool start)."""

    fmt: str
    method: str
    sentences: int
    max_words: int | None
    max_bytes: int | None = DEFAULT_MAX_BYTES
    text_field: str | None = None  # JSONL records: where the text and headline are (None: body, headline)
    headline_field: str | None = None


_job: _Job | None = None


def _init_worker(job: _Job) -> None:
    global _job
    _job = job


def _render(story: Story, sentences: list[str], fmt: str):
    """A story's output in the form the main process writes without further work."""
    date = story.date.isoformat() if story.date else None
    if fmt == "jsonl":
        record = {
            "id": story.id,
            "path": story.path,
            "headline": story.headline,
            "date": date,
            "summary": " ".join(sentences),
            "sentences": sentences,
        }
        return _encode(record) + "\n"
    if fmt == "csv":
        return [story.id, story.path or "", story.headline, date or "", " ".join(sentences), "\n".join(sentences)]
    return (story.id, "".join(s + "\n" for s in sentences))


def _stories_of(unit: tuple) -> list[Story]:
    if unit[0] == "t":
        path = unit[1]
        # no local holds the text: parse_stories drops it once split, so a large file is held once
        return list(parse_stories(_wire_text(path), id=_stem(path), path=path))
    if unit[0] == "x":  # a JSONL file that could not be opened, or a line over the cap
        raise WireFormatError(unit[3], unit[1], unit[2])
    _, path, line_no, raw = unit
    return [record_story(parse_record_line(raw, path, line_no), path, line_no,
                         text_field=_job.text_field, headline_field=_job.headline_field)]


def _wire_text(path: str) -> str:
    """A wire file's text without its related-headline lists (raises :class:`WireFormatError`)."""
    try:
        data = _read_bytes(path, _job.max_bytes)
    except _Skipped as skip:  # over the cap, a FIFO ...: listed with the failures, with its size
        raise WireFormatError(skip.message(), path) from None
    return _drop_related(decode_wire_bytes(data, path))


def _drop_related(text: str) -> str:
    """The text without what follows each ``(END)`` line up to the next story's header.

    Related-headline lists are never summarized, and parsing without them takes half the time.
    Line numbers of later stories shift; nothing that is written out uses them.
    """
    end = text.find("(END)")
    if end < 0:
        return text
    parts, pos = [], 0
    while end >= 0:
        start = text.rfind("\n", 0, end) + 1
        eol = text.find("\n", end)
        if eol < 0:
            break
        if text[start:eol].strip() != "(END)":  # "(END)" inside a paragraph: not the end
            end = text.find("(END)", eol)
            continue
        parts.append(text[pos : eol + 1])
        m = _NEXT_HEADER_RE.search(text, eol)
        pos = m.start() + 1 if m else len(text)
        end = text.find("(END)", pos)
    parts.append(text[pos:])
    return "".join(parts)


def _stem(path: str) -> str:
    name = os.path.basename(path)
    return name[: name.rfind(".")] if "." in name.lstrip(".") else name


def _process_chunk(chunk: list[tuple]) -> list[tuple]:
    """Summarize a chunk of inputs: for each, ``(outputs, empty, error)``; never raises."""
    job = _job
    summarizer = get_summarizer(job.method)
    results = []
    for unit in chunk:
        try:
            outputs, empty = [], 0
            for story in _stories_of(unit):
                sentences = cap_words(summarizer(story, job.sentences), job.max_words)
                empty += not sentences
                outputs.append(_render(story, sentences, job.fmt))
            results.append((outputs, empty, None))
        except WireFormatError as err:
            results.append(([], 0, {"path": err.path or unit[1], "line": err.line, "reason": err.message}))
        except Exception as exc:  # a bug must not stop the run: record it like a bad file
            line = unit[2] if unit[0] == "j" else None
            results.append(([], 0, {"path": unit[1], "line": line, "reason": f"{type(exc).__name__}: {exc}"}))
    return results


# -- inputs ------------------------------------------------------------------------------------
def _iter_units(src: Path, exclude: Path | None, on_skip=None, max_bytes: int | None = DEFAULT_MAX_BYTES,
                follow_symlinks: bool = False) -> Iterator[tuple]:
    """``("t", path)`` per wire file and ``("j", path, line, raw bytes)`` per JSONL line, in order.

    A JSONL file that cannot be opened is ``("x", path, None, reason)``, a line over ``max_bytes``
    ``("x", path, line, reason)``. Paths not read at all go to ``on_skip`` (see :func:`iter_files`).
    """
    excluded = os.path.realpath(exclude) if exclude is not None else None
    for path in iter_files(src, on_skip=on_skip, follow_symlinks=follow_symlinks):
        spath = str(path)
        if excluded is not None and _inside(os.path.realpath(spath), excluded):
            continue  # our own output folder inside the input folder
        if spath[-6:].lower() != ".jsonl":
            yield ("t", spath)
            continue
        try:
            fh = open(path, "rb")
        except OSError as exc:
            yield ("x", spath, None, f"cannot read: {exc.strerror or exc}")
            continue
        with fh:
            for line_no, raw in capped_lines(fh, max_bytes):
                if raw is None:
                    yield ("x", spath, line_no, f"line too long (over the cap of {max_bytes:,} bytes)")
                elif raw.strip():
                    yield ("j", spath, line_no, raw)


def _unit_key(unit: tuple) -> str:
    return f"{unit[1]}:{unit[2]}" if unit[0] == "j" else unit[1]


def _chunks(units: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    chunk: list[tuple] = []
    for unit in units:
        chunk.append(unit)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# -- outputs -----------------------------------------------------------------------------------
class _Writer:
    """Writes results in order to the partial files, keeps the journal, and finishes atomically."""

    def __init__(self, out: Path, fmt: str, src: Path, params: dict, resume: bool, report: BatchReport, every: float):
        self.out, self.fmt, self.src, self.report, self.every = out, fmt, src, report, every
        self.errors_path = errors_path_for(out)
        self.partial = out.with_name(f".{out.name}.partial")
        self.errors_partial = self.errors_path.with_name(f".{self.errors_path.name}.partial")
        self.journal_path = out.with_name(f".{out.name}.journal")
        self.params = params
        self.src_is_dir = src.is_dir()
        self.last_key: str | None = None
        self.skip = 0
        self.out_root: str | None = None
        self._checked_dir: str | None = None
        self._names_dir: str | None = None
        self._names: set[str] = set()
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "txt":
            out.mkdir(parents=True, exist_ok=True)
            self.out_root = os.path.realpath(out)
        if not (resume and self._load_journal()):
            self._start_fresh(resume)
        self.fh = open(self.partial, "a", encoding="utf-8", newline="") if fmt != "txt" else None
        self.csv = csv.writer(self.fh, lineterminator="\n") if fmt == "csv" else None
        if fmt == "csv" and self.fh.tell() == 0:
            self.csv.writerow(CSV_HEADER)
        self.efh = open(self.errors_partial, "a", encoding="utf-8")
        self.journal = open(self.journal_path, "a", encoding="utf-8")
        if self.journal.tell() == 0:
            self._journal_line({"version": JOURNAL_VERSION, "params": params})
        self.last_checkpoint = time.monotonic()

    # journal
    def _journal_line(self, obj: dict) -> None:
        self.journal.write(json.dumps(obj) + "\n")
        self.journal.flush()
        os.fsync(self.journal.fileno())

    def _start_fresh(self, resume: bool) -> None:
        if self.journal_path.exists() and not resume:
            logger.warning("discarding the partial output of an interrupted run (pass --resume to finish it)")
        for p in (self.partial, self.errors_partial, self.journal_path):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def _load_journal(self) -> bool:
        """Set up a resume from the journal; False when there is nothing to resume."""
        try:
            lines = self.journal_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            logger.warning("nothing to resume at %s: starting from the beginning", self.out)
            return False
        entries = []
        for text in lines:
            try:
                entries.append(json.loads(text))
            except json.JSONDecodeError:
                break  # a torn last line: the entry before it holds
        if not entries or entries[0].get("version") != JOURNAL_VERSION:
            raise ValueError(f"{self.journal_path}: unreadable resume journal; rerun without --resume")
        if entries[0]["params"] != self.params:
            changed = sorted(k for k in self.params if entries[0]["params"].get(k) != self.params[k])
            raise ValueError(
                f"cannot resume: the interrupted run used other settings ({', '.join(changed)}); "
                "rerun with the same ones, or without --resume to start over"
            )
        last = entries[-1] if len(entries) > 1 else {"units": 0, "key": None, "out": 0, "err": 0, "counts": {}}
        for path, size in ((self.partial, last["out"]), (self.errors_partial, last["err"])):
            if path == self.partial and self.fmt == "txt":
                continue
            have = path.stat().st_size if path.exists() else 0
            if have < size:
                raise ValueError(f"cannot resume: {path} is shorter than its journal says; rerun without --resume")
            with open(path, "a+b") as fh:
                fh.truncate(size)  # drop whatever was written after the last checkpoint
        self.skip, self.last_key = last["units"], last["key"]
        counts = last.get("counts", {})
        self.report.done = self.report.resumed = counts.get("done", 0)
        self.report.skipped = counts.get("skipped", 0)
        self.report.failed = counts.get("failed", 0)
        self.report.units = self.skip
        # keep only the header and the checkpoint resumed from
        with atomic_write(self.journal_path) as fh:
            fh.write(json.dumps(entries[0]) + "\n" + (json.dumps(last) + "\n" if len(entries) > 1 else ""))
        logger.info("resuming after %s inputs (%s stories already written)", f"{self.skip:,}", f"{self.report.done:,}")
        return True

    def checkpoint(self, key: str | None, force: bool = False) -> None:
        """Make everything written so far durable and record where the run stands."""
        if not force and time.monotonic() - self.last_checkpoint < self.every:
            return
        for fh in (self.fh, self.efh):
            if fh is not None:
                fh.flush()
                os.fsync(fh.fileno())
        r = self.report
        self._journal_line({
            "units": r.units,
            "key": key,
            "out": self.fh.tell() if self.fh is not None else 0,
            "err": self.efh.tell(),
            "counts": {"done": r.done, "skipped": r.skipped, "failed": r.failed},
        })
        self.last_checkpoint = time.monotonic()

    # results
    def write(self, unit: tuple, result: tuple) -> None:
        """Write one input's results (in input order) and count them."""
        outputs, empty, error = result
        r = self.report
        if error is not None:
            self._fail(error)
        r.skipped += empty
        r.done += len(outputs) - empty
        if self.fmt == "jsonl":
            self.fh.writelines(outputs)
        elif self.fmt == "csv":
            self.csv.writerows(outputs)
        else:
            for story_id, text in outputs:
                if not text:
                    continue
                try:
                    self._write_txt(unit, story_id, text)
                except _Escape as exc:
                    r.done -= 1
                    self._fail({"path": unit[1], "line": unit[2] if unit[0] == "j" else None, "reason": str(exc)})
        r.units += 1
        self.last_key = _unit_key(unit)

    def _fail(self, error: dict) -> None:
        self.report.failed += 1
        self.efh.write(json.dumps(error, ensure_ascii=False) + "\n")

    def _txt_dir(self, unit: tuple) -> Path:
        """Output folder for an input: its folder relative to the source, names made safe."""
        source = Path(unit[1])
        rel = source.parent.relative_to(self.src) if self.src_is_dir else Path()
        parts = [safe_name(p) for p in rel.parts]
        if unit[0] == "j":
            parts.append(safe_name(source.name))  # a JSONL's records get a folder of their own
        return self.out.joinpath(*parts)

    def _write_txt(self, unit: tuple, story_id: str, text: str) -> None:
        folder = self._txt_dir(unit)
        key = str(folder)
        if key != self._names_dir:  # names only need to be unique within a folder
            self._names_dir, self._names = key, set()
        name = safe_name(story_id)
        if name in self._names:  # the same id twice (a JSONL with repeated ids)
            name = safe_name(f"{story_id}~{unit[2] if unit[0] == 'j' else len(self._names)}")
        self._names.add(name)
        if key != self._checked_dir:
            # Resolve before creating anything: mkdir through a symlink would already escape.
            if not _inside(os.path.realpath(folder), self.out_root):
                raise _Escape(f"output folder {folder} resolves outside {self.out} (a symlink?); story {story_id!r} not written")
            folder.mkdir(parents=True, exist_ok=True)
            self._checked_dir = key
        target = folder / f"{name}.txt"
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            with open(tmp, "x", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, target)  # replaces a symlink at target, never writes through it
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def finish(self) -> None:
        """Rename the partial files into place and drop the journal."""
        self.checkpoint(self.last_key, force=True)
        for fh in (self.fh, self.efh, self.journal):
            if fh is not None:
                fh.close()
        if self.fh is not None:
            os.replace(self.partial, self.out)
        if self.report.failed:
            os.replace(self.errors_partial, self.errors_path)
            self.report.errors_path = str(self.errors_path)
        else:
            self.errors_partial.unlink()
            with contextlib.suppress(FileNotFoundError):
                self.errors_path.unlink()  # a stale list from an earlier run
        self.journal_path.unlink()

    def close(self) -> None:
        for fh in (self.fh, self.efh, self.journal):
            if fh is not None and not fh.closed:
                fh.close()


class _Escape(Exception):
    """An output path would leave OUT."""


# -- the run -----------------------------------------------------------------------------------
def summarize_folder(
    src: str | Path,
    out: str | Path,
    *,
    sentences: int = 3,
    max_words: int | None = None,
    method: str = "lead",
    workers: int = 0,
    chunk_size: int = 64,
    resume: bool = False,
    progress: bool = True,
    checkpoint_every: float = 2.0,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    follow_symlinks: bool = False,
    text_field: str | None = None,
    headline_field: str | None = None,
) -> BatchReport:
    """Summarize every story under ``src`` into ``out``.

    Args:
        src: A folder (recursive ``*.txt``), a wire file, or a JSONL file of records.
        out: A ``.jsonl`` file, a ``.csv`` file, or a folder (one ``.txt`` per story).
        sentences: Sentences per summary.
        max_words: Optional cap on each summary's words.
        method: Summarizer name (see :data:`nlp_wire.summarize.SUMMARIZERS`).
        workers: Processes (0: one per CPU core; 1: no pool).
        chunk_size: Inputs handed to a worker at a time.
        resume: Finish an interrupted run with the same settings instead of starting over.
        progress: Show a progress bar (on a terminal).
        checkpoint_every: Seconds between resume checkpoints.
        max_bytes: A wire file (or JSONL line) over this many bytes is not read but listed in the
            errors file with its size (None: no cap).
        follow_symlinks: Read file symlinks that point out of ``src`` (folders are never followed).
        text_field: In JSONL records, the field holding the story's text (``"article"``); None: ``body``,
            else ``text``. A record without it is a failed line in the errors file.
        headline_field: In JSONL records, the field holding the headline; None: ``headline`` (optional).

    Returns:
        A :class:`BatchReport` with the counts.

    Raises:
        ValueError: Bad settings, an output path that is not usable, or a journal that does not
            fit the run being resumed. Bad input files are never raised: they are counted.
        WireFormatError: When ``src`` does not exist.
    """
    started = time.perf_counter()
    src, out = Path(src), Path(out)
    if not src.exists():
        raise WireFormatError("no such file or folder", src)
    if sentences < 1 or chunk_size < 1 or workers < 0 or (max_words is not None and max_words < 1):
        raise ValueError("sentences, chunk_size and max_words must be >= 1, workers >= 0")
    get_summarizer(method)  # fail early on an unknown name
    fmt = output_format(out)
    if fmt == "txt" and out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file; name a folder for .txt summaries, or a .jsonl or .csv file")
    if fmt != "txt" and out.is_dir():
        raise ValueError(f"{out} is a folder; name a .jsonl or .csv file, or a folder without a suffix")
    if fmt != "txt" and os.path.realpath(out) == os.path.realpath(src):
        raise ValueError(f"{out}: the output would overwrite the input")
    workers = workers or os.cpu_count() or 1
    params = {
        "src": os.path.abspath(src),
        "fmt": fmt,
        "method": method,
        "sentences": sentences,
        "max_words": max_words,
        "text_field": text_field,
        "headline_field": headline_field,
    }
    report = BatchReport(out=str(out))
    writer = _Writer(out, fmt, src, params, resume, report, checkpoint_every)
    if max_bytes is not None and max_bytes < 1:
        raise ValueError(f"max_bytes must be >= 1 (or None for no cap), not {max_bytes!r}")
    job = _Job(fmt, method, sentences, max_words, max_bytes, text_field, headline_field)

    units = _iter_units(src, out if fmt == "txt" else None, report.not_read.append, max_bytes, follow_symlinks)
    if writer.skip:
        units = _skip(units, writer.skip, writer.last_key)
    bar = _progress_bar(progress, report.done)
    stop = threading.Event()
    pool = None
    try:
        if workers == 1:
            _init_worker(job)
            chunks = _chunks(units, chunk_size)
            results = ((c, _process_chunk(c)) for c in chunks)
        else:
            pool = multiprocessing.get_context().Pool(workers, initializer=_init_worker, initargs=(job,))
            window = threading.BoundedSemaphore(workers * _IN_FLIGHT_PER_WORKER)
            sent: deque = deque()  # chunks in flight, oldest first (results come back in this order)
            chunks = _throttled(_chunks(units, chunk_size), window, stop, sent)
            results = _paired(pool.imap(_process_chunk, chunks), sent, window)
        for chunk, chunk_results in results:
            for unit, result in zip(chunk, chunk_results):
                writer.write(unit, result)
            if bar is not None:
                bar.n = report.done + report.skipped
                bar.set_postfix(failed=report.failed, refresh=False)
                bar.update(0)
            writer.checkpoint(writer.last_key)
        writer.finish()
    except KeyboardInterrupt:
        logger.warning("interrupted: %s stories written so far; rerun with --resume to finish", f"{report.done:,}")
        raise
    finally:
        stop.set()
        if pool is not None:
            pool.terminate()
            pool.join()
        writer.close()
        if bar is not None:
            bar.close()
    report.seconds = time.perf_counter() - started
    return report


def _skip(units: Iterator[tuple], n: int, last_key: str | None) -> Iterator[tuple]:
    """Drop, now, the ``n`` inputs an interrupted run finished, checking that the last one is the same."""
    unit = None
    for i, unit in enumerate(units, 1):
        if i == n:
            break
    else:
        unit = None
    if unit is None or _unit_key(unit) != last_key:
        raise ValueError("cannot resume: the input changed since the interrupted run; rerun without --resume")
    return units


def _throttled(chunks: Iterator[list], window: threading.BoundedSemaphore, stop: threading.Event, sent: list):
    """Yield chunks only while fewer than the window are in flight (runs in the pool's feeder thread)."""
    for chunk in chunks:
        while not window.acquire(timeout=0.1):
            if stop.is_set():
                return
        if stop.is_set():
            return
        sent.append(chunk)
        yield chunk


def _paired(results: Iterator[list], sent: list, window: threading.BoundedSemaphore):
    for chunk_results in results:
        chunk = sent.popleft()
        window.release()
        yield chunk, chunk_results


def _progress_bar(enabled: bool, initial: int):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(desc="summarizing", unit=" stories", initial=initial, disable=None, smoothing=0.1)


def report_dict(report: BatchReport) -> dict:
    """The report as a plain dict (for JSON)."""
    return asdict(report)
