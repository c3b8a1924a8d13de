"""The fast wire parser gives exactly the stories of the old one, in linear time.

``data/story_before.py`` is a frozen copy of the parser before the speed-up. Both parse every sample and
seed file, every korea_dev file (when ``../shared`` is here), hand-made hostile texts and a few hundred
random mixes of wire lines; stories (every field) and errors (message and line) must be equal.
"""

from __future__ import annotations

import importlib.util
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from nlp_wire.story import WireFormatError, decode_wire_bytes, parse_stories


def _frozen_module():
    spec = importlib.util.spec_from_file_location("story_before", Path(__file__).parent / "data" / "story_before.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("story_before", module)  # dataclasses look their module up by name
    spec.loader.exec_module(sys.modules["story_before"])
    return sys.modules["story_before"]


legacy_parser = _frozen_module()

SAMPLES = Path(__file__).resolve().parents[1] / "nlp_wire" / "sample_data" / "stories"

# -- invented wire lines ----------------------------------------------------------------------------
HEADERS = [
    " date 2024-02-14 Keepers sign pay pact",
    " date 2024-02-14 (LEAD) Ferries stay in port",
    "date 2024-02-01 (2nd LD) [News Focus] Growers expect early harvest",
    " date 2024-02-14 (G)I-DLE plays a harbour show",
    "\tdate 2024-02-14 &amp; entities &lt;in&gt; headline",
]
BAD_HEADERS = [" date 2024-13-40 Impossible date", "  date 2024-02-14   ", "date 2024-2-1 Short date"]
PROSE = [
    "BUSAN, Feb. 14 (Yonhap) -- The union signed the pact on Monday after long talks.",
    "MUAN, South Korea, Dec. 29 (Yonhap) \u2014 Crews worked through the night.",
    "pact-talksS. Korea, U.S. to hold talks BUSAN, Feb. 14 (Yonhap) -- Officials met.",
    "SEJONG -- The ministry said exports rose.",
    "A second paragraph with  two  spaces and a tab\there.",
    "Prices rose 3.1 percent on-year, the agency said (see table) -- a quick rise.",
    "By Friday the harbour was calm again.",
    "Caf\u00e9 owners\u00a0met on\u200bMonday\u3000in the square.",
    "A control\x07character and\x1fanother.",
    "x" * 400,
]
TAILS = ["desk@example.org", "By Kim Min-ji", "(END)", "(end)", "-", "1", "2", "3.", "A related headline", ""]


def _outcome(parse, text: str):
    """The stories a parser gives, or the error it raises (message and line)."""
    try:
        return [asdict(s) for s in parse(text, id="t", path="t.txt")]
    except (WireFormatError, legacy_parser.WireFormatError) as err:
        return ("error", err.message, err.line)


def assert_same(text: str) -> None:
    assert _outcome(parse_stories, text) == _outcome(legacy_parser.parse_stories, text)


def _random_story(rng: random.Random) -> str:
    lines = [rng.choice(BAD_HEADERS if rng.random() < 0.03 else HEADERS)]
    lines += rng.choices(PROSE + TAILS, k=rng.randint(0, 12))
    if rng.random() < 0.5:
        lines.append("(END)")
        for i in range(rng.randint(0, 4)):
            lines += ["-", str(rng.randint(1, 4)), rng.choice(PROSE + TAILS)]
    return "\n".join(" " * rng.randint(0, 2) + ln + " " * rng.randint(0, 2) for ln in lines)


# -- files -----------------------------------------------------------------------------------------
def _files_same(folder: Path) -> int:
    files = sorted(folder.rglob("*.txt"))
    for f in files:
        text = decode_wire_bytes(f.read_bytes(), f)
        assert _outcome(parse_stories, text) == _outcome(legacy_parser.parse_stories, text), f
    return len(files)


def test_sample_files_parse_the_same():
    assert _files_same(SAMPLES) > 500


def test_seed_files_parse_the_same(seeds):
    assert _files_same(seeds) > 0


def test_korea_dev_files_parse_the_same(korea_dev):
    assert _files_same(korea_dev) == 225


# -- hostile and edge texts -------------------------------------------------------------------------
HOSTILE = {
    "empty": "",
    "blank lines": "\n \n\t\n",
    "not a story": "Dear editor,\nplease find attached\n",
    "bom": "\ufeff date 2024-02-14 Keepers sign pact\nBUSAN, Feb. 14 (Yonhap) -- Done.\n(END)\n",
    "crlf": " date 2024-02-14 Keepers sign pact\r\nBUSAN, Feb. 14 (Yonhap) -- Done.\r\n(END)\r\n-\r\n1\r\nOther\r\n",
    "cr only": " date 2024-02-14 Keepers sign pact\rBUSAN, Feb. 14 (Yonhap) -- Done.\r(END)\r",
    "no end, related lists": " date 2024-02-14 Pact\nBody text.\n-\n1\nOne\n-\n2\nTwo\n",
    "no end, long item after dash": " date 2024-02-14 Pact\nBody.\n-\n1\nOne\n-\n" + "y" * 300 + "\n-\n2\nTwo\n",
    "no end, dash first": " date 2024-02-14 Pact\n-\n1\nOne\n",
    "no end, only dashes": " date 2024-02-14 Pact\n" + "-\n" * 1500,
    "no end, dashes then an item": " date 2024-02-14 Pact\nBody.\n" + "-\n" * 1500 + "Item\n",
    "two stories and a wrong date": " date 2024-02-14 A\nBody.\n(END)\n date 2024-02-31 B\nBody.\n",
    "header without headline": " date 2024-02-14\nBody.\n",
    "huge single line": " date 2024-02-14 Pact\nSEOUL, Feb. 14 (Yonhap) -- " + "word " * 400_000 + "\n(END)\n",
    "huge line, no dateline, dashes late": " date 2024-02-14 Pact\n" + "a " * 400 + "(x) -- " + "b " * 1000 + "\n",
    "no end, dashes in prose": " date 2024-05-01 Head\nSEOUL -- a\n-\n" + "x" * 400 + "\n-\nshort\n",
    "numbers only after dash": " date 2024-05-01 Head\nBody.\n-\n1\n2\n",
    "numbers restart lists": " date 2024-02-14 Pact\nBody.\n(END)\n-\n1\nA\n-\n2\nB\n-\n1\nC\n-\n1.\nD\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_texts_parse_the_same(name):
    assert_same(HOSTILE[name])


def test_random_wire_mixes_parse_the_same():
    rng = random.Random(14)
    for _ in range(600):
        text = "\n".join(_random_story(rng) for _ in range(rng.randint(1, 3)))
        if rng.random() < 0.2:
            text = text.replace("\n", "\r\n")
        assert_same(text)


# -- linear time -----------------------------------------------------------------------------------
@pytest.mark.parametrize("lines", [20_000, 100_000])
def test_no_end_and_many_dashes_parse_in_linear_time(lines):
    text = " date 2024-02-14 Pact\nBody of the story.\n" + "-\n" * lines
    start = time.perf_counter()
    (story,) = parse_stories(text)
    assert time.perf_counter() - start < 0.5
    assert story.paragraphs == ["Body of the story.", *["-"] * lines]  # no item after them: no lists
    mixed = " date 2024-02-14 Pact\nBody.\n" + "-\n1\nA related headline\n" * (lines // 3)
    start = time.perf_counter()
    (story,) = parse_stories(mixed)
    assert time.perf_counter() - start < 0.5
    assert story.paragraphs == ["Body."] and len(story.related_headlines[0]) == 1


def test_many_related_lists_without_end_parse_in_linear_time():
    text = " date 2024-05-01 Head\nSEOUL -- prose.\n" + "-\nA related headline\n" * 50_000 + "-\n" * 50_000
    start = time.perf_counter()
    (story,) = parse_stories(text)
    assert time.perf_counter() - start < 2.0  # was minutes: every "-" line re-checked the rest of the file
    assert story.paragraphs == ["prose."] and len(story.related_headlines[0]) == 50_000


def test_the_old_parser_was_quadratic_there():
    """Why the time limit above means something: the frozen parser takes far longer on 4,000 lines."""
    text = " date 2024-02-14 Pact\nBody.\n" + "-\n" * 4000
    start = time.perf_counter()
    list(parse_stories(text))
    new = time.perf_counter() - start
    start = time.perf_counter()
    list(legacy_parser.parse_stories(text))
    assert time.perf_counter() - start > 20 * new
