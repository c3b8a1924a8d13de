"""Stream stories from files, folders and JSONL, reporting bad inputs without stopping."""

from __future__ import annotations

import csv
import errno
import io
import itertools
import json
import logging
import os
import random
import re
import secrets
import stat
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal

from .checks import whole_number
from .outputs import counted
from .story import Story, WireFormatError, decode_wire_bytes, open_to_read, parse_stories, printable

__all__ = [
    "read_stories", "iter_files", "iter_records", "ReadReport", "Skip", "Corpus", "read_jsonl_stories",
    "iter_record_stories", "is_record_file", "FirstSight",
    "DEFAULT_MAX_BYTES",
]

logger = logging.getLogger(__name__)

STORY_SUFFIXES = (".txt",)
# Files of records (one story a JSON line or CSV row) when given by name; compared without case.
RECORD_SUFFIXES = (".jsonl", ".csv")
# One story file (or one JSONL record) larger than this is not read: parsing holds a few copies of it.
DEFAULT_MAX_BYTES = 10_000_000

# Why a path was not read (Skip.reason).
HIDDEN = "hidden"
NOT_REGULAR = "not a regular file"
DANGLING = "dangling symlink"
LOOP = "symlink loop"
OUTSIDE = "symlink out of the folder"
LINKED_FOLDER = "symlinked folder"
TOO_LARGE = "too large"
TOO_LONG = "path too long"
UNLISTABLE = "unlistable folder"
SUMMARIES = "nlp-wire summaries folder"
REPEATED = "given twice"
# The file ``nlp-wire summarize --out FOLDER`` leaves in a folder of .txt summaries: a later run reading a folder
# that holds it skips it (its summaries are not wire stories), unless that folder is the path given.
SUMMARIES_MARK = ".nlp_wire-summaries"


class FirstSight:
    """Files met again under another of several paths given (``wire/`` and ``wire/a.txt``, a folder twice, a
    symlink to a file met already): the first meeting is read, a later one is a :class:`Skip` (``"given twice"``,
    naming the first path), so that no story is read, counted or answered twice.

    ``first_sight(file)`` is True the first time a file (by its real path) is met. Holds one path per file met,
    only when ``paths`` has more than one entry (one folder never yields a file twice).
    """

    def __init__(self, paths: list, on_skip: Callable[[Skip], None] | None = None):
        self.seen: dict[str, str] | None = {} if len(paths) > 1 else None
        self.on_skip = on_skip or (lambda skip: None)

    def __call__(self, file: str | os.PathLike) -> bool:
        if self.seen is None:
            return True
        key = os.path.realpath(file)
        if key not in self.seen:
            self.seen[key] = os.fspath(file)
            return True
        self.on_skip(Skip(os.fspath(file), REPEATED, f"read as {self.seen[key]}"))
        return False


def is_record_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a file of records (``.jsonl`` or ``.csv``, in any case) rather than wire text."""
    return os.fspath(path).lower().endswith(RECORD_SUFFIXES)


def other_suffix(suffixes: tuple[str, ...]) -> str:
    """The skip reason of a file whose suffix is not one of ``suffixes`` (``"not .txt"``)."""
    return "not " + "/".join(suffixes)


@dataclass(frozen=True)
class Skip:
    """A path that was not read, and why.

    Args:
        path: The file or folder.
        reason: One of the reasons above (``"hidden"``, ``"too large"``, ``"not .txt"``, ...).
        detail: More about it: the size of a file over the cap, where a symlink points.
    """

    path: str
    reason: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" + (f" ({self.detail})" if self.detail else "")

    def message(self) -> str:
        """``"not read: too large (12,345,678 bytes ...)"``: the reason an errors file gives."""
        return f"not read: {self.reason}" + (f" ({self.detail})" if self.detail else "")


class _Skipped(Exception):
    """A story file is not read (reason as in :class:`Skip`)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail

    def message(self) -> str:
        return Skip("", self.reason, self.detail).message()


