"""The linear-time wire parser returns exactly the stories the previous parser returned (issue 14).

``legacy_wire_parser`` is a frozen copy of the parser before the rewrite. Both run here on every
bundled sample file, on the real files in ``../shared`` when present (never copied into the
repository), on invented hostile inputs and on randomly assembled invented files.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import pytest

from nlp_wire.story import WireFormatError, decode_wire_bytes, parse_stories

sys.path.insert(0, str(Path(__file__).parent))
import legacy_wire_parser as legacy  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "nlp_wire" / "sample_data" / "stories"
HEAD = " date 2024-03-05 (LEAD) Ferry crews agree on a winter timetable\n"
LEAD = "MOKPO, March 5 (Yonhap) -- Ferry crews agreed on a winter timetable on Tuesday.\n"


def outcome(parse, text: str, path: str = "f.txt"):
    """The stories, or the error (message and line), that ``parse`` makes of ``text``."""
    try:
        return list(parse(text, id="f", path=path))
    except WireFormatError as err:
        return ("error", err.message, err.line)


def assert_same(text: str, path: str = "f.txt") -> None:
    new = outcome(parse_stories, text, path)
    assert new == outcome(legacy.parse_stories, text, path), path


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.txt"))


def test_samples_equal():
    files = _files(SAMPLES)
    assert files
    for f in files:
        assert_same(decode_wire_bytes(f.read_bytes(), f), str(f))


@pytest.mark.parametrize("which", ["seeds", "korea_dev"])
def test_shared_files_equal(which, request):
    folder = request.getfixturevalue(which)
    files = _files(folder)
    assert files
    for f in files:
        text = decode_wire_bytes(f.read_bytes(), f)
        assert_same(text, str(f))
        # the same files with the mess real copies carry
        assert_same("\ufeff" + text.replace("\n", "\r\n"), str(f))
        assert_same(text.replace("\n", "\r"), str(f))


HOSTILE = {
    "empty": "",
    "blank": " \n\n\t\n",
    "not a story": "Dear editor,\nplease find attached\n",
    "no end": HEAD + LEAD + "The timetable starts in November.\n",
    "no end, dashes": HEAD + LEAD + "-\n" * 1500,
    "no end, dashes and items": HEAD + LEAD + "-\n1\nShip sails\n" * 500,
    "no end, long item last": HEAD + LEAD + "-\n1\nShip sails\n-\n" + "word " * 80 + "\n",
    "no end, long item first": HEAD + LEAD + "-\n" + "word " * 80 + "\n-\n1\nShip sails\n",
    "no end, dash first": HEAD + "-\n1\nShip sails\n",
    "crlf": (HEAD + LEAD + "crew@example.org\n(END)\n-\n1\nOther story\n").replace("\n", "\r\n"),
    "cr only": (HEAD + LEAD + "(END)\n").replace("\n", "\r"),
    "bom": "\ufeff" + HEAD + LEAD + "(END)\n",
    "double bom": "\ufeff\ufeff" + HEAD + LEAD,
    "huge line": HEAD + "MOKPO, March 5 (Yonhap) -- " + "The crews sailed on. " * 100_000 + "\n(END)\n",
    "huge line, no end": HEAD + "word " * 200_000,
    "spaces and tabs": HEAD + "  MOKPO, March 5 (Yonhap) --  Ferry\tcrews  agreed.  \n \u00a0(END)\u00a0\n",
    "entities": HEAD + "Crews &amp; captains agreed&nbsp;today.\n&#40;END&#41;\n-\n1\nA &quot;headline&quot;\n",
    "controls": HEAD + "Crews\x07 agreed\x1f on\x0b a\x0c plan\u2028now.\n(end)\n",
    "end in prose": HEAD + LEAD + "They said (END) was near.\n(END)\n",
    "two stories": HEAD + LEAD + "(END)\n-\n1\nOther\n" + HEAD.replace("(LEAD) ", "") + LEAD,
    "bad date": " date 2024-13-45 Headline\nText\n",
    "tags only": " date 2024-03-05 (LEAD)\nText\n",
    "late dateline": HEAD + "ferry-slugMOKPO, March 5 (Yonhap) -- Crews agreed.\n",
    "dash far away": HEAD + "x" * 400 + " MOKPO, March 5 (Yonhap) -- Crews.\n",
    "bare dateline": HEAD + "SEJONG -- Crews agreed.\n",
    "em dash dateline": HEAD + "Text MOKPO, March 5 (Yonhap) \u2014 Crews agreed.\n",
    "byline": HEAD + LEAD + "By Kim Min-ji\n(END)\n",
    "numbers": HEAD + LEAD + "(END)\n-\n1.\nOne\n-\n2\nTwo\n-\n1\nThree\n-\n\u0661\nFour\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_equal(name):
    assert_same(HOSTILE[name])


def test_random_files_equal():
    """Files assembled at random from the pieces a wire file is made of."""
    pieces = [
        HEAD, LEAD, " date 2024-03-06 Crews rest\n", "(END)\n", "(end)\n", "-\n", "1\n", "2.\n", "12\n", "\n",
        "  \n", "Ships sail at dawn.\n", "Ships  sail\tat dawn. \n", "A &amp; B\n", "crew@example.org\n",
        "By Lee Jun-ho\n", "word " * 70 + "\n", "SEJONG -- Rules change.\n", "\u00a0Note\u00a0\n", "\r\n",
        "(2nd LD) Related headline\n", "date 2024-03-07 Not at line start? it is\n",
        "A\u3000 B\x1c\x1dC \x85 D\t\t\n", " \u2028 \u2009x\u200a \n", "\x0b\x0c(END)\x0c\n",
    ]
    rng = random.Random(14)
    for _ in range(400):
        body = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        text = (HEAD if rng.random() < 0.9 else "") + body
        assert_same(text)


@pytest.mark.parametrize("lines", [20_000, 100_000])
def test_no_end_many_dashes_is_linear(lines):
    """A story with no (END) and 100k "-" lines (the old parser: quadratic, minutes) parses at once."""
    text = HEAD + LEAD + "-\n" * lines + "1\nShip sails\n"
    start = time.perf_counter()
    (story,) = parse_stories(text)
    assert time.perf_counter() - start < 1.0
    assert story.paragraphs == ["Ferry crews agreed on a winter timetable on Tuesday."]
    assert story.related_headlines == [["Ship sails"]]


def test_clean_table_knows_every_whitespace_character():
    from nlp_wire.story import _WHITESPACE

    assert set(_WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace() and c != 32}
