"""Summarize every story under a folder: streaming, on several processes, safe to interrupt.

``summarize_folder(src, out)`` reads a folder of wire files (recursive), one wire file, or a JSONL
of records, and writes one summary per story to ``out``: a JSONL file (one object a line:
``id, path, headline, date, summary, sentences``), a CSV file (same columns, sentences one a line),
or a folder of ``.txt`` files (one per story, sentences one a line).

How it stays fast and safe:

* **Streaming.** Inputs are listed lazily and handed out in chunks through ``Pool.imap``; at most
  a few chunks per worker are in flight, so memory stays flat however many files there are.
* **Order.** Results come back in input order, so a rerun writes byte-identical output.
* **Bad inputs** never stop the run: each one goes to the errors file (``<out name>.errors.jsonl``
  beside ``out``: ``{"path", "line", "reason"}``) and is counted as failed. A story with no prose to
  summarize is listed there too (with its ``id``) and counted as skipped; it is not written.
* **Never another's file.** An existing ``out`` that no summarize run finished (no ``.<out>.done`` beside
  it: someone's own CSV or JSONL), or a non-empty folder without the summaries mark, is refused unless
  ``force=True``; a ``labels.csv`` in the input folder (its gold labels) is refused even then. See
  :func:`check_out_replaceable`.
* **One run per output.** A lock beside ``out`` refuses a second run on the same ``out``; ``.txt``
  names never collide (see :func:`safe_name`; a repeated id gets ``~2``), resumed runs included.
* **Atomic output.** A JSONL or CSV output is written to a hidden partial file beside ``out`` and
  renamed over ``out`` only when the run completes; each ``.txt`` is written to a temporary file and
  renamed. A crash or Ctrl-C never leaves a half-written ``out``. A run that summarizes no story
  (every input bad, or an empty folder) leaves an earlier ``out`` and its errors file as they were
  and hands the first failures back in ``BatchReport.unwritten``. Ctrl-C (or a worker killed by the
  out-of-memory killer) stops the run at a checkpoint within a fraction of a second, with one line.
* **Resume.** A journal beside ``out`` records, every few seconds, how many inputs are done and
  how long the partial files were then (after an fsync). ``resume=True`` cuts the partial files back
  to that point and goes on from the next input, so no story is lost or written twice; on an output
  an earlier run finished it does nothing, and it completes a run killed while renaming its files.
  Each checkpoint also keeps a digest of the inputs done (path, size and modification time; a JSONL
  line's text), so an input edited, replaced or removed since the interruption is named and the
  resume refused, instead of keeping its old summary.
* **Path safety.** ``.txt`` names are built from ids with only ``[A-Za-z0-9._-]`` (plus a hash of
  the original when anything was replaced), never start with a dot, and a folder that resolves
  outside ``out`` (a symlink) is refused for that story.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

from .. import outputs as _outputs  # not `outputs`: a common local name here
from ..outputs import check_not_input, error_entry, inputs_only
from ..atomic import atomic_write
from ..checks import whole_number
from ..reader import (
    DEFAULT_MAX_BYTES,
    SUMMARIES_MARK,
    Skip,
    _read_bytes,
    _Skipped,
    capped_lines,
    capped_lines_at,
    iter_files,
    parse_record_line,
    record_story,
)
from ..story import Story, WireFormatError, decode_wire_bytes, parse_stories, printable
from ..workers import Interrupted, WorkerDied, deferred_interrupt, ordered_map, stopped_by
from . import cap_words, get_summarizer

__all__ = ["BatchReport", "summarize_folder", "output_format", "errors_path_for", "safe_name", "check_out_replaceable",
           "done_path_for"]

logger = logging.getLogger(__name__)

CSV_HEADER = ["id", "path", "headline", "date", "summary", "sentences"]
JOURNAL_VERSION = 1
_IN_FLIGHT_PER_WORKER = 4
_UNSAFE_RE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 100
_HASHED_RE = re.compile(r"-[0-9a-f]{8}$")  # how safe_name ends a name it changed
# Windows device names: "nul.txt" there is the device, whatever the suffix.
_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10))}
_encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(..., ensure_ascii=False) builds one per call
# The header line of the next story in a file (as story.HEADER_START_RE, at a line start).
NO_PROSE = "skipped: no prose to summarize"
_NEXT_HEADER_RE = re.compile(r"\n[ \t\ufeff]*date[ \t]+\d{4}-\d{1,2}-\d{1,2}(?=[ \t\r\n]|$)")


@dataclass
class BatchReport:
    """What a folder run did.

    Args:
        done: Stories summarized (including ``resumed``).
        skipped: Stories with no prose to summarize (not written; listed in the errors file).
        failed: Files or records that could not be read (each one is in the errors file).
        resumed: Stories an interrupted earlier run had already written.
        out: Where the summaries are.
        errors_path: The errors file (failures and skipped stories), or None when there are none.
        seconds: Wall time of this run.
        kept_out: Nothing was summarized, so ``out`` and its errors file were left as they were (an
            empty or mistyped input never wipes earlier summaries); ``unwritten`` holds the first
            failures and skipped stories that would have gone to the errors file.
    """

    done: int = 0
    skipped: int = 0
    failed: int = 0
    resumed: int = 0
    out: str = ""
    errors_path: str | None = None
    seconds: float = 0.0
    finished_before: bool = False  # resume=True on an output an earlier run finished: nothing done
    finished_by: str = field(default="", repr=False)  # "the Ray engine", when it finished that output
    units: int = field(default=0, repr=False)  # inputs (files or JSONL lines) finished, for the journal
    not_read: list[Skip] = field(default_factory=list, repr=False)  # paths not read at all, and why
    kept_out: bool = False
    unwritten: list[dict] = field(default_factory=list, repr=False)

    def line(self, task: str = "summarize") -> str:
        """One line for the end of a run (``task="classify"``: in classify's words, for its Ray engine)."""
        listed = (f"; {'failures' if self.failed else 'skipped stories'} listed in {self.errors_path}"
                  if self.errors_path and (self.failed or self.skipped) else "")
        if self.finished_before:
            return (f"nothing to resume: {self.out} was finished by {self.finished_by or 'an earlier run'} with these "
                    f"settings (done {self.done:,}, "
                    f"skipped {self.skipped:,}, failed {self.failed:,}){listed}; rerun without --resume to redo it")
        text = (f"classified {_outputs.counted(self.done, 'story')}; {_outputs.counted(self.failed, 'bad input')} skipped" if task == "classify" else
                f"done {self.done:,}, skipped {self.skipped:,} (no prose), failed {self.failed:,}")
        if self.resumed:
            text += f"; {self.resumed:,} resumed from the interrupted run"
        if self.kept_out:
            text += f"; nothing written: {self.out} was left as it was"
        else:
            text += listed
        if self.not_read:
            from ..reader import ReadReport

            text += f"; {ReadReport(skipped=self.not_read).not_read()}"
        return text + (f" ({self.seconds:.1f} s)" if self.kept_out else f"; wrote {self.out} in {self.seconds:.1f} s")


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
    """The errors file beside a summaries output ``out`` (:func:`nlp_wire.outputs.errors_path_for`), after
    checking that ``out`` is one (:func:`output_format`)."""
    output_format(out)  # refuses another suffix
    return _outputs.errors_path_for(out)


def safe_name(name: str) -> str:
    """A file or folder name made only of ``[A-Za-z0-9._-]``, never hidden, never ``..``.

    When anything had to change, a short hash of the original is appended so that two different
    ids never share a name (``"a/b"`` and ``"a:b"`` both clean to ``a_b``). A name that already
    ends like that (``x_y-0a1b2c3d``) is hashed too, so that it never meets the cleaned form of
    another (``"x y"``): names that stay as they are and names that get a hash never overlap.
    Windows device names (``nul``, ``con.x``, ``com1`` ...) get a hash too.
    """
    cleaned = _UNSAFE_RE.sub("_", name).strip("._-")[:_MAX_NAME] or "_"
    if cleaned.split(".")[0].upper() in _DEVICES:
        cleaned = "_" + cleaned  # "con.x-<hash>" would still be the device: the part before the dot counts
    if cleaned != name or _HASHED_RE.search(name):
        cleaned += "-" + hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return cleaned


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def done_path_for(out: str | Path) -> Path:
    """``.<out>.done`` beside ``out``: the settings and counts of the run that finished it (local or Ray); it marks
    ``out`` as summarize's own."""
    out = Path(out)
    return out.with_name(f".{out.name}.done")


def check_out_replaceable(out: str | Path, src: str | Path, *, resume: bool = False, force: bool = False) -> None:
    """Refuse an output that would replace a file, or write into a folder, that no summarize run wrote.

    An existing ``out`` (a ``.jsonl`` or ``.csv`` file) is summarize's own when a run finished it (the
    ``.<out>.done`` file beside it), or when ``resume`` goes on with a run in progress on it (its journal:
    that run passed this check when it started). Anything else is someone's own file, replaced only with
    ``force``. An output folder (``.txt`` summaries) must be new, empty, or summarize's own (it holds
    :data:`~nlp_wire.reader.SUMMARIES_MARK`, or ``resume`` goes on with a run in progress); with ``force``
    summaries go into any folder, replacing same-named files, but the folder is not marked as a summaries
    folder (the mark would make later reads skip its own stories). A ``labels.csv`` in the input folder
    (``src``, or the folder of a file ``src``), at any depth, is refused even with ``force``: it is where
    ``label`` writes and ``train``/``evaluate`` read a folder's gold labels, and a summaries CSV there is
    never what was meant.

    Raises:
        ValueError: Naming ``out`` and what to do instead.
    """
    out, src = Path(out), Path(src)
    folder = src if src.is_dir() else src.parent
    if out.name.lower() == "labels.csv" and _inside(os.path.realpath(out.parent), os.path.realpath(folder)):
        raise ValueError(f"{out}: a labels.csv in the input folder holds its gold labels (train and evaluate read "
                         "it); summarize never writes one there, even with --force: name another OUT")
    if force:
        return
    if resume and out.with_name(f".{out.name}.journal").exists():
        return  # a run in progress on this OUT (started with --force, or ours): --resume finishes it
    if out.is_dir():
        held = [] if os.path.lexists(out / SUMMARIES_MARK) else sorted(p.name for p in out.iterdir())
        if held:
            raise ValueError(f"{out}: holds {_outputs.first_few(held)}, not summaries "
                             "written earlier; name a new or empty folder, or pass --force to write into it "
                             "(same-named files are replaced)")
        return
    if not out.is_file():
        return
    if done_path_for(out).exists() or _looks_like_summaries(out):
        return  # an earlier run's summaries (or an empty placeholder): replaced, as a rerun should
    raise ValueError(f"{out} exists and was not written by nlp-wire summarize; pass --force to replace it, "
                     "or name another OUT")


def _looks_like_summaries(out: Path) -> bool:
    """An empty file, or summaries by their first line (a CSV with summarize's header, a JSON line with its
    fields): outputs written before ``.done`` existed, copied or moved ones, and Ray's of earlier versions."""
    try:
        with open(out, "rb") as fh:
            first = fh.readline(64 * 1024).decode("utf-8-sig", "replace").strip()
    except OSError:
        return False
    if not first:
        return True
    if out.suffix.lower() == ".csv":
        return first.split(",") == CSV_HEADER
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and list(record) == CSV_HEADER


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


def _stories_of(unit: tuple, on_error=None) -> list[Story]:
    if unit[0] == "t":
        path = unit[1]
        # no local holds the text: parse_stories drops it once split, so a large file is held once
        return list(parse_stories(_wire_text(path), id=_stem(path), path=path, on_error=on_error))
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
    """Summarize a chunk of inputs: for each, ``(outputs, ids of stories with no prose, error)``; never raises."""
    job = _job
    summarizer = get_summarizer(job.method)
    results = []
    for unit in chunk:
        try:
            outputs, empty, bad = [], [], []
            for story in _stories_of(unit, bad.append):  # a bad story of a file of several: the others stay
                sentences = cap_words(summarizer(story, job.sentences), job.max_words)
                if sentences:
                    outputs.append(_render(story, sentences, job.fmt))
                else:
                    empty.append(story.id)
            error = None
            if bad:  # one errors-file entry an input, at the first bad story
                more = f" (and {_outputs.counted(len(bad) - 1, 'more bad story')} in this file)" \
                    if len(bad) > 1 else ""
                error = error_entry(bad[0].path or unit[1], bad[0].line, bad[0].message + more)
            results.append((outputs, empty, error))
        except WireFormatError as err:
            results.append(([], [], error_entry(err.path or unit[1], err.line, err.message)))
        except Exception as exc:  # a bug must not stop the run: record it like a bad file
            line = unit[2] if unit[0] == "j" else None
            results.append(([], [], error_entry(unit[1], line, f"{type(exc).__name__}: {exc}")))
    return results


# -- inputs ------------------------------------------------------------------------------------
def _iter_units(src: Path, exclude: Path | None, on_skip=None, max_bytes: int | None = DEFAULT_MAX_BYTES,
                follow_symlinks: bool = False, offsets: bool = False) -> Iterator[tuple]:
    """``("t", path)`` per wire file and ``("j", path, line, raw bytes)`` per JSONL line, in order.

    A JSONL file that cannot be opened is ``("x", path, None, reason)``, a line over ``max_bytes``
    ``("x", path, line, reason)``. Paths not read at all go to ``on_skip`` (see :func:`iter_files`).
    With ``offsets``, a JSONL line's unit ends with its byte offset in the file (None in a UTF-16 file; see
    :func:`nlp_wire.reader.capped_lines_at`), so that the Ray engine need not keep every line's bytes.
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
            lines = (capped_lines_at(fh, max_bytes) if offsets
                     else ((n, raw, None) for n, raw in capped_lines(fh, max_bytes)))
            for line_no, raw, offset in lines:
                if raw is None:
                    yield ("x", spath, line_no, f"line too long (over the cap of {max_bytes:,} bytes)")
                elif raw.strip():
                    yield ("j", spath, line_no, raw, offset) if offsets else ("j", spath, line_no, raw)


def _unit_key(unit: tuple) -> str:
    return f"{unit[1]}:{unit[2]}" if unit[0] == "j" else unit[1]


def input_stamp(path: str, raw: bytes | str | None = None) -> str:
    """What changes when an input is edited: a JSONL line's own text, else the file's size and mtime."""
    if raw is not None:
        return hashlib.sha1(raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogatepass")).hexdigest()
    try:
        st = os.stat(path)
    except OSError:
        return "-"
    return f"{st.st_size}:{st.st_mtime_ns}"


def digest_line(path: str, line: int | None, stamp: str) -> bytes:
    """One input's line in a digest of the inputs: a resume's (summarize's journal) or a Ray run's (its manifest)."""
    return f"{path}\0{line}\0{stamp}\n".encode("utf-8", "surrogatepass")


def _unit_stamp(unit: tuple) -> bytes:
    """One input's line in the digest a resume checks."""
    stamp = input_stamp(unit[1], unit[3] if unit[0] == "j" else None) if unit[0] != "x" else f"x:{unit[3]}"
    return digest_line(unit[1], unit[2] if unit[0] != "t" else None, stamp)


def _changed_since(unit: tuple, when_ns: int | None) -> bool:
    """Whether an input's file was modified after ``when_ns`` (time.time_ns()); False when unknown."""
    try:
        return when_ns is not None and os.stat(unit[1]).st_mtime_ns > when_ns
    except OSError:
        return True  # gone


def _chunks(units: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    chunk: list[tuple] = []
    for unit in units:
        chunk.append(unit)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _where(unit: tuple) -> dict:
    return {"path": unit[1], "line": unit[2] if unit[0] == "j" else None}


def skip_entries(unit: tuple, empty_ids: list[str]) -> list[dict]:
    """The errors-file entries naming an input's stories that had no prose to summarize."""
    return [{**_where(unit), "id": story_id, "reason": NO_PROSE} for story_id in empty_ids]


def entry_line(entry: dict) -> str:
    """One errors-file line (without its newline), writable as UTF-8 whatever the path."""
    entry["path"] = printable(str(entry["path"]))  # a non-UTF-8 file name cannot be written as is
    entry["reason"] = printable(str(entry["reason"]))  # nor a reason naming one (OUT's own, say)
    return json.dumps(entry, ensure_ascii=False)


# -- outputs -----------------------------------------------------------------------------------
UNWRITTEN_SHOWN = 20  # failures a run that summarized nothing keeps for its caller to show


def _partial_paths(out: Path) -> tuple[Path, Path, Path]:
    """The files a local summarize of ``out`` keeps until it finishes: its partial output and errors, and its journal."""
    errors = errors_path_for(out)
    return (out.with_name(f".{out.name}.partial"), errors.with_name(f".{errors.name}.partial"),
            out.with_name(f".{out.name}.journal"))


def _remove(paths) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def discard_interrupted_local_run(out: str | Path) -> None:
    """Drop, saying so, what an interrupted local summarize left beside ``out``, once a Ray run has done every input:
    it is stale then, and a later local ``--resume`` would have resumed it over Ray's output."""
    paths = _partial_paths(Path(out))
    if paths[2].exists():
        logger.warning("discarded the partial output an interrupted local run on %s had left (the Ray engine did "
                       "every input)", out)
    _remove(paths)


class _Writer:
    """Writes results in order to the partial files, keeps the journal, and finishes atomically.

    Beside ``out`` (all hidden): ``.<out>.lock`` (held while the run lives: a second run on the same
    ``out`` is refused), ``.<out>.partial`` (the JSONL or CSV being written; for ``.txt`` output the
    list of names used, so that a resumed run never reuses one), ``.<errors>.partial`` and
    ``.<out>.journal`` (the checkpoints). ``.txt`` files are first written in ``out/.nlp_wire-tmp/``.
    """

    def __init__(self, out: Path, fmt: str, src: Path, params: dict, resume: bool, report: BatchReport, every: float):
        self.out, self.fmt, self.src, self.report, self.every = out, fmt, src, report, every
        self.errors_path = errors_path_for(out)
        self.partial, self.errors_partial, self.journal_path = _partial_paths(out)
        self.done_path = done_path_for(out)
        self.params = params
        self.src_is_dir = src.is_dir()
        self.last_key: str | None = None
        self.skip = 0
        self.digest = hashlib.sha1()  # of the inputs done, in order (_unit_stamp): a resume checks it
        self._stamps: deque[bytes] = deque()  # of the inputs listed and not yet written, taken as they are listed
        self.skipping = False  # while a resume drops the inputs done: the digest is not whole yet
        self.resume_digest: str | None = None  # the interrupted run's, at the checkpoint resumed from
        self.resume_time: int | None = None  # when that checkpoint was made (time.time_ns())
        self.out_root: str | None = None
        self.staging = out / ".nlp_wire-tmp"
        self._checked_dir: str | None = None
        self._names_dir: str | None = None
        self._names: set[str] = set()
        self.fh = self.efh = self.journal = None
        self.out_existed = out.exists()  # before a .txt run makes its folder: is there a finished OUT at all?
        # Mark only a folder that is new, empty or already ours: not one written into with force=True.
        mark_it = fmt == "txt" and (not out.is_dir() or os.path.lexists(out / SUMMARIES_MARK) or not any(out.iterdir()))
        out.parent.mkdir(parents=True, exist_ok=True)
        self.lock = _lock(out)
        self.finished_before = False
        try:
            if fmt == "txt":
                out.mkdir(parents=True, exist_ok=True)
                self.out_root = os.path.realpath(out)
                shutil.rmtree(self.staging, ignore_errors=True)  # a killed run's half-written files
                mark = out / SUMMARIES_MARK  # later runs reading a folder around OUT skip it: not wire stories
                if mark_it and not mark.exists():
                    mark.write_text("nlp-wire summaries: folders that hold this file are not read as wire stories\n",
                                    encoding="utf-8")
            state = self._load_journal() if resume else "fresh"
            if state == "finished":
                self.finished_before = True
                return
            if state == "fresh":
                self._start_fresh(resume)
            self.fh = open(self.partial, "a", encoding="utf-8", newline="")
            self.csv = csv.writer(self.fh, lineterminator="\n") if fmt == "csv" else None
            if fmt == "csv" and self.fh.tell() == 0:
                self.csv.writerow(CSV_HEADER)
            self.efh = open(self.errors_partial, "a", encoding="utf-8")
            self.journal = open(self.journal_path, "a", encoding="utf-8")
            if self.journal.tell() == 0:
                self._journal_line({"version": JOURNAL_VERSION, "params": params})
        except BaseException:
            self.release()  # the lock too: a refused resume must not keep OUT locked
            raise
        self.last_checkpoint = time.monotonic()
        self.kept = self.report.done  # stories a --resume would keep (what a resumed run had, at first)

    # journal
    def _journal_line(self, obj: dict) -> None:
        self.journal.write(json.dumps(obj) + "\n")
        self.journal.flush()
        os.fsync(self.journal.fileno())

    def _start_fresh(self, resume: bool) -> None:
        if self.journal_path.exists() and not resume:
            logger.warning("discarding the partial output of an interrupted run (pass --resume to finish it)")
        # .done stays: it describes OUT, which this run replaces only when it finishes with a summary (the
        # journal, written next, is what a --resume looks at first)
        self._remove_partials()

    def _remove_partials(self) -> None:
        """Drop a run's partial files and journal (never OUT, its errors file or ``.done``)."""
        _remove(_partial_paths(self.out))

    def _load_journal(self) -> str:
        """Set up a resume from the journal: ``"resume"``, ``"fresh"`` (nothing to resume) or ``"finished"``."""
        try:
            lines = self.journal_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return self._finished_before()
        entries = []
        for text in lines:
            try:
                entries.append(json.loads(text))
            except json.JSONDecodeError:
                break  # a torn last line: the entry before it holds
        if not entries and len(lines) <= 1:  # stopped before its first line was whole: nothing was kept
            logger.warning("nothing to resume at %s: starting from the beginning", self.out)
            return "fresh"
        if not entries or entries[0].get("version") != JOURNAL_VERSION:
            raise ValueError(f"{self.journal_path}: unreadable resume journal; rerun without --resume")
        self._same_settings(entries[0]["params"], "the interrupted run")
        last = entries[-1] if len(entries) > 1 else {"units": 0, "key": None, "out": 0, "err": 0, "counts": {}}
        counts = last.get("counts", {})
        self.report.done = self.report.resumed = counts.get("done", 0)
        self.report.skipped = counts.get("skipped", 0)
        self.report.failed = counts.get("failed", 0)
        if last.get("final"):  # killed while renaming the finished files into place: finish that
            self._commit()
            logger.info("the interrupted run had finished; its output is now in place")
            return "finished"
        for path, size in ((self.partial, last["out"]), (self.errors_partial, last["err"])):
            have = path.stat().st_size if path.exists() else 0
            if have < size:
                raise ValueError(f"cannot resume: {path} is shorter than its journal says; rerun without --resume")
            with open(path, "a+b") as fh:
                fh.truncate(size)  # drop whatever was written after the last checkpoint
        self.skip, self.last_key = last["units"], last["key"]
        self.resume_digest, self.resume_time = last.get("digest"), last.get("time")  # absent: an older journal
        self.report.units = self.skip
        if self.fmt == "txt":
            self._reload_names()
        # keep only the header and the checkpoint resumed from
        with atomic_write(self.journal_path) as fh:
            fh.write(json.dumps(entries[0]) + "\n" + (json.dumps(last) + "\n" if len(entries) > 1 else ""))
        return "resume"

    def _finished_before(self) -> str:
        """No journal: ``"finished"`` when a run with these settings finished OUT, else ``"fresh"``.

        Raises:
            ValueError: The run that finished OUT used other settings, or a Ray run on OUT was interrupted (its
                shards are beside OUT: the local engine would start over and leave them there).
        """
        shards = _outputs.ray_shards_path_for(self.out)
        if shards.is_dir():
            raise ValueError(f"cannot resume {self.out} with the local engine: {shards} holds the shards of an "
                             "interrupted Ray run; rerun with --engine ray to finish it, or without --resume to start "
                             "over (which discards the shards once it has finished)")
        try:
            done = json.loads(self.done_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            done = None
        if done is None or not self.out_existed:
            logger.warning("nothing to resume at %s: starting from the beginning", self.out)
            return "fresh"
        params = done.get("params", {})
        if params.get("engine") == "ray":  # the Ray engine's settings; the rest are fixed there
            params = {"fmt": "jsonl", "text_field": None, "headline_field": None, "max_bytes": DEFAULT_MAX_BYTES,
                      "follow_symlinks": False, **{k: v for k, v in params.items() if k != "engine"}}
            self.report.finished_by = "the Ray engine"
        self._same_settings(params, f"the run that finished it ({self.report.finished_by})"
                            if self.report.finished_by else "the run that finished it")
        counts = done.get("counts", {})
        self.report.done, self.report.skipped, self.report.failed = (counts.get(k, 0) for k in ("done", "skipped", "failed"))
        return "finished"

    def _same_settings(self, params: dict, whose: str) -> None:
        params = {**_RECORDED_LATER, **params}  # a journal or .done written before these were kept
        if params != self.params:
            changed = sorted(k for k in self.params if params.get(k) != self.params[k])
            told = ", ".join(f"{k} {params.get(k)!r}, now {self.params[k]!r}" for k in changed)
            raise ValueError(
                f"cannot resume {self.out}: {whose} used other settings ({told}); "
                "rerun with the same ones, or without --resume to start over"
            )

    def _reload_names(self) -> None:
        """The names the interrupted run gave in the folder it was writing (the rest are never needed again)."""
        with open(self.partial, encoding="utf-8") as fh:
            for line in fh:
                folder, _, name = line.rstrip("\n").partition("\t")
                if folder != self._names_dir:
                    self._names_dir, self._names = folder, set()
                self._names.add(name.lower())

    def stamping(self, units: Iterator[tuple]) -> Iterator[tuple]:
        """``units``, each one's stamp taken as it is listed, before a worker reads it: a file edited after its
        read, while its result waits its turn, then differs from its stamp and a resume refuses it."""
        for unit in units:
            self._stamps.append(_unit_stamp(unit))
            yield unit

    def checkpoint(self, key: str | None, force: bool = False) -> None:
        """Make everything written so far durable and record where the run stands."""
        if self.skipping or (not force and time.monotonic() - self.last_checkpoint < self.every):
            return
        for fh in (self.fh, self.efh):
            fh.flush()
            os.fsync(fh.fileno())
        self._journal_line({
            "units": self.report.units,
            "key": key,
            "out": self.fh.tell(),
            "err": self.efh.tell(),
            "counts": self._counts(),
            "digest": self.digest.hexdigest(),
            "time": time.time_ns(),
        })
        self.last_checkpoint = time.monotonic()
        self.kept = self.report.done

    def _counts(self) -> dict:
        r = self.report
        return {"done": r.done, "skipped": r.skipped, "failed": r.failed}

    # results
    def write(self, unit: tuple, result: tuple) -> None:
        """Write one input's results (in input order) and count them."""
        outputs, empty_ids, error = result
        r = self.report
        if error is not None:
            self._fail(error)
        for entry in skip_entries(unit, empty_ids):  # named, not written as an empty row
            r.skipped += 1
            self._list(entry)
        r.done += len(outputs)
        if self.fmt == "jsonl":
            self.fh.writelines(outputs)
        elif self.fmt == "csv":
            self.csv.writerows(outputs)
        else:
            for story_id, text in outputs:
                try:
                    self._write_txt(unit, story_id, text)
                except _Escape as exc:
                    r.done -= 1
                    self._fail({**_where(unit), "reason": str(exc)})
        r.units += 1
        self.last_key = _unit_key(unit)
        self.digest.update(self._stamps.popleft())  # taken when it was listed (stamping)

    def _fail(self, error: dict) -> None:
        self.report.failed += 1
        self._list(error)

    def _list(self, entry: dict) -> None:
        self.efh.write(entry_line(entry) + "\n")

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
        # The names log holds folders relative to OUT (safe names only): OUT's own spelling (non-UTF-8
        # bytes, a tab, a newline) can neither stop the write nor mislead the resumed run's reading.
        key = folder.relative_to(self.out).as_posix()
        if key != self._names_dir:  # names only need to be unique within a folder
            self._names_dir, self._names = key, set()
        name, n = safe_name(story_id), 1
        # The same id twice (a JSONL with repeated ids), or ids apart only in case: macOS and Windows
        # file systems ignore case, and A.txt would overwrite a.txt there. (Names are ASCII.)
        while name.lower() in self._names:
            n += 1
            name = safe_name(f"{story_id}~{n}")
        if key != self._checked_dir:
            # Resolve before creating anything: mkdir through a symlink would already escape.
            if not _inside(os.path.realpath(folder), self.out_root):
                raise _Escape(f"output folder {folder} resolves outside {self.out} (a symlink?); story {story_id!r} not written")
            folder.mkdir(parents=True, exist_ok=True)
            self.staging.mkdir(exist_ok=True)
            self._checked_dir = key
        self._names.add(name.lower())
        self.fh.write(f"{key}\t{name}\n")  # the names log: a resumed run knows which names are taken
        tmp = self.staging / f"{secrets.token_hex(8)}.tmp"
        try:
            with open(tmp, "x", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, folder / f"{name}.txt")  # replaces a symlink at the target, never writes through it
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def finish(self) -> None:
        """Make it all durable, then rename the partial files into place and drop the journal.

        A ``final`` journal line comes first: a run killed during the renames is completed by
        ``--resume`` instead of being refused.
        """
        self.checkpoint(self.last_key, force=True)
        if not self.report.done:  # nothing summarized: leave OUT (and its errors file) as they were
            self.close()
            self._discard()
            return
        self._journal_line({"final": True, "counts": self._counts()})
        self.close()
        self._commit()

    def _discard(self, keep: int = UNWRITTEN_SHOWN) -> None:
        """Drop this run's partial files, keeping the first ``keep`` error entries for the caller to show."""
        with contextlib.suppress(FileNotFoundError), open(self.errors_partial, encoding="utf-8") as fh:
            self.report.unwritten = [json.loads(line) for line in islice(fh, keep)]
        self._remove_partials()
        if self.fmt == "txt":
            shutil.rmtree(self.staging, ignore_errors=True)
            if not self.out_existed:
                with contextlib.suppress(OSError):
                    (self.out / SUMMARIES_MARK).unlink()
                    self.out.rmdir()  # the folder this run made, still empty
        self.report.kept_out = True

    def _commit(self) -> None:
        """Put the finished partial files in place (idempotent: also completes a killed commit)."""
        if self.partial.exists():
            if self.fmt == "txt":
                self.partial.unlink()  # the names log
            else:
                os.replace(self.partial, self.out)
        if self.report.failed or self.report.skipped:
            if self.errors_partial.exists():
                os.replace(self.errors_partial, self.errors_path)
            self.report.errors_path = str(self.errors_path)
        else:
            for p in (self.errors_partial, self.errors_path):  # and a stale list from an earlier run
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
        if self.fmt == "txt":
            shutil.rmtree(self.staging, ignore_errors=True)
        with atomic_write(self.done_path) as fh:  # what --resume on this OUT later compares with
            json.dump({"params": self.params, "counts": self._counts()}, fh)
        with contextlib.suppress(FileNotFoundError):
            self.journal_path.unlink()
        shards = _outputs.ray_shards_path_for(self.out)
        if shards.is_dir():  # stale once this OUT is in place (under the lock, which a Ray run holds too)
            logger.warning("discarded the shards an interrupted Ray run on %s had left (this run wrote it)", self.out)
            shutil.rmtree(shards, ignore_errors=True)

    @property
    def writing(self) -> bool:
        """Whether the partial files are open (not yet closed by :meth:`finish`)."""
        return self.fh is not None and not self.fh.closed

    def close(self) -> None:
        for fh in (self.fh, self.efh, self.journal):
            if fh is not None and not fh.closed:
                fh.close()

    def release(self) -> None:
        """Close what is open and drop the lock, whatever stopped the run: never raises from a close.

        A close that fails (ENOSPC flushing the last buffered lines) must not hide why the run stopped
        nor keep the lock; what it could not write lies past the last checkpoint, which resume keeps.
        """
        for fh in (self.fh, self.efh, self.journal):
            if fh is not None and not fh.closed:
                with contextlib.suppress(OSError):
                    fh.close()
        _unlock(self.lock)


# Settings journals and .done files did not always keep, with the values runs then had by default.
_RECORDED_LATER = {"max_bytes": DEFAULT_MAX_BYTES, "follow_symlinks": False}


class _Escape(Exception):
    """An output path would leave OUT."""


def _lock(out: Path):
    """Hold ``.<out>.lock`` beside ``out`` for the run; refuse when another run holds it.

    Returns the open lock file (None where ``fcntl`` is missing: Windows).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    path = out.with_name(f".{out.name}.lock")
    refused = ValueError(f"{out}: another nlp-wire run is writing it (it holds {path}); wait for it to end, "
                         "or name another OUT")
    with _HELD_GUARD:
        while True:
            # A record lock belongs to the process: a second run in this one (a thread) would get it
            # too, and closing its file would drop the first run's lock. Ask the process first.
            with contextlib.suppress(OSError):
                if _file_id(os.stat(path)) in _HELD:
                    raise refused
            try:
                fh = open(path, "a+")
            except PermissionError as exc:  # named by OUT, not by the lock file beside it
                raise PermissionError(exc.errno, f"{exc.strerror} (no new file may be made in {out.parent})",
                                      str(out)) from None
            try:
                # A POSIX record lock, not flock: forked workers do not inherit it, so a killed run's
                # orphaned workers never keep the next run out; the kernel drops it when the run dies.
                fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                fh.close()
                if exc.errno not in (errno.EACCES, errno.EAGAIN):
                    raise
                raise refused from None
            try:
                same = os.stat(path).st_ino == os.fstat(fh.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a lock file a finishing run removed between our open and our flock
                _HELD.add(_file_id(os.fstat(fh.fileno())))
                return fh
            fh.close()


_HELD: set[tuple[int, int]] = set()  # the lock files this process holds (device, inode)
_HELD_GUARD = threading.Lock()


def _file_id(st: os.stat_result) -> tuple[int, int]:
    return (st.st_dev, st.st_ino)


def _unlock(fh) -> None:
    if fh is None or fh.closed:
        return
    with _HELD_GUARD:
        _HELD.discard(_file_id(os.fstat(fh.fileno())))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(fh.name)  # still held: a run waiting on the old file sees it is gone and takes a new one
        fh.close()


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
    force: bool = False,
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
        resume: Finish an interrupted run with the same settings instead of starting over (on a
            finished ``out`` it does nothing).
        force: Replace an existing ``out`` file that no summarize run wrote, or write ``.txt`` summaries
            into a non-empty folder that is not summarize's own (replacing same-named files; the folder is
            not marked). Without it, both are refused: see :func:`check_out_replaceable`.
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
        ValueError: Bad settings, an output path that is not usable, an existing ``out`` file (or a
            non-empty folder) that summarize did not write (without ``force``), another run writing
            ``out``, or a journal that does not fit the run being resumed. Bad input files are never
            raised: they are counted.
        WireFormatError: When ``src`` does not exist.
        nlp_wire.workers.Interrupted: Ctrl-C, after a checkpoint: ``resume=True`` goes on from there.
        nlp_wire.workers.WorkerDied: A worker process was killed (out of memory?), after a checkpoint.
        OSError: ``out`` cannot be written (disk full ...), named in the message.
    """
    started = time.perf_counter()
    src, out = Path(src), Path(out)
    if not src.exists():
        raise WireFormatError("no such file or folder", src)
    if src.is_file() and src.suffix.lower() == ".csv":  # it failed line 1 as "not a wire story"
        raise ValueError(f"{src}: summarize reads wire files and JSONL records, not CSV: write the records as JSONL "
                         "(one JSON object per line; pandas: df.to_json(path, orient='records', lines=True))")
    # before any work, not in every worker; as ints: a numpy integer cannot be written into the journal
    sentences, max_words = whole_number("sentences", sentences, 1), whole_number("max_words", max_words, 1, optional=True)
    chunk_size, workers = whole_number("chunk_size", chunk_size, 1), whole_number("workers", workers, 0)
    max_bytes = whole_number("max_bytes", max_bytes, 1, optional=True)
    get_summarizer(method)  # fail early on an unknown name
    fmt = output_format(out)
    if fmt == "txt" and out.exists() and not out.is_dir():
        raise ValueError(f"{out} is a file; name a folder for .txt summaries, or a .jsonl or .csv file")
    if fmt != "txt" and out.is_dir():
        raise ValueError(f"{out} is a folder; name a .jsonl or .csv file, or a folder without a suffix")
    _outputs.check_errors_file(out)
    if fmt == "txt" and _inside(os.path.realpath(src), os.path.realpath(out)):
        raise ValueError(f"{out}: the output folder holds the input ({src}); name a folder beside it")
    check_not_input(out, [src])  # the check classify and the Ray engine make: OUT, or its errors file
    check_out_replaceable(out, src, resume=resume, force=force)  # before anything is written beside OUT
    workers = workers or os.cpu_count() or 1
    params = {
        "src": os.path.abspath(src),
        "fmt": fmt,
        "method": method,
        "sentences": sentences,
        "max_words": max_words,
        "text_field": text_field,
        "headline_field": headline_field,
        "max_bytes": max_bytes,  # these two change which inputs are read: a resume must keep them too
        "follow_symlinks": follow_symlinks,
    }
    report = BatchReport(out=str(out))
    writer = _Writer(out, fmt, src, params, resume, report, checkpoint_every)
    bar = None
    try:
        if writer.finished_before:
            report.finished_before = True
            report.errors_path = str(writer.errors_path) if writer.errors_path.exists() else None
            return report
        job = _Job(fmt, method, sentences, max_words, max_bytes, text_field, headline_field)
        listed = _iter_units(src, out if fmt == "txt" else None, inputs_only(out, report.not_read.append), max_bytes,
                             follow_symlinks)
        units = results = None
        with deferred_interrupt() as interrupted:
            try:
                if writer.skip:  # in here: a Ctrl-C while skipping stops with the usual line
                    _skip(listed, writer, interrupted)
                    logger.info("resuming after %s inputs (%s stories already written)", f"{writer.skip:,}",
                                f"{report.done:,}")
                units = writer.stamping(listed)
                bar = _progress_bar(progress, report.done)
                if workers == 1:
                    _init_worker(job)
                    # one input at a time: Ctrl-C is looked at after each, not after a whole chunk
                    results = ((c, _process_chunk(c)) for c in _chunks(units, 1))
                else:
                    results = ordered_map(_process_chunk, _chunks(units, chunk_size), workers=workers,
                                          initializer=_init_worker, initargs=(job,), in_flight=_IN_FLIGHT_PER_WORKER,
                                          stop=interrupted)
                for chunk, chunk_results in results:
                    for unit, result in zip(chunk, chunk_results):
                        writer.write(unit, result)
                    if bar is not None:
                        bar.n = report.done + report.skipped
                        bar.set_postfix(failed=report.failed, refresh=False)
                        bar.update(0)
                    writer.checkpoint(writer.last_key)
                    if interrupted():
                        raise KeyboardInterrupt
                writer.finish()
            except (KeyboardInterrupt, WorkerDied) as exc:
                if not interrupted.twice() and writer.writing:  # stopped between two inputs: keep all written
                    writer.checkpoint(writer.last_key, force=True)
                signum = getattr(exc, "signum", interrupted.signum)  # a SIGTERM outside the deferred part has its own
                what = stopped_by(signum) if isinstance(exc, KeyboardInterrupt) else str(exc)
                # what --resume keeps: after a second Ctrl-C, the last checkpoint's count, not all written
                message = f"{what}: {writer.kept:,} stories written so far; rerun with --resume to finish"
                raise (Interrupted(message, signum) if isinstance(exc, KeyboardInterrupt) else WorkerDied(message)) from None
            except OSError as exc:
                where = exc.filename or out
                error = OSError(exc.errno, f"cannot write {where}: {exc.strerror or exc}; {report.done:,} stories "
                                "written so far; rerun with --resume once that is fixed")
                if isinstance(error, (FileExistsError, NotADirectoryError)):  # a file in the way: say which
                    error.filename = where
                raise error from None
            finally:  # the workers and the input being read stop now, not whenever the exception is dropped
                if results is not None:
                    results.close()
                if units is not None:
                    units.close()
                listed.close()
    finally:
        writer.release()
        if bar is not None:
            bar.close()
    report.seconds = time.perf_counter() - started
    return report


def _skip(units: Iterator[tuple], writer: _Writer, interrupted=lambda: False) -> None:
    """Drop, now, the inputs an interrupted run finished, checking that they are the same and unedited.

    Raises:
        ValueError: An input before the resume point was added, removed, renamed or edited since.
        KeyboardInterrupt: ``interrupted()`` came true (looked at every 1,000 inputs); no checkpoint is made
            until the skipping is done (the journal's last one stands).
    """
    n, last_key = writer.skip, writer.last_key
    unit, edited, seen = None, None, None
    writer.skipping = True
    for i, unit in enumerate(units, 1):
        writer.digest.update(_unit_stamp(unit))
        if edited is None and unit[0] != "x" and unit[1] != seen and _changed_since(unit, writer.resume_time):
            edited = unit[1]
        seen = unit[1]  # a JSONL's lines share their file's mtime: looked at once
        if i == n:
            break
        if i % 1000 == 0 and interrupted():
            raise KeyboardInterrupt
    else:
        unit = None
    if unit is None or _unit_key(unit) != last_key:
        raise ValueError("cannot resume: the input changed since the interrupted run; rerun without --resume")
    if writer.resume_digest is not None and writer.digest.hexdigest() != writer.resume_digest:
        what = f"{edited} was edited" if edited else "an input it had finished was edited or replaced"
        raise ValueError(f"cannot resume: {what} after the interrupted run summarized it; "
                         "rerun without --resume to start over")
    writer.skipping = False


def _progress_bar(enabled: bool, initial: int):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(desc="summarizing", unit=" stories", initial=initial, disable=None, smoothing=0.1)


def report_dict(report: BatchReport) -> dict:
    """The report as a plain dict (for JSON)."""
    return asdict(report)