@dataclass
class ReadReport:
    """Counts, failures and skipped paths gathered while reading (pass one to :func:`read_stories`).

    ``errors`` are inputs that were read and found bad; ``skipped`` are paths not read at all
    (hidden, not ``.txt``, too large, a FIFO, a symlink loop ...), each with its reason.
    """

    files: int = 0
    stories: int = 0
    errors: list[WireFormatError] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)

    def __call__(self, error: WireFormatError) -> None:
        self.errors.append(error)

    def skip(self, skip: Skip) -> None:
        self.skipped.append(skip)

    def skip_counts(self) -> dict[str, int]:
        """Skipped paths by reason, most frequent first."""
        return dict(Counter(s.reason for s in self.skipped).most_common())

    def not_read(self) -> str:
        """``"3 paths not read (hidden 2, too large 1)"``, or ``""`` when every path was read."""
        if not self.skipped:
            return ""
        counts = ", ".join(f"{reason} {n:,}" for reason, n in self.skip_counts().items())
        return f"{counted(len(self.skipped), 'path')} not read ({counts})"


def iter_files(
    path: str | Path,
    suffixes: tuple[str, ...] = STORY_SUFFIXES,
    on_skip: Callable[[Skip], None] | None = None,
    follow_symlinks: bool = False,
) -> Iterator[Path]:
    """Yield the story files under ``path`` (a file or a folder, recursive) in a stable, sorted order.

    A file given by name is yielded whatever its name or suffix (a symlink given by name is followed);
    in folders only ``suffixes`` count, compared without case (``NOTES.TXT`` is a story file), so that
    ``labels.csv`` or a JSONL of predictions written beside the stories are never read as stories.
    Streams: only one folder's listing is held at a time.

    Everything else is passed to ``on_skip`` as a :class:`Skip` with its reason, never dropped in
    silence: hidden files and folders, other suffixes, FIFOs and other special files, dangling
    symlinks, symlink loops, symlinked folders (never followed, so no loops), file symlinks that
    point out of ``path`` (unless ``follow_symlinks``), folders that cannot be listed, paths
    too long for the system, and folders of ``.txt`` summaries written by ``nlp-wire summarize``
    (they hold :data:`SUMMARIES_MARK`; such a folder given as ``path`` itself is read).

    Raises:
        WireFormatError: When ``path`` does not exist.
    """
    for file in _walk(path, suffixes, on_skip or _log_skip, follow_symlinks):
        yield Path(file)


def _log_skip(skip: Skip) -> None:
    """Where no report collects skips: files a folder holds beside its stories (hidden, other suffixes, summaries,
    linked folders) at INFO; a path that was meant to be read (too large, a FIFO, a dangling link, given twice ...)
    as a warning, so that no story is lost without a word."""
    quiet = skip.reason in (HIDDEN, SUMMARIES, LINKED_FOLDER) or skip.reason.startswith("not .")
    logger.log(logging.INFO if quiet else logging.WARNING, "not read: %s", skip)


def _walk(path, suffixes: tuple[str, ...], on_skip: Callable[[Skip], None], follow_symlinks: bool) -> Iterator[str]:
    """:func:`iter_files` on strings (cheaper than a Path per file)."""
    root = str(Path(path))  # the same spelling as the Path the stories used to carry
    try:
        mode = os.stat(root).st_mode
    except OSError as exc:
        problem = _stat_problem(root, exc)
        if problem is None:
            raise WireFormatError("no such file or folder", path) from None
        on_skip(Skip(root, *problem))
        return
    if stat.S_ISREG(mode):
        yield root
        return
    if not stat.S_ISDIR(mode):
        on_skip(Skip(root, NOT_REGULAR, _kind(mode)))
        return
    wanted = tuple(s.lower() for s in suffixes)
    other = other_suffix(suffixes)
    root_real = os.path.realpath(root)
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            on_skip(Skip(folder, TOO_LONG if exc.errno == errno.ENAMETOOLONG else UNLISTABLE, exc.strerror or str(exc)))
            continue
        prefix = "" if folder == "." else folder if folder.endswith(os.sep) else folder + os.sep
        subdirs = []
        for e in entries:
            name = e.name
            file = prefix + name
            if name.startswith("."):
                on_skip(Skip(file, HIDDEN))
            elif e.is_symlink():
                problem = _link_problem(file, root_real, follow_symlinks)
                if problem is not None:
                    on_skip(Skip(file, *problem))
                elif not name.lower().endswith(wanted):
                    on_skip(Skip(file, other))
                else:
                    yield file
            elif e.is_dir(follow_symlinks=False):
                if os.path.lexists(file + os.sep + SUMMARIES_MARK):
                    on_skip(Skip(file, SUMMARIES))
                else:
                    subdirs.append(file)
            elif not e.is_file(follow_symlinks=False):
                on_skip(Skip(file, NOT_REGULAR, _kind(e.stat(follow_symlinks=False).st_mode)))
            elif not name.lower().endswith(wanted):
                on_skip(Skip(file, other))
            else:
                yield file
        stack.extend(reversed(subdirs))


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return ""


