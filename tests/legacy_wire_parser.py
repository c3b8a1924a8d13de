"""A frozen copy of the wire parser as it was before the linear-time rewrite (issue 14).

Only the equality tests in ``test_parser_equality.py`` use it: the current parser must return the
same :class:`~nlp_wire.story.Story` objects. Do not "fix" this copy; it is the reference. (It is
quadratic on a story with no ``(END)`` and many ``-`` lines, so tests feed it small cases only.)
"""

from __future__ import annotations

import datetime as _dt
import html
import re

from nlp_wire.story import (
    BYLINE_RE,
    DATELINE_BARE_RE,
    DATELINE_LATE_RE,
    DATELINE_LATE_WINDOW,
    DATELINE_RE,
    END_RE,
    HEADER_RE,
    HEADER_START_RE,
    NUMBER_RE,
    SEPARATOR,
    Dateline,
    Story,
    WireFormatError,
    split_tags,
)


_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def clean_line(line):
    if "&" in line:
        line = html.unescape(line)
    if not line.isprintable():
        line = _CONTROL_RE.sub("", line.replace("\u00a0", " ").replace("\ufeff", ""))
    return " ".join(line.split())


def _split_dateline(paragraphs, headline=""):
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
    dl = Dateline(place, when, agency, first[: m.end()].strip())
    rest = first[m.end():].strip()
    return dl, ([rest] if rest else []) + paragraphs[1:]


def _strip_headline_tail(place, headline):
    words = place.split()
    for k in range(len(words) - 1, 0, -1):
        if headline.endswith(" ".join(words[:k])):
            return " ".join(words[k:])
    return place


def _is_related_block(lines):
    items = [ln for ln in lines if ln and ln != SEPARATOR and not NUMBER_RE.match(ln)]
    seps = sum(1 for ln in lines if ln == SEPARATOR)
    return bool(items) and seps >= 1 and all(len(i) < 300 for i in items)


def _parse_related(lines):
    blocks, current, last_number = [], [], 0
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


def _parse_block(lines, id, path):
    header_no, header = lines[0]
    m = HEADER_RE.match(header)
    if not m:
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


def parse_stories(text, id="story", path=None):
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
