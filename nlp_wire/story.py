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
import html
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

__all__ = ["Dateline", "Story", "WireFormatError", "parse_stories", "decode_wire_bytes", "split_tags"]

logger = logging.getLogger(__name__)

HEADER_RE = re.compile(r"^\s*date\s+(\S+)(?:\s+(.*))?$")
# A real header: "date" then something shaped like a date (checked properly later).
HEADER_START_RE = re.compile(r"^date\s+\d{4}-\d{1,2}-\d{1,2}(?:\s|$)")
# A header after other text on its line: two stories joined without a newline (a file concatenated to one that
# had no final newline). The second story would be read as part of the first.
JOINED_HEADER_RE = re.compile(r"\S\s+date\s+\d{4}-\d{1,2}-\d{1,2}\s")
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
# What clean_line does to a line that is not printable: C0 controls other than whitespace, DEL and BOMs
# dropped, every other whitespace character (str.isspace: tab, NBSP, U+2028 ...) made a plain space.
_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + (
    "\u2028\u2029\u202f\u205f\u3000"
)
_DROPPED = "".join(map(chr, [*range(9), *range(0x0E, 0x20), 0x7F])) + "\ufeff"
_CLEAN_TABLE = {**{ord(c): " " for c in _WHITESPACE}, **{ord(c): None for c in _DROPPED}}
# Bytes that are not UTF-8, as errors="surrogateescape" leaves them.
_ESCAPED_RE = re.compile("[\udc80-\udcff]")
# Lone surrogates: a JSON "\ud800" escape, or a file name's non-UTF-8 bytes as the OS hands them over.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with every lone surrogate made U+FFFD, so that it can be written as UTF-8 and tokenized."""
    return text if text.isascii() else _SURROGATE_RE.sub("\ufffd", text)


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
        if len(stories) != 1:  # none: the header line is the one to look at
            raise WireFormatError(f"expected one story, found {len(stories)} (several stories in one text: "
                                  "nlp_wire.story.parse_stories or nlp_wire.read_stories)", path,
                                  stories[1].line if stories else 1)
        return stories[0]

    @classmethod
    def from_file(cls, path: str | Path) -> "Story":
        """Read a file holding exactly one story (see :func:`nlp_wire.read_stories` for many)."""
        path = Path(path)
        text = decode_wire_bytes(_read_bytes(path), path)
        return cls.from_string(text, id=path.stem, path=str(path))

    @classmethod
    def from_record(
        cls,
        record: dict,
        id: str | None = None,
        path: str | None = None,
        line: int = 1,
        *,
        text_field: str | None = None,
        headline_field: str | None = None,
    ) -> "Story":
        """Build a story from a JSON record with ``headline`` and ``body`` (the JSONL schema).

        The body is read as a wire file's body (:func:`parse_body`): a leading dateline, a byline, ``(END)`` and
        related-headline lists are set apart.

        Args:
            record: The record (a JSON object, or a CSV row as a dict).
            id: Id to give the story when the record has no ``id``.
            path: Source path to record and to name in errors.
            line: 1-based line of the record in its file.
            text_field: The field holding the story's text (``"article"``); None: ``body``, else ``text``.
            headline_field: The field holding the headline (``"title"``), which must then be in the record (a
                misspelt name is caught at the first record, not read as empty headlines); None: ``headline``,
                which may be absent.

        Raises:
            WireFormatError: Not an object, a named field missing, a field that is not a string, or
                neither headline nor text; naming the file and line.
        """
        if not isinstance(record, dict):
            raise WireFormatError("a record must be a JSON object", path, line)
        headline_name = headline_field or "headline"
        text_name = text_field or ("body" if "body" in record or "text" not in record else "text")
        for given in (headline_field, text_field):
            if given is not None and given not in record:
                raise WireFormatError(f"no field {given!r}", path, line)
        headline, body = (_missing_to_none(record.get(name)) for name in (headline_name, text_name))
        if headline is None and body is None:
            raise WireFormatError(f"record has neither {headline_name!r} nor {text_name!r}", path, line)
        for name, value in ((headline_name, headline), (text_name, body)):
            if value is not None and not isinstance(value, str):
                raise WireFormatError(f"field {name!r} must be a string, not {type(value).__name__}", path, line)
        headline, body = (printable(v) if v else v for v in (headline, body))
        path = printable(path) if isinstance(path, str) else path
        date = None
        if record.get("date"):
            try:
                date = _dt.date.fromisoformat(str(record["date"])[:10])
            except ValueError:
                date = None
        tags, headline = split_tags(clean_line(headline or ""))
        body_lines = [clean_line(p) for p in (body or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        start = next((i for i, t in enumerate(body_lines) if t), len(body_lines))  # lines of spaces (NBSP) too
        body_lines = body_lines[start:]  # so that a "-" after them is not "after some prose"
        rid = record.get("id")
        rid = printable(str(rid)) if rid is not None else printable(id) if id is not None else f"line{line}"
        return cls(rid, date, headline, tags, *parse_body(body_lines, headline), path, line)

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
    if not line.isprintable():  # tabs, controls, NBSP, BOM: rare, so the common line skips this
        line = line.translate(_CLEAN_TABLE)
    elif "  " not in line and line[:1] != " " and line[-1:] != " ":
        # A printable line's only whitespace is " ": with no run of spaces and none at either end it is
        # already collapsed. (Splitting a 2,000-character paragraph into words cost the most.)
        return line
    # As " ".join(line.split()), without a list of every word (a 10 MB line would make millions).
    while "  " in line:
        line = line.replace("  ", " ")
    return line.strip(" ")


def open_to_read(path: str | Path):
    """``(binary file, its os.fstat)`` for a path, opened without blocking: a FIFO is opened at once (and its
    mode then refused by the caller) rather than waited on forever. Raises ``OSError`` as ``os.open`` does.

    Every story file is opened here: ``Story.from_file``, labels files, and the reader's sized reads.
    """
    fh = os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)), "rb")
    try:
        return fh, os.fstat(fh.fileno())
    except BaseException:
        fh.close()
        raise