def _stat_problem(path: str, exc: OSError) -> tuple[str, str] | None:
    """Why ``os.stat(path)`` failed, as a skip reason; None when nothing is there at all."""
    if exc.errno == errno.ELOOP:
        return (LOOP, "")
    if exc.errno == errno.ENAMETOOLONG:
        return (TOO_LONG, f"{len(path):,} characters")
    if isinstance(exc, FileNotFoundError):
        return (DANGLING, f"points to {os.readlink(path)}") if os.path.islink(path) else None
    return (UNLISTABLE, exc.strerror or str(exc))


def _link_problem(path: str, root_real: str, follow: bool) -> tuple[str, str] | None:
    """Why a symlink in a folder is not read, or None when it is a story file to read."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return _stat_problem(path, exc) or (DANGLING, "")
    if stat.S_ISDIR(mode):
        return (LINKED_FOLDER, "folders are not followed")
    if not stat.S_ISREG(mode):
        return (NOT_REGULAR, _kind(mode))
    target = os.path.realpath(path)
    if not follow and not (target == root_real or target.startswith(root_real.rstrip(os.sep) + os.sep)):
        return (OUTSIDE, f"points to {target}; --follow-symlinks to read it")
    return None


def _read_bytes(path: str, max_bytes: int | None = DEFAULT_MAX_BYTES) -> bytes:
    """A story file's bytes, its size checked (by fstat, on the open file) before it is read.

    Opened without blocking, so that a FIFO is named and skipped rather than waited on forever.

    Raises:
        _Skipped: Not a regular file, over ``max_bytes``, a symlink loop or a path too long.
        WireFormatError: Missing or unreadable.
    """
    try:
        fh, st = open_to_read(path)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENAMETOOLONG) or (isinstance(exc, FileNotFoundError) and os.path.islink(path)):
            raise _Skipped(*_stat_problem(path, exc)) from None
        if isinstance(exc, FileNotFoundError):
            raise WireFormatError("no such file", path) from None
        raise WireFormatError(f"cannot read: {exc.strerror or exc}", path) from None
    with fh:
        if not stat.S_ISREG(st.st_mode):
            raise _Skipped(NOT_REGULAR, _kind(st.st_mode))
        if max_bytes is not None and st.st_size > max_bytes:
            raise _Skipped(TOO_LARGE, f"{st.st_size:,} bytes, over the cap of {max_bytes:,}")
        try:
            data = fh.read(st.st_size + 1)
            if len(data) > st.st_size:  # it grew since fstat (or reports no size, as /proc does)
                data += fh.read() if max_bytes is None else fh.read(max_bytes + 1 - len(data))
        except OSError as exc:
            raise WireFormatError(f"cannot read: {exc.strerror or exc}", path) from None
    if max_bytes is not None and len(data) > max_bytes:
        raise _Skipped(TOO_LARGE, f"over the cap of {max_bytes:,} bytes")
    return data


def _fail(err: WireFormatError, on_error: Callable[[WireFormatError], None] | None) -> None:
    if on_error is None:
        raise err
    on_error(err)


class _Utf8Lines:
    """The lines of a UTF-16 file (as Windows editors save "Unicode" text), as UTF-8 bytes: every reader of JSONL
    lines decodes UTF-8, and split at its newline bytes UTF-16 text gives nothing but invalid JSON."""

    def __init__(self, fh):
        self.text = io.TextIOWrapper(fh, encoding="utf-16", errors="replace")  # the BOM gives the byte order

    def readline(self, size: int = -1) -> bytes:
        return self.text.readline(size).encode("utf-8")  # the cap counts characters here, not bytes

    def __iter__(self):
        return (line.encode("utf-8") for line in self.text)


def capped_lines(fh, max_bytes: int | None) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, raw line)`` of a binary file (UTF-8; a UTF-16 file with its BOM is given as UTF-8 too);
    ``None`` for a line over ``max_bytes`` (never held whole)."""
    if hasattr(fh, "peek") and fh.peek(2)[:2] in (b"\xff\xfe", b"\xfe\xff"):
        fh = _Utf8Lines(fh)
    if max_bytes is None:
        yield from enumerate(fh, 1)
        return
    for line_no, raw, _ in _capped(fh, max_bytes):
        yield line_no, raw


