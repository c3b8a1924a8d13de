"""The parser's speed-ups change no story: a frozen copy of the previous parser is the reference.

``tests/data/story_before.py`` is the parser before the linear-time rewrite (issue 14). Both run here
on every bundled sample file, on the real files in ``../shared`` when present (never copied into the
repository; also with a BOM and CRLF or CR line ends), on invented hostile inputs (errors compared
too) and on randomly assembled invented files.
"""

import importlib.util
import random
import sys
import time
from pathlib import Path

import pytest

from nlp_wire.story import decode_wire_bytes, parse_stories

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _old_parser():
    spec = importlib.util.spec_from_file_location("story_before", Path(__file__).parent / "data" / "story_before.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("story_before", module)  # dataclasses look their module up by name
    spec.loader.exec_module(sys.modules["story_before"])
    return sys.modules["story_before"].parse_stories


def _same(text, path="x.txt"):
    from dataclasses import asdict

    old = [asdict(s) for s in _old_parser()(text, "x", path)]
    new = [asdict(s) for s in parse_stories(text, "x", path)]
    assert new == old


HOSTILE = {
    "no END, related list": " date 2024-05-01 Head\nSEOUL, May 1 (Yonhap) -- Body one.\nBody two.\n-\n1\nRelated A\n-\nRelated B\n",
    "no END, dashes in prose": " date 2024-05-01 Head\nSEOUL -- a\n-\n" + "x" * 400 + "\n-\nshort\n",
    "CRLF and BOM": "\ufeff date 2024-05-01 Head\r\nSEOUL, May 1 (Yonhap) -- Body  with   spaces\t.\r\n(END)\r\n",
    "two stories": " date 2024-05-01 A\nBody a.\n(END)\n date 2024-05-02 B\nBody b &amp; c.\n(END)\n",
    "huge line": " date 2024-05-01 Head\n" + "word " * 50000 + "\n(END)\n",
    "numbers only after dash": " date 2024-05-01 Head\nBody.\n-\n1\n2\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_same_stories_on_hostile_cases(name):
    _same(HOSTILE[name])


def test_same_stories_on_every_shared_and_sample_file():
    files = sorted((ROOT / "nlp_wire" / "sample_data" / "stories").glob("*.txt"))
    if SHARED.exists():
        files += sorted((SHARED / "data" / "korea_dev").glob("*.txt")) + sorted((SHARED / "seeds").rglob("*.txt"))
    assert len(files) > 500
    for f in files:
        _same(f.read_text(encoding="utf-8"), str(f))


def growth(text_of, lines: int, factor: int = 5) -> float:
    """How many times longer ``parse_stories`` takes on ``text_of(factor * lines)`` than on ``text_of(lines)``.

    About ``factor`` when parsing is linear, ``factor`` squared when quadratic. A ratio of two timings (the
    best of three each) rather than a limit in seconds: a slow or busy machine slows both alike.
    """
    def best(text):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            list(parse_stories(text))
            times.append(time.perf_counter() - start)
        return min(times)

    return best(text_of(factor * lines)) / best(text_of(lines))


def test_many_dash_lines_without_end_parse_in_linear_time():
    def text_of(n):
        return " date 2024-05-01 Head\nSEOUL -- prose.\n" + "-\nA related headline\n" * n + "-\n" * n

    (story,) = parse_stories(text_of(50_000))
    assert story.paragraphs == ["prose."] and len(story.related_headlines[0]) == 50_000
    # was minutes: every "-" line re-checked the rest of the file
    assert growth(text_of, 10_000) < 12  # 5 times the lines: about 5 times the time, 25 if quadratic


# -- errors too, more hostile cases, random files ----------------------------------------------
SAMPLES = Path(__file__).resolve().parents[1] / "nlp_wire" / "sample_data" / "stories"
HEAD = " date 2024-03-05 (LEAD) Ferry crews agree on a winter timetable\n"
LEAD = "MOKPO, March 5 (Yonhap) -- Ferry crews agreed on a winter timetable on Tuesday.\n"


def outcome(parse, text: str, path: str = "f.txt"):
    """The stories, or the error (message and line), that ``parse`` makes of ``text``."""
    from dataclasses import asdict

    try:
        return [asdict(s) for s in parse(text, id="f", path=path)]
    except ValueError as err:  # the WireFormatError of either parser's module
        return ("error", err.message, err.line)


def assert_same(text: str, path: str = "f.txt") -> None:
    new = outcome(parse_stories, text, path)
    assert new == outcome(_old_parser(), text, path), path


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.txt"))


@pytest.mark.parametrize("which", ["seeds", "korea_dev"])
def test_shared_files_with_bom_and_crlf_equal(which, request):
    folder = request.getfixturevalue(which)
    files = _files(folder)
    assert files
    for f in files:
        text = decode_wire_bytes(f.read_bytes(), f)
        # the same files with the mess real copies carry (as they are: test_same_stories_on_every_shared_and_sample_file)
        assert_same("\ufeff" + text.replace("\n", "\r\n"), str(f))
        assert_same(text.replace("\n", "\r"), str(f))


MORE_HOSTILE = {
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


@pytest.mark.parametrize("name", sorted(MORE_HOSTILE))
def test_hostile_equal_with_errors(name):
    assert_same(MORE_HOSTILE[name])


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


def test_no_end_many_dashes_is_linear():
    """A story with no (END) and 100k "-" lines (the old parser: quadratic, minutes) parses in linear time."""
    def text_of(n):
        return HEAD + LEAD + "-\n" * n + "1\nShip sails\n"

    (story,) = parse_stories(text_of(100_000))
    assert story.paragraphs == ["Ferry crews agreed on a winter timetable on Tuesday."]
    assert story.related_headlines == [["Ship sails"]]
    assert growth(text_of, 20_000) < 12  # 5 times the lines: about 5 times the time, 25 if quadratic


def test_clean_table_knows_every_whitespace_character():
    from nlp_wire.story import _WHITESPACE

    assert set(_WHITESPACE) == {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace() and c != 32}