def _read_bytes(path: Path) -> bytes:
    """A named file's bytes (see :func:`open_to_read`); a folder, FIFO or device is refused by name."""
    try:
        fh, st = open_to_read(path)
        with fh:
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError
            if not stat.S_ISREG(st.st_mode):
                raise WireFormatError("not a regular file (a FIFO, socket or device)", path)
            return fh.read()
    except IsADirectoryError:
        raise WireFormatError("is a folder, not a story file", path) from None
    except FileNotFoundError:
        raise WireFormatError("no such file", path) from None
    except OSError as exc:
        raise WireFormatError(f"cannot read: {exc.strerror or exc}", path) from None


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
    if m is None and _has_dash(first[:DATELINE_LATE_WINDOW]):  # every late dateline ends with a dash
        m = DATELINE_LATE_RE.search(first, 0, DATELINE_LATE_WINDOW)
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


def _has_dash(text: str) -> bool:
    return "--" in text or "\u2014" in text or "\u2013" in text


def _related_start(body: list[str]) -> int | None:
    """Where lists of related headlines start in a story with no ``(END)``, or None.

    That is the first ``-`` line after some prose from which on every item (a line that is not
    empty, not ``-`` and not a number) is shorter than 300 characters, with at least one item
    after it. Found in one pass, so that thousands of ``-`` lines cost linear time.
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


def _missing_to_none(value):
    """A float NaN (pandas' empty cell; ``pd.NA`` and ``NaT`` too) is a missing field, as ``None`` is."""
    if value is None or isinstance(value, str):
        return value
    try:
        return None if value != value else value  # only NaN-like values differ from themselves
    except TypeError:  # pd.NA: its comparison has no truth value
        return None


def _parse_block(lines: list, a: int, b: int, id: str, path: str | None) -> Story:
    """The story on ``lines[a:b]`` (its header first); those body lines are set to None once read."""
    header_no, header = a + 1, lines[a]
    m = HEADER_RE.match(header)
    if not m:  # pragma: no cover - guarded by the splitter
        raise WireFormatError("expected ' date YYYY-MM-DD headline'", path, header_no)
    try:  # 2020-3-1 as well as 2020-03-01: the header pattern takes both
        date = _dt.date(*map(int, m.group(1).split("-")))
    except (ValueError, TypeError):
        raise WireFormatError(f"invalid date {m.group(1)!r} in header", path, header_no) from None
    tags, headline = split_tags(clean_line(m.group(2) or ""))
    if not headline:
        raise WireFormatError("header has no headline", path, header_no)

    body = []
    for i in range(a + 1, b):
        body.append(clean_line(lines[i]))
        lines[i] = None  # the raw line is not needed again: a huge file is held once, not twice
    return Story(id, date, headline, tags, *parse_body(body, headline), path, header_no)


def parse_body(body: list[str], headline: str = "") -> tuple[Dateline | None, list[str], str | None, list[list[str]]]:
    """The parts of a story's body lines (cleaned, the header not among them): its dateline, paragraphs, byline
    and related-headline lists, set apart as in a wire file. Used for the stories of a file and for a story's
    text given without its header."""
    end_at = next((i for i, t in enumerate(body) if t[:1] == "(" and END_RE.match(t)), None)
    if end_at is not None:
        story_lines, tail = body[:end_at], body[end_at + 1 :]
    else:
        # No (END): related lists, if any, start at the first "-" line after some prose.
        split = _related_start(body)
        story_lines, tail = (body, []) if split is None else (body[:split], body[split:])
    paragraphs = [t for t in story_lines if t]
    byline = None
    # a lone line is a byline only below a headline: text given alone ("By Popular Demand") keeps its words
    if paragraphs and (headline or len(paragraphs) > 1) and len(paragraphs[-1]) < 120 and BYLINE_RE.match(paragraphs[-1]):
        byline = paragraphs.pop()
    dateline, paragraphs = _split_dateline(paragraphs, headline)
    return dateline, paragraphs, byline, _parse_related(tail)


def parse_stories(text: str, id: str = "story", path: str | None = None,
                  on_error: Callable[[WireFormatError], None] | None = None) -> Iterator[Story]:
    """Parse every story in a wire file's text, in time linear in its length.

    Args:
        text: The decoded file content.
        id: Base id; the n-th story after the first gets ``id#n``.
        path: Source path recorded on stories and named in errors.
        on_error: Called with the error of each story whose block cannot be read (a header with an invalid
            date, say), and the file's other stories are still yielded; None: the first such error is raised.

    Raises:
        WireFormatError: Empty input, or a first non-blank line that is not a story header (the whole file
            is unreadable, whatever ``on_error``); without ``on_error``, a story that cannot be read.
    """
    id = printable(id)  # a file name's non-UTF-8 bytes (os.fsdecode's surrogates) cannot be written out
    if isinstance(path, str):
        path = printable(path)
    text = text.lstrip("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    del text  # the lines hold it all now; keep one copy of a large file, not two
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise WireFormatError("empty file, no story in it", path, 1)
    if not HEADER_START_RE.match(lines[first].strip()):
        shown = lines[first].strip()[:60]
        raise WireFormatError(f"not a wire story: expected ' date YYYY-MM-DD headline', found {shown!r}", path, first + 1)
    bounds, joined = [], []  # story headers; headers after other text on their line
    for i in range(first, len(lines)):
        if "date" in lines[i]:  # one cheap test for both patterns
            if HEADER_START_RE.match(lines[i].strip()):
                bounds.append(i)  # a headline that mentions a date is not a joined story
            elif JOINED_HEADER_RE.search(lines[i]):
                joined.append(i)
    if joined:
        logger.warning("%s:%d: a story header follows other text on its line (two stories joined without a "
                       "newline?); what follows it is read as part of the story before%s", path or id, joined[0] + 1,
                       f" ({len(joined)} such lines)" if len(joined) > 1 else "")
    bounds.append(len(lines))
    for n in range(1, len(bounds)):
        try:
            story = _parse_block(lines, bounds[n - 1], bounds[n], id if n == 1 else f"{id}#{n}", path)
        except WireFormatError as err:
            if on_error is None:
                raise
            on_error(err)  # one bad story in a file of several: the others are still read
            continue
        yield story