def capped_lines_at(fh, max_bytes: int | None) -> Iterator[tuple[int, bytes | None, int | None]]:
    """:func:`capped_lines` with each line's byte offset in the file (``fh.seek(offset)``, then
    ``fh.read(len(raw))`` reads it again); the offset is None in a UTF-16 file, whose lines are re-encoded."""
    if hasattr(fh, "peek") and fh.peek(2)[:2] in (b"\xff\xfe", b"\xfe\xff"):
        for line_no, raw in capped_lines(fh, max_bytes):
            yield line_no, raw, None
        return
    yield from _capped(fh, max_bytes)


def _capped(fh, max_bytes: int | None) -> Iterator[tuple[int, bytes | None, int]]:
    offset = 0
    for line_no in itertools.count(1):
        raw = fh.readline(-1 if max_bytes is None else max_bytes + 1)
        if not raw:
            return
        start, offset = offset, offset + len(raw)
        if max_bytes is not None and len(raw) > max_bytes and not raw.endswith(b"\n"):
            while (rest := fh.readline(1 << 20)) and not rest.endswith(b"\n"):
                offset += len(rest)
            offset += len(rest)
            raw = None
        yield line_no, raw, start


def iter_records(
    path: str | Path,
    on_error: Callable[[WireFormatError], None] | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Iterator[tuple[int, dict]]:
    """Yield ``(line number, record)`` for each JSON object of a ``.jsonl`` file or row of a ``.csv`` file.

    Each JSONL line is decoded on its own, so a stray byte costs nothing and a bad line is named
    exactly. Bad lines (and an unreadable file) go to ``on_error`` and are skipped; with no
    ``on_error`` they raise :class:`WireFormatError`. A JSONL line over ``max_bytes`` is a bad line
    (it is never read whole); so is a CSV row with a field over ``max_bytes``, and a CSV quoted field
    whose closing quote is missing (named by the line its quote opened; it runs to the end of the file).
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        try:
            text = decode_wire_bytes(_read_bytes(str(path), None), path)
        except _Skipped as skip:
            _fail(WireFormatError(skip.message(), path), on_error)
            return
        except WireFormatError as err:
            _fail(err, on_error)
            return
        yield from _csv_records(text, path, on_error, max_bytes)
        return
    try:
        fh = open(path, "rb")
    except OSError as exc:
        _fail(WireFormatError(f"cannot read: {exc.strerror or exc}", path), on_error)
        return
    with fh:
        for line_no, raw in capped_lines(fh, max_bytes):
            if raw is None:
                _fail(WireFormatError(f"line too long (over the cap of {max_bytes:,} bytes)", path, line_no), on_error)
                continue
            if not raw.strip():
                continue
            try:
                record = parse_record_line(raw, path, line_no)
            except WireFormatError as err:
                _fail(err, on_error)
                continue
            yield line_no, record


def _csv_records(text: str, path: Path, on_error, max_bytes: int | None) -> Iterator[tuple[int, dict]]:
    """``(line number, row)`` of a CSV text, as :class:`csv.DictReader` gives them (header from the first row,
    blank rows skipped, missing fields None), the line number being the row's last. A row with more fields than the
    header (unless the extra ones are empty: trailing commas, in the header too) is a bad row named by its first
    line, where :class:`csv.DictReader` would silently cut its text; so is a row with a field over ``max_bytes``;
    a quoted field that runs to the end of the file (its closing quote missing) is a bad row named by the line its
    quote opened.
    """
    # A line no file holds: a clean file ends before it, as a row of its own; an unterminated quoted field
    # swallows it, so it ends that field.
    end = f"nlp_wire end of csv {secrets.token_hex(16)}"
    reader = csv.reader(itertools.chain(io.StringIO(text, newline=""), [end]))
    header = None
    while True:
        first = reader.line_num + 1
        limit = csv.field_size_limit(sys.maxsize)  # csv's limit is process-wide: lift it for this row only
        try:
            row = next(reader, None)
        finally:
            csv.field_size_limit(limit)
        if row is None or row == [end]:
            return
        if row and row[-1].endswith(end):
            _fail(WireFormatError("unterminated quoted field: its closing quote is missing, so it runs to the "
                                  "end of the file", path, _open_quote_line(text)), on_error)
            return
        big = next((i for i, value in enumerate(row) if max_bytes is not None and _over(value, max_bytes)), None)
        if big is not None:
            name = header[big] if header and big < len(header) else f"#{big + 1}"
            _fail(WireFormatError(f"field {name!r} over the cap of {max_bytes:,} bytes", path, first), on_error)
        elif not row:
            continue
        elif header is None:
            header = row
            while len(header) > 1 and not header[-1].strip():  # "id,headline,body," (a trailing comma)
                header = header[:-1]
            sep = next((s for s in (";", "\t", "|") if len(header) == 1 and s in header[0]), None)
            if sep is not None:  # every row would read as one field: "records have no label" or no text
                _fail(WireFormatError(f"the header is one field, {printable(header[0])[:80]!r}: a {sep!r}-separated "
                                      "file? Records need commas between fields (or write them as JSONL)", path, first),
                      on_error)
                return
        elif any(value.strip() for value in row[len(header):]):
            # an unquoted comma split a field: the text after it would be dropped
            _fail(WireFormatError(f"{len(row)} fields where the header has {len(header)} (a field with a comma "
                                  "must be quoted)", path, first), on_error)
        else:  # empty fields after the header's (trailing commas) dropped; a short row's missing fields are None
            record = dict(zip(header, row))
            for key in header[len(row):]:
                record[key] = None
            yield reader.line_num, record


def _over(value: str, max_bytes: int) -> bool:
    """Whether ``value`` takes more than ``max_bytes`` bytes in UTF-8 (encoded only when it might)."""
    return len(value) > max_bytes or (len(value) * 4 > max_bytes
                                      and len(value.encode("utf-8", "surrogatepass")) > max_bytes)


def _open_quote_line(text: str) -> int:
    """The line (from 1) of the quote that opens a quoted field running to the end of ``text``: inside such a
    field quotes come only in doubled pairs, so it is the first run of quotes of odd length from the end."""
    for run in reversed(list(re.finditer('"+', text))):
        if len(run.group()) % 2:
            return len(_NEWLINE.findall(text, 0, run.start())) + 1
    return 1


_NEWLINE = re.compile(r"\r\n|\r|\n")  # the line ends csv reads by (io.StringIO with newline="")


def parse_record_line(raw: bytes, path: str | Path, line_no: int) -> dict:
    """The JSON object on one line of a ``.jsonl`` file.

    Raises:
        WireFormatError: Undecodable bytes, invalid JSON or not an object, naming the file and line.
    """
    try:
        record = json.loads(decode_wire_bytes(raw, path))
    except WireFormatError as err:
        raise WireFormatError(err.message, path, line_no) from None
    except json.JSONDecodeError as exc:
        raise WireFormatError(f"invalid JSON: {exc.msg} (column {exc.colno})", path, line_no) from None
    except RecursionError:  # "[[[[..." 100k deep: json's recursive decoder gives up
        raise WireFormatError("invalid JSON: nested too deeply", path, line_no) from None
    if not isinstance(record, dict):
        raise WireFormatError("a record must be a JSON object", path, line_no)
    return record


def record_story(record: dict, path: str, line_no: int, *, text_field: str | None = None,
                 headline_field: str | None = None) -> Story:
    """The story of a JSONL record, its id ``<file stem>:<line>`` unless the record has one.

    ``text_field`` / ``headline_field`` name the fields holding the text and headline (see
    :meth:`Story.from_record`; None: ``body``/``text`` and ``headline``).
    """
    return Story.from_record(record, id=f"{_stem(path)}:{line_no}", path=path, line=line_no,
                             text_field=text_field, headline_field=headline_field)


def read_jsonl_stories(
    path: str | Path,
    on_error: Callable[[WireFormatError], None] | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    *,
    text_field: str | None = None,
    headline_field: str | None = None,
) -> Iterator[Story]:
    """Yield a story per JSON line (``id``, ``headline``, ``body``...) of a JSONL file.

    Bad lines (and lines over ``max_bytes``, or without the named ``text_field`` / ``headline_field``)
    are passed to ``on_error`` (or raised when it is None) and skipped.
    """
    for _, story in iter_record_stories(path, on_error, max_bytes, text_field=text_field,
                                        headline_field=headline_field):
        yield story


def iter_record_stories(
    path: str | Path,
    on_error: Callable[[WireFormatError], None] | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    *,
    text_field: str | None = None,
    headline_field: str | None = None,
) -> Iterator[tuple[dict, Story]]:
    """``(record, story)`` per JSON line of a JSONL file (or row of a CSV file): :func:`read_jsonl_stories`
    with each story's own record beside it (for fields a story does not keep, such as a publisher's section)."""
    for line_no, record in iter_records(path, on_error, max_bytes):
        try:
            yield record, record_story(record, str(path), line_no, text_field=text_field, headline_field=headline_field)
        except WireFormatError as err:
            _fail(err, on_error)


def read_file_stories(path: str | Path, max_bytes: int | None = DEFAULT_MAX_BYTES) -> list[Story]:
    """All stories of one wire ``.txt`` file.

    Raises:
        WireFormatError: The file is not readable wire text, or (as a plain error here) it is not
            read at all: over ``max_bytes``, a FIFO, a symlink loop.
    """
    try:
        return _file_stories(str(path), max_bytes)
    except _Skipped as skip:
        raise WireFormatError(skip.message(), path) from None


def _stem(path: str) -> str:
    """``Path(path).stem``, without making a Path."""
    name = os.path.basename(path)
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


def _file_stories(path: str, max_bytes: int | None, on_error: Callable[[WireFormatError], None] | None = None
                  ) -> list[Story]:
    """All stories of one wire file (raises :class:`_Skipped` or :class:`WireFormatError`); with ``on_error``, a
    story that cannot be read goes there and the file's others are kept (see :func:`parse_stories`)."""
    return list(parse_stories(decode_wire_bytes(_read_bytes(path, max_bytes), path), id=_stem(path), path=path,
                              on_error=on_error))


