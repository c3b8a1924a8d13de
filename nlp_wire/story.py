"""The wire story: one parsed story and the parser for the wire file format.

A wire file holds one or more stories, each laid out as::

     date 2020-03-31 (LEAD) Headline
    SEOUL, March 31 (Yonhap) -- First paragraph ...
    <one paragraph a line>
    reporter@yna.co.kr
    (END)
    -
    1
    (2nd LD) A related headline
    -
    ...

See ``../shared/data/README.md`` for the full contract. Parsing is lenient about what real files
carry (CRLF, a BOM, HTML entities, a missing ``(END)`` or byline) and strict about what makes a
file not a story at all, raising :class:`WireFormatError` naming the file and line.
"""

from __future__ import annotations

import datetime as _dt
import errno
import html
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

__all__ = [
    "Dateline", "Story", "WireFormatError", "SkippedInput", "parse_stories", "decode_wire_bytes", "read_file_bytes",
    "split_tags", "DEFAULT_MAX_BYTES",
]

# The largest story file read by default: real wire files are a few KB; a 200 MB "story" is not one.
DEFAULT_MAX_BYTES = 10_000_000

HEADER_RE = re.compile(r"^\s*date\s+(\S+)(?:\s+(.*))?$")
# A real header: "date" then something shaped like a date (checked properly later).
HEADER_START_RE = re.compile(r"^date\s+\d{4}-\d{1,2}-\d{1,2}(?:\s|$)")
END_RE = re.compile(r"^\(END\)$", re.IGNORECASE)
# Leading kicker tags: "(LEAD)", "(2nd LD)", "(URGENT)", "(News Focus)", "[Editorial]", ...
TAG_RE = re.compile(r"^\s*(\(([^()]{1,40})\)|\[([^\[\]]{1,40})\])(\s*)")
# Version tags mark a later version of the same story; kind tags ("News Focus") do not.
VERSION_TAG_RE = re.compile(r"^(LEAD|URGENT|\d+(st|nd|rd|th) LD|CORRECTED|UPDATE[D]?|FINAL)(,.*)?$", re.IGNORECASE)
MONTH = (
    r"(?:Jan\.?|Feb\.?|March|April|May|June|July|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?"
    r"|January|February|August|September|October|November|December|Mar\.|Apr\.|Jun\.|Jul\.)"
)
_DATELINE_TAIL = (
    r"(?P<when>" + MONTH + r"\s+\d{1,2}(?:,\s*\d{4})?)\s+\((?P<agency>[A-Z][^()]{0,39})\)\s*(?:--|\u2014|\u2013)\s*"
)
# "SEOUL, March 31 (Yonhap) --", "MUAN, South Korea, Dec. 29 (Yonhap) --", "TOKYO, Jan. 6, 2026 (Xinhua) --"
DATELINE_RE = re.compile(
    r"^(?P<place>[A-Z][A-Za-z.'&/ -]{1,40}?(?:,\s+[A-Z][A-Za-z.' -]{1,30}?)?),\s+" + _DATELINE_TAIL
)
# A dateline behind a slugline or photo caption ("allies-drillsS. Korea, U.S. ... Dec. 29 (Yonhap) --").
DATELINE_LATE_RE = re.compile(
    r"(?:(?<=\s)|(?<=^))(?:(?P<place>[A-Z][A-Z.'&/ -]{1,40}?(?:,\s+[A-Z][A-Za-z.' -]{1,30}?)?),\s+)?" + _DATELINE_TAIL
)
DATELINE_LATE_WINDOW = 320
# A place-only dateline, as some outlets write it: "SEJONG -- ".
DATELINE_BARE_RE = re.compile(r"^(?P<place>[A-Z][A-Z.'&/ -]{1,30}?)\s+(?:--|\u2014|\u2013)\s+")
# "By" and capitalized name words only, so prose that opens with "By Friday the ..." stays a paragraph.
BYLINE_RE = re.compile(r"^(?:By\s+[A-Z][\w.'-]*(?:\s+(?:and\s+)?[A-Z][\w.'-]*){0,6}|[\w.+-]+@[\w-]+(?:\.[\w-]+)+(?:\s*[,;/ ]\s*[\w.+-]+@[\w-]+(?:\.[\w-]+)+)*)$")
NUMBER_RE = re.compile(r"^\d{1,3}\.?$")
SEPARATOR = "-"
# C0 controls other than whitespace, and DEL.
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
_SPACES_RE = re.compile(" {2,}")
# A late dateline ends in one of these dashes: without one in the window there is none to search for.
_DASHES = ("--", "\u2014", "\u2013")
# Bytes that are not UTF-8, as errors="surrogateescape" leaves them.
_ESCAPED_RE = re.compile("[\udc80-\udcff]")


