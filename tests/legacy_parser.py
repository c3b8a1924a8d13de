"""A frozen copy of the wire parser as it was before the speed-up of issue 14 (commit d4873cc).

The reference for ``test_parser_equality.py``: the new parser must give the very same stories. Do not
edit, except to keep it importable: it is meant to stay the old behaviour, quadratic corner included.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
from typing import Iterator

from nlp_wire.story import Dateline, Story, WireFormatError

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


def _split_dateline(paragraphs: list[str], headline: str = "") -> tuple[Dateline | None, list[str]]:
    if not paragraphs:
        return None, paragraphs
    first = paragraphs[0]
    m = DATELINE_RE.match(first) or DATELINE_LATE_RE.search(first, 0, DATELINE_LATE_WINDOW)
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


def _is_related_block(lines: list[str]) -> bool:
    """Whether lines (starting at a ``-``) look like lists of related headlines."""
    items = [ln for ln in lines if ln and ln != SEPARATOR and not NUMBER_RE.match(ln)]
    seps = sum(1 for ln in lines if ln == SEPARATOR)
    return bool(items) and seps >= 1 and all(len(i) < 300 for i in items)


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


def _parse_block(lines: list[tuple[int, str]], id: str, path: str | None) -> Story:
    header_no, header = lines[0]
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

    body = [(no, clean_line(text)) for no, text in lines[1:]]
    end_at = next((i for i, (_, t) in enumerate(body) if END_RE.match(t)), None)
    if end_at is not None:
        story_lines, tail = body[:end_at], [t for _, t in body[end_at + 1:]]
    else:
        # No (END): related lists, if any, start at the first "-" line after some prose.
        story_lines, tail = body, []
        for i, (_, t) in enumerate(body):
            if t == SEPARATOR and i > 0 and _is_related_block([x for _, x in body[i:]]):
                story_lines, tail = body[:i], [x for _, x in body[i:]]
                break
    paragraphs = [t for _, t in story_lines if t]
    byline = None
    if paragraphs and BYLINE_RE.match(paragraphs[-1]) and len(paragraphs[-1]) < 120:
        byline = paragraphs.pop()
    dateline, paragraphs = _split_dateline(paragraphs, headline)
    related = _parse_related(tail)
    return Story(id, date, headline, tags, dateline, paragraphs, byline, related, path, header_no)


def parse_stories(text: str, id: str = "story", path: str | None = None) -> Iterator[Story]:
    """Parse every story in a wire file's text.

    Args:
        text: The decoded file content.
        id: Base id; the n-th story after the first gets ``id#n``.
        path: Source path recorded on stories and named in errors.

    Raises:
        WireFormatError: Empty input, or a first non-blank line that is not a story header.
    """
    text = text.lstrip("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise WireFormatError("empty file, no story in it", path, 1)
    if not HEADER_START_RE.match(lines[first].strip()):
        shown = lines[first].strip()[:60]
        raise WireFormatError(f"not a wire story: expected ' date YYYY-MM-DD headline', found {shown!r}", path, first + 1)
    bounds = [i for i in range(first, len(lines)) if "date" in lines[i] and HEADER_START_RE.match(lines[i].strip())]
    bounds.append(len(lines))
    for n, (a, b) in enumerate(zip(bounds, bounds[1:]), 1):
        block = [(i + 1, lines[i]) for i in range(a, b)]
        yield _parse_block(block, id if n == 1 else f"{id}#{n}", path)