def read_stories(
    path: str | Path | Iterable[str | Path],
    errors: Literal["report", "raise"] = "report",
    on_error: Callable[[WireFormatError], None] | None = None,
    warn: bool = True,
    *,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    follow_symlinks: bool = False,
    on_skip: Callable[[Skip], None] | None = None,
    text_field: str | None = None,
    headline_field: str | None = None,
) -> Iterator[Story]:
    """Stream the stories in a file, a folder (recursive ``*.txt``) or several paths.

    Args:
        path: A wire file, a ``.jsonl`` or ``.csv`` file of records (suffix in any case), a folder, or a
            list of these. In folders only ``*.txt`` is read, so a ``labels.csv`` beside the stories is not.
        errors: ``"report"`` logs each bad file (and passes it to ``on_error``) and carries on;
            ``"raise"`` stops at the first one.
        on_error: Called with each :class:`WireFormatError` when ``errors="report"``;
            a :class:`ReadReport` collects them with counts (and the skipped paths).
        warn: Log each skipped input as a warning (``False`` when ``on_error`` names them itself, so that
            no input is named twice).
        max_bytes: A story file (or JSONL line, or CSV field) larger than this is not read (None: no cap). The
            size is checked before reading, so memory stays a few times the largest file read.
        follow_symlinks: Read file symlinks in a folder that point out of it (folders are never followed).
        on_skip: Called with a :class:`Skip` for each path not read and why (hidden, not ``.txt``,
            too large, a FIFO, a symlink loop ...; see :func:`iter_files`). Skips never raise, with
            either ``errors``; by default they go to ``on_error``'s :class:`ReadReport` if it is one.
        text_field: In JSONL or CSV records, the field holding the story's text (``"article"``); None:
            ``body``, else ``text``. A record without it is a bad line, named with file and line.
        headline_field: In JSONL or CSV records, the field holding the headline; None: ``headline`` (optional).

    Yields:
        :class:`Story` objects, in a stable order: a folder's files by name, then its subfolders by name (each
        the same way), file order within a file.

    Raises:
        WireFormatError: With ``errors="raise"``, naming the file and line.
    """
    if errors not in ("report", "raise"):
        raise ValueError(f"errors must be 'report' or 'raise', not {errors!r}")
    max_bytes = whole_number("max_bytes", max_bytes, 1, optional=True, note=" for no cap")
    report = on_error if isinstance(on_error, ReadReport) else None
    if on_skip is None:
        on_skip = report.skip if report is not None else _log_skip

    def handle(err: WireFormatError) -> None:
        if errors == "raise":
            raise err
        if warn:
            logger.warning("skipped %s", err)
        if on_error is not None:
            on_error(err)

    if isinstance(path, (bytes, bytearray)):  # else iterated as a list of ints
        raise TypeError("read_stories takes a path as str or Path, not bytes: decode it (os.fsdecode)")
    if not isinstance(path, (str, os.PathLike, Iterable)):
        raise TypeError(f"read_stories takes a path (str or Path) or a list of them, not {type(path).__name__}")
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    first_sight = FirstSight(paths, on_skip)
    for root in paths:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"read_stories takes paths as str or Path, not {type(root).__name__} ({root!r})")
        if not os.path.lexists(root):
            handle(WireFormatError("no such file or folder", root))
            continue
        for file in _walk(root, STORY_SUFFIXES, on_skip, follow_symlinks):
            if not first_sight(file):
                continue
            if is_record_file(file):
                if report is not None:
                    report.files += 1
                stories: Iterable[Story] = read_jsonl_stories(file, on_error=handle, max_bytes=max_bytes,
                                                              text_field=text_field, headline_field=headline_field)
            else:
                try:
                    stories = _file_stories(file, max_bytes, on_error=handle)  # its other stories stay
                except _Skipped as skip:
                    on_skip(Skip(file, skip.reason, skip.detail))
                    continue
                except WireFormatError as err:
                    if report is not None:
                        report.files += 1
                    handle(err)
                    continue
                if report is not None:
                    report.files += 1
            for story in stories:
                if report is not None:
                    report.stories += 1
                yield story


class Corpus:
    """A re-iterable view of the stories under a path, with ``limit`` and ``shuffle`` for quick runs.

    Args:
        path: As for :func:`read_stories`.
        limit: Stop after this many stories (None: all).
        shuffle: Shuffle (holds every story in memory first, whatever ``limit``: a random sample of a big
            folder costs the whole folder's stories; without ``shuffle``, ``limit`` stops the reading early).
        seed: Seed for the shuffle.
        errors: As for :func:`read_stories`.
    """

    def __init__(self, path, limit: int | None = None, shuffle: bool = False, seed: int = 0, errors: str = "report"):
        self.path = path
        self.limit = whole_number("limit", limit, 0, optional=True)
        self.shuffle = shuffle
        self.seed = seed
        self.errors = errors

    def __iter__(self) -> Iterator[Story]:
        stories: Iterable[Story] = read_stories(self.path, errors=self.errors)
        if self.shuffle:
            stories = list(stories)
            random.Random(self.seed).shuffle(stories)
        yield from itertools.islice(stories, self.limit)