class WireFormatError(ValueError):
    """A file or string is not a readable wire story.

    Args:
        message: What is wrong.
        path: The file it is in, if any.
        line: The 1-based line number it is on, if known.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "<string>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"

    def __reduce__(self):  # keep the fields when sent between processes
        return (type(self), (self.message, self.path, self.line))


class SkippedInput(WireFormatError):
    """A path not read on purpose, with the reason: never fatal, counted and named by the readers.

    Args:
        reason: One of :data:`SKIP_REASONS` (``"too large"``, ``"symlink loop"``...).
        path: The path.
        detail: More about it (the size and the cap, the kind of file...).
    """

    def __init__(self, reason: str, path: str | Path | None = None, detail: str = ""):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason} ({detail})" if detail else reason, path)

    def __reduce__(self):
        return (type(self), (self.reason, self.path, self.detail))


# Why a path was not read. Folders hold the first two all the time; the others are worth a look.
SKIP_REASONS = (
    "hidden",
    "not .txt",
    "too large",
    "not a regular file",
    "dangling symlink",
    "symlink loop",
    "symlink out of tree",
    "symlinked folder",
    "path too long",
    "unlistable folder",
)


def skip_for_os_error(exc: OSError, path: str | Path) -> SkippedInput | None:
    """The skip an ``OSError`` on ``path`` stands for (a loop, a dangling link, a long path), or None."""
    if exc.errno == errno.ELOOP:
        return SkippedInput("symlink loop", path)
    if exc.errno == errno.ENAMETOOLONG:
        return SkippedInput("path too long", path, f"{len(os.fsencode(path)):,} bytes")
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return SkippedInput("dangling symlink", path, f"to {os.readlink(path)}")
    return None


_FILE_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"))


def read_file_bytes(path: str | Path, max_bytes: int | None = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of one story file, opened without blocking and sized before reading.

    Args:
        path: The file.
        max_bytes: Largest size read (None: no cap); a bigger file is not read at all.

    Raises:
        SkippedInput: Over ``max_bytes`` (with its size), not a regular file (a FIFO never blocks
            the read), a symlink loop, a dangling symlink or a path too long.
        WireFormatError: A folder, a missing file or another read error, naming the file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        skip = skip_for_os_error(exc, path)
        if skip is not None:
            raise skip from None
        if exc.errno == errno.ENOENT:
            raise WireFormatError("no such file", path) from None
        if exc.errno == errno.EISDIR:
            raise WireFormatError("is a folder, not a story file", path) from None
        raise WireFormatError(f"cannot read: {exc.strerror or exc}", path) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise WireFormatError("is a folder, not a story file", path)
        if not stat.S_ISREG(st.st_mode):
            kind = next((name for test, name in _FILE_KINDS if test(st.st_mode)), "special file")
            raise SkippedInput("not a regular file", path, kind)
        if max_bytes is not None and st.st_size > max_bytes:
            raise SkippedInput("too large", path, f"{st.st_size:,} bytes; the cap is {max_bytes:,}")
        limit = st.st_size + 1 if max_bytes is None else min(st.st_size, max_bytes) + 1
        parts = [os.read(fd, limit)]
        while parts[-1] and len(parts[-1]) == limit:  # the file grew since fstat
            parts.append(os.read(fd, 1 << 20))
            size = sum(map(len, parts))
            if max_bytes is not None and size > max_bytes:
                raise SkippedInput("too large", path, f"over {max_bytes:,} bytes (it grew while read)")
            limit = 1 << 20
        return parts[0] if len(parts) == 1 else b"".join(parts)
    except OSError as exc:
        raise WireFormatError(f"cannot read: {exc.strerror or exc}", path) from None
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Dateline:
    """The ``CITY, Month Day (Agency) --`` opening of a story.

    Args:
        place: ``"SEOUL"``, ``"WASHINGTON/SEOUL"``, ...
        when: The date as written (``"March 31"``).
        agency: ``"Yonhap"``, ...
        text: The dateline exactly as it stood in the first paragraph.
    """

    place: str
    when: str
    agency: str
    text: str


@dataclass
class Story:
    """One wire story.

    Args:
        id: File name without ``.txt``; ``name#2`` for the second story in a file.
        date: Publication date, or None when the source gives none.
        headline: Headline without its leading tags.
        tags: Leading tags, in order: ``["LEAD"]``, ``["2nd LD"]``, ``["News Focus"]``.
        dateline: The parsed dateline, or None.
        paragraphs: Body paragraphs, the dateline removed from the first.
        byline: Reporter e-mail or ``By ...`` line, or None.
        related_headlines: Lists of related headlines found after ``(END)``.
        path: The file the story came from, or None.
        line: 1-based line of the story's header in its file.
    """

    id: str
    date: _dt.date | None
    headline: str
    tags: list[str] = field(default_factory=list)
    dateline: Dateline | None = None
    paragraphs: list[str] = field(default_factory=list)
    byline: str | None = None
    related_headlines: list[list[str]] = field(default_factory=list)
    path: str | None = None
    line: int = 1

    # -- derived views ---------------------------------------------------------------------
    @property
    def body(self) -> str:
        """Paragraphs joined by newlines."""
        return "\n".join(self.paragraphs)

    @property
    def lead(self) -> str:
        """The first paragraph (without the dateline), or an empty string."""
        return self.paragraphs[0] if self.paragraphs else ""

    @property
    def group(self) -> str:
        """Key shared by all versions of a story ((LEAD), (2nd LD), ...): the normalized headline."""
        return story_group(self.headline)

    @property
    def is_version(self) -> bool:
        """True when a tag marks this as a later version (``LEAD``, ``2nd LD``, ``URGENT``...)."""
        return any(VERSION_TAG_RE.match(t) for t in self.tags)

    # -- constructors ----------------------------------------------------------------------
    @classmethod
    def from_string(cls, text: str, id: str = "story", path: str | None = None) -> "Story":
        """Parse exactly one story from wire-format text.

        Args:
            text: The story, header line first.
            id: Id to give it.
            path: Source path to record and to name in errors.

        Raises:
            WireFormatError: When the text is not one wire story.
        """
        stories = list(parse_stories(text, id=id, path=path))
        if len(stories) != 1:
            raise WireFormatError(f"expected one story, found {len(stories)}", path, stories[1].line)
        return stories[0]

    @classmethod
    def from_file(cls, path: str | Path) -> "Story":
        """Read a file holding exactly one story (see :func:`nlp_wire.read_stories` for many)."""
        path = Path(path)
        text = decode_wire_bytes(_read_bytes(path), path)
        return cls.from_string(text, id=path.stem, path=str(path))

    @classmethod
    def from_record(cls, record: dict, id: str | None = None, path: str | None = None, line: int = 1) -> "Story":
        """Build a story from a JSON record with ``headline`` and ``body`` (the JSONL schema).

        The body may start with a dateline; it is split off like in a wire file.
        """
        if not isinstance(record, dict):
            raise WireFormatError("a record must be a JSON object", path, line)
        headline = record.get("headline")
        body = record.get("body", record.get("text"))
        if headline is None and body is None:
            raise WireFormatError("record has neither 'headline' nor 'body'", path, line)
        for name, value in (("headline", headline), ("body", body)):
            if value is not None and not isinstance(value, str):
                raise WireFormatError(f"field {name!r} must be a string, not {type(value).__name__}", path, line)
        date = None
        if record.get("date"):
            try:
                date = _dt.date.fromisoformat(str(record["date"])[:10])
            except ValueError:
                date = None
        tags, headline = split_tags(clean_line(headline or ""))
        paragraphs = [clean_line(p) for p in (body or "").split("\n")]
        paragraphs = [p for p in paragraphs if p]
        dateline, paragraphs = _split_dateline(paragraphs, headline)
        rid = record.get("id")
        rid = str(rid) if rid is not None else id if id is not None else f"line{line}"
        return cls(rid, date, headline, tags, dateline, paragraphs, None, [], path, line)

    def to_text(self) -> str:
        """Render back to the wire format (tags restored; related lists numbered)."""
        tags = "".join(f"[{t}] " if "(" in t or ")" in t else f"({t}) " for t in self.tags)
        lines = [f" date {self.date.isoformat() if self.date else '0001-01-01'} {tags}{self.headline}"]
        paras = list(self.paragraphs)
        if self.dateline and paras:
            paras[0] = f"{self.dateline.text} {paras[0]}"
        elif self.dateline:
            paras = [self.dateline.text]
        lines += paras
        if self.byline:
            lines.append(self.byline)
        lines.append("(END)")
        for block in self.related_headlines:
            for i, h in enumerate(block, 1):
                lines += [SEPARATOR, str(i), h]
        return "\n".join(lines) + "\n"


def story_group(headline: str) -> str:
    """Normalize a headline so that versions of one story share a key."""
    _, headline = split_tags(headline)
    return re.sub(r"[^a-z0-9]+", " ", headline.lower()).strip()


def split_tags(headline: str) -> tuple[list[str], str]:
    """Split leading ``(TAG)`` / ``[Tag]`` kickers off a headline.

    Returns:
        ``(tags, headline_without_tags)``. A headline made only of tags keeps its text.
    """
    tags: list[str] = []
    rest = headline.strip()
    while True:
        m = TAG_RE.match(rest)
        if not m or not rest[m.end():].strip():
            break
        tag = (m.group(2) or m.group(3)).strip()
        if not m.group(4) and not VERSION_TAG_RE.match(tag):
            break  # "(G)I-DLE ...": a name that opens with parentheses, not a kicker
        tags.append(tag)
        rest = rest[m.end():]
    return tags, rest.strip()


def clean_line(line: str) -> str:
    """Unescape HTML entities, drop control characters and collapse whitespace."""
    if "&" in line:
        line = html.unescape(line)
    if not line.isprintable():  # tabs, controls, NBSP, BOM: rare, so the common line skips the regex
        line = _CONTROL_RE.sub("", line.replace("\u00a0", " ").replace("\ufeff", ""))
        return " ".join(line.split())
    # A printable line holds no whitespace but " " (every other space is a separator or control), so
    # collapsing runs of spaces and stripping gives what split/join would, without a word list.
    if "  " in line:
        line = _SPACES_RE.sub(" ", line)
    return line.strip(" ")


def _read_bytes(path: Path) -> bytes:
    """A file's bytes, whatever its size (for labels files and explicit single files)."""
    return read_file_bytes(path, max_bytes=None)


