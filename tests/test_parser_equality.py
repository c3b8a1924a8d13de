"""The parser's speed-ups change no story: a frozen copy of the previous parser is the reference."""

import importlib.util
import sys
import time
from pathlib import Path

import pytest

from nlp_wire.story import parse_stories

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


def test_many_dash_lines_without_end_parse_in_linear_time():
    text = " date 2024-05-01 Head\nSEOUL -- prose.\n" + "-\nA related headline\n" * 50_000 + "-\n" * 50_000
    start = time.perf_counter()
    (story,) = parse_stories(text)
    assert time.perf_counter() - start < 2.0  # was minutes: every "-" line re-checked the rest of the file
    assert story.paragraphs == ["prose."] and len(story.related_headlines[0]) == 50_000