def decode_wire_bytes(data: bytes, path: str | Path | None = None) -> str:
    """Decode a wire file's bytes, strictly enough to refuse binaries.

    UTF-8 (with or without BOM) is expected. A few stray bytes in otherwise good UTF-8 are read as
    cp1252 (the usual culprit) so that one bad byte never loses a story. A NUL byte, or text where
    undecodable bytes are more than rare, raises :class:`WireFormatError` naming the line.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):  # "Unicode" as Windows editors save it
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise WireFormatError("undecodable UTF-16 text", path, data.count(b"\n\x00", 0, exc.start) + 1) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise WireFormatError("binary data (NUL byte), not a text story", path, data.count(b"\n", 0, nul) + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    # Only the bytes that are not UTF-8 count as bad: good multi-byte characters around them stay.
    text = data.decode("utf-8", errors="surrogateescape")
    bad = len(_ESCAPED_RE.findall(text))
    if bad > max(8, len(data) // 200):
        line = data.count(b"\n", 0, first_bad) + 1
        raise WireFormatError("undecodable text (not UTF-8)", path, line)
    return _ESCAPED_RE.sub(lambda m: bytes([ord(m.group()) - 0xDC00]).decode("cp1252", errors="replace"), text)


def _split_dateline(paragraphs: list[str], headline: str = "") -> tuple[Dateline | None, list[str]]:
    if not paragraphs:
        return None, paragraphs
    first = paragraphs[0]
    m = DATELINE_RE.match(first)
    if not m:
        window = first[:DATELINE_LATE_WINDOW]
        if ")" in window and any(d in window for d in _DASHES):
            m = DATELINE_LATE_RE.search(window)
    if m:
        when, agency = m.group("when"), m.group("agency").strip()
    else:
        m = DATELINE_BARE_RE.match(first)
        if not m:
            return None, paragraphs
        when = agency = ""
    place = _strip_headline_tail((m.group("place") or "").strip(), headline)
    # Whatever stood before a late dateline (slug, repeated headline, photo caption) is not prose.
    dl = Dateline(place, when, agency, first[: m.end()].strip())
    rest = first[m.end():].strip()
    return dl, ([rest] if rest else []) + paragraphs[1:]


def _strip_headline_tail(place: str, headline: str) -> str:
    """Drop the headline's last words when a slug glued them to the place ("FTA SEOUL" -> "SEOUL")."""
    words = place.split()
    for k in range(len(words) - 1, 0, -1):
        if headline.endswith(" ".join(words[:k])):
            return " ".join(words[k:])
    return place


def _parse_related(lines: list[str]) -> list[list[str]]:
    """Group ``-`` separated (optionally numbered) items into lists; numbering restarts a list."""
    blocks: list[list[str]] = []
    current: list[str] = []
    last_number = 0
    for ln in lines:
        if ln == SEPARATOR or not ln:
            continue
        if NUMBER_RE.match(ln):
            n = int(ln.rstrip("."))
            if n <= last_number and current:
                blocks.append(current)
                current = []
            last_number = n
            continue
        current.append(ln)
    if current:
        blocks.append(current)
    return blocks


def _related_start(body: list[str]) -> int | None:
    """Where lists of related headlines start in a story without ``(END)``, or None.

    That is the first ``-`` line after some prose from which on every item (a line that is not
    blank, ``-`` or a list number) is shorter than 300 characters, with at least one item. One pass
    from the end finds the last item and the last long one, so the search is linear in the lines.
    """
    last_item = last_long = -1
    for i, t in enumerate(body):
        if t and t != SEPARATOR and not NUMBER_RE.match(t):
            last_item = i
            if len(t) >= 300:
                last_long = i
    for i in range(max(1, last_long + 1), last_item):
        if body[i] == SEPARATOR:
            return i
    return None


def _parse_block(lines: list[str], start: int, stop: int, id: str, path: str | None) -> Story:
    """The story of ``lines[start:stop]``, a header line and what follows it up to the next one."""
    header_no, header = start + 1, lines[start]
    m = HEADER_RE.match(header)
    if not m:  # pragma: no cover - guarded by the splitter
        raise WireFormatError("expected ' date YYYY-MM-DD headline'", path, header_no)
    try:
        date = _dt.date.fromisoformat(m.group(1))
    except ValueError:
        raise WireFormatError(f"invalid date {m.group(1)!r} in header", path, header_no) from None
    tags, headline = split_tags(clean_line(m.group(2) or ""))
    if not headline:
        raise WireFormatError("header has no headline", path, header_no)

    body = [clean_line(t) for t in lines[start + 1 : stop]]
    end_at = next((i for i, t in enumerate(body) if t and END_RE.match(t)), None)
    if end_at is not None:
        story_lines, tail = body[:end_at], body[end_at + 1 :]
    else:
        # No (END): related lists, if any, start at the first "-" line after some prose.
        split = _related_start(body)
        story_lines, tail = (body, []) if split is None else (body[:split], body[split:])
    paragraphs = [t for t in story_lines if t]
    byline = None
    if paragraphs and len(paragraphs[-1]) < 120 and BYLINE_RE.match(paragraphs[-1]):
        byline = paragraphs.pop()
    dateline, paragraphs = _split_dateline(paragraphs, headline)
    related = _parse_related(tail)
    return Story(id, date, headline, tags, dateline, paragraphs, byline, related, path, header_no)


def parse_stories(text: str, id: str = "story", path: str | None = None) -> Iterator[Story]:
    """Parse every story in a wire file's text.

    Time is linear in the text: each line is looked at a fixed number of times.

    Args:
        text: The decoded file content.
        id: Base id; the n-th story after the first gets ``id#n``.
        path: Source path recorded on stories and named in errors.

    Raises:
        WireFormatError: Empty input, or a first non-blank line that is not a story header.
    """
    text = text.lstrip("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    del text  # the lines hold it; a big file is not kept twice
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise WireFormatError("empty file, no story in it", path, 1)
    if not HEADER_START_RE.match(lines[first].strip()):
        shown = lines[first].strip()[:60]
        raise WireFormatError(f"not a wire story: expected ' date YYYY-MM-DD headline', found {shown!r}", path, first + 1)
    # Lines before ``first`` are blank, so none of them is a header.
    bounds = [i for i, ln in enumerate(lines) if ln.lstrip().startswith("date") and HEADER_START_RE.match(ln.strip())]
    bounds.append(len(lines))
    for n, (a, b) in enumerate(zip(bounds, bounds[1:]), 1):
        yield _parse_block(lines, a, b, id if n == 1 else f"{id}#{n}", path)
