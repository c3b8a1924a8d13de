"""The wire story parser: fields, tags, datelines, tolerated mess and errors naming file and line."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest

from nlp_wire import Story, WireFormatError
from nlp_wire.story import decode_wire_bytes, parse_stories, split_tags, story_group

# -- tiny invented corpus -------------------------------------------------------------------------
FULL = """\
 date 2024-02-14 (LEAD) Lighthouse keepers sign pay pact with coastal ministry
BUSAN, Feb. 14 (Yonhap) -- The lighthouse keepers' union signed a three-year pay pact on Wednesday.
The deal raises night-shift pay and adds two rest days a month.
Union leaders called the accord "a fair tide" for their members.
keeper@example.org
(END)
-
1
(2nd LD) Ferry timetable changes for the spring season
-
2
Harbor festival draws record crowds
-
1
Fishermen report a calm winter
"""

# No byline, no (END): the related list still starts at the first "-" after the prose.
NO_END = """\
 date 2024-03-02 Orchard growers expect an early apple harvest
Growers in the northern valleys expect to pick apples two weeks early this year.
A warm March sped up blossoming, a growers' group said.
-
Beekeepers count fewer hives after frost
-
(URGENT) Hail damages greenhouse roofs
"""

MESSY = (
    "\ufeff date 2024-04-01 Bakers &amp; millers agree on &quot;fair flour&quot; rules\r\n"
    "SEOUL, April 1 (Yonhap) -- Bakers&#39; and millers&nbsp;groups agreed on Monday to share price data.\r\n"
    "The rules take effect in May.\r\n"
    "baker@example.org\r\n"
    "(END)\r\n"
)

SECOND = """\
 date 2024-02-15 (2nd LD) Lighthouse keepers sign pay pact with coastal ministry
BUSAN, Feb. 15 (Yonhap) -- The pact was ratified by members on Thursday.
(END)
"""
THIRD = """\
 date 2024-02-16 [Editorial] Keep the lights on
Coastal towns need their keepers more than ever.
"""


def one(headline: str, *paragraphs: str) -> Story:
    body = "\n".join(paragraphs)
    return Story.from_string(f" date 2024-01-01 {headline}\n{body}\n")


# -- the fields ---------------------------------------------------------------------------------
def test_full_story_fields():
    s = Story.from_string(FULL, id="pact")
    assert s.id == "pact"
    assert s.date == dt.date(2024, 2, 14)
    assert s.headline == "Lighthouse keepers sign pay pact with coastal ministry"
    assert s.tags == ["LEAD"] and s.is_version
    assert (s.dateline.place, s.dateline.when, s.dateline.agency) == ("BUSAN", "Feb. 14", "Yonhap")
    assert s.dateline.text == "BUSAN, Feb. 14 (Yonhap) --"
    assert len(s.paragraphs) == 3
    assert s.lead == "The lighthouse keepers' union signed a three-year pay pact on Wednesday."
    assert s.byline == "keeper@example.org"
    # Numbering that starts again at 1 opens a new list.
    assert s.related_headlines == [
        ["(2nd LD) Ferry timetable changes for the spring season", "Harbor festival draws record crowds"],
        ["Fishermen report a calm winter"],
    ]
    assert s.path is None and s.line == 1
    assert s.body == "\n".join(s.paragraphs)


def test_missing_end_and_byline():
    s = Story.from_string(NO_END)
    assert s.byline is None
    assert s.dateline is None
    assert s.paragraphs == [
        "Growers in the northern valleys expect to pick apples two weeks early this year.",
        "A warm March sped up blossoming, a growers' group said.",
    ]
    assert s.related_headlines == [["Beekeepers count fewer hives after frost", "(URGENT) Hail damages greenhouse roofs"]]


@pytest.mark.parametrize("last, byline", [
    ("keeper@example.org", "keeper@example.org"),
    ("keeper@example.org, mate@example.org", "keeper@example.org, mate@example.org"),
    ("By Han Soo-yeon", "By Han Soo-yeon"),
    ("By Han Soo-yeon and Lee Min-ho", "By Han Soo-yeon and Lee Min-ho"),
    ("By Friday the harbor was calm again.", None),  # prose that opens with "By"
    ("Write to keeper@example.org for the full list.", None),
])
def test_byline(last, byline):
    s = one("Keepers sign pact", "The union signed.", last)
    assert s.byline == byline
    assert s.paragraphs == ["The union signed."] + ([] if byline else [last])


def test_story_without_related_lists_or_end():
    s = Story.from_string(THIRD)
    assert s.paragraphs == ["Coastal towns need their keepers more than ever."]
    assert s.related_headlines == [] and s.byline is None


def test_crlf_bom_and_html_entities():
    s = Story.from_string(MESSY)
    assert s.headline == 'Bakers & millers agree on "fair flour" rules'
    assert s.lead == "Bakers' and millers groups agreed on Monday to share price data."
    assert s.paragraphs[1] == "The rules take effect in May."
    assert s.byline == "baker@example.org"
    assert s.date == dt.date(2024, 4, 1)


def test_control_characters_are_dropped():
    s = one("Keepers\x07 sign\x1b pact", "The\x00 union\x7f signed\u00a0the\x0c pact.")
    assert (s.headline, s.lead) == ("Keepers sign pact", "The union signed the pact.")


def test_several_stories_in_one_text_get_numbered_ids():
    stories = list(parse_stories(FULL + SECOND + "\n" + THIRD, id="keepers", path="k.txt"))
    assert [s.id for s in stories] == ["keepers", "keepers#2", "keepers#3"]
    assert [s.line for s in stories] == [1, 16, 20]
    assert [s.tags for s in stories] == [["LEAD"], ["2nd LD"], ["Editorial"]]
    assert stories[0].related_headlines[1] == ["Fishermen report a calm winter"]  # stops at the next header
    assert all(s.path == "k.txt" for s in stories)


def test_from_string_wants_exactly_one_story():
    with pytest.raises(WireFormatError, match="expected one story, found 2") as info:
        Story.from_string(FULL + SECOND)
    assert info.value.line == 16  # where the unexpected second story starts


def test_from_file(tmp_path):
    p = tmp_path / "pact-01.txt"
    p.write_text(FULL, encoding="utf-8")
    s = Story.from_file(p)
    assert s.id == "pact-01" and s.path == str(p)
    assert s == Story.from_string(FULL, id="pact-01", path=str(p))


def test_to_text_round_trips():
    for text in (FULL, NO_END, MESSY, THIRD, " date 2024-02-16 [Photo (2)] Lights on\nThe keepers lit the lamp.\n"):
        s = Story.from_string(text)
        assert Story.from_string(s.to_text()) == s


def test_wire_format_error_survives_pickling():
    err = WireFormatError("bad header", "a/b.txt", 3)
    back = pickle.loads(pickle.dumps(err))
    assert (back.message, back.path, back.line) == ("bad header", "a/b.txt", 3)
    assert str(back) == "a/b.txt:3: bad header"


# -- tags and story groups ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headline, tags, rest",
    [
        ("(LEAD) Keepers sign pact", ["LEAD"], "Keepers sign pact"),
        ("(2nd LD) Keepers sign pact", ["2nd LD"], "Keepers sign pact"),
        ("(URGENT) Keepers sign pact", ["URGENT"], "Keepers sign pact"),
        ("[Editorial] Keep the lights on", ["Editorial"], "Keep the lights on"),
        ("(News Focus) (LEAD) Ports brace for storms", ["News Focus", "LEAD"], "Ports brace for storms"),
        ("(LEAD)Keepers sign pact", ["LEAD"], "Keepers sign pact"),
        ("Keepers sign pact (update pending)", [], "Keepers sign pact (update pending)"),
        ("(Copyright)", [], "(Copyright)"),  # a headline made only of tags keeps its text
        # A name that starts with parentheses is not a kicker.
        ("(G)I-DLE tops the spring charts", [], "(G)I-DLE tops the spring charts"),
    ],
)
def test_split_tags(headline, tags, rest):
    assert split_tags(headline) == (tags, rest)


@pytest.mark.parametrize("tag, version", [("LEAD", True), ("2nd LD", True), ("3rd LD", True), ("URGENT", True),
                                          ("News Focus", False), ("Editorial", False)])
def test_is_version(tag, version):
    assert one(f"({tag}) Keepers sign pact", "Text.").is_version is version


def test_versions_share_a_group():
    heads = ["(LEAD) Keepers sign pact: union", "(2nd LD) Keepers sign pact: union", "Keepers sign pact -- union"]
    assert len({story_group(h) for h in heads}) == 1
    assert story_group("Keepers sign pact") != story_group("Keepers reject pact")


# -- datelines ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headline, first, place, when, agency, lead",
    [
        ("Families mark a year since the crash", "MUAN, South Korea, Dec. 29 (Yonhap) -- Families gathered.",
         "MUAN, South Korea", "Dec. 29", "Yonhap", "Families gathered."),
        ("Quake rocks the west coast", "TOKYO, Jan. 6, 2026 (Xinhua) -- A quake shook the coast.",
         "TOKYO", "Jan. 6, 2026", "Xinhua", "A quake shook the coast."),
        ("Envoys talk by phone", "WASHINGTON/SEOUL, March 31 (Yonhap) -- Envoys spoke by phone.",
         "WASHINGTON/SEOUL", "March 31", "Yonhap", "Envoys spoke by phone."),
        ("Markets open flat", "NEW YORK, Sept. 3 (Yonhap) -- Markets opened flat.",
         "NEW YORK", "Sept. 3", "Yonhap", "Markets opened flat."),
        # A slugline and the repeated headline stand before the dateline.
        ("Keepers sign pact", "keepers-pactKeepers sign pact BUSAN, Feb. 14 (Yonhap) -- The union signed.",
         "BUSAN", "Feb. 14", "Yonhap", "The union signed."),
        # The headline's last word leaks in front of the place.
        ("Ports to widen toll-free lanes for EV", "EV SEOUL, Dec. 30 (Yonhap) -- Ports will widen lanes.",
         "SEOUL", "Dec. 30", "Yonhap", "Ports will widen lanes."),
        ("Photo Flash | Quake rocks coast", "Photo Flash | Quake rocks coast(260106) -- TOKYO, Jan. 6, 2026 "
         "(Xinhua) -- This photo shows a screen.", "TOKYO", "Jan. 6, 2026", "Xinhua", "This photo shows a screen."),
        # A dateline with a place only.
        ("Service output falls", "SEJONG -- Service output fell in spring.", "SEJONG", "", "", "Service output fell in spring."),
    ],
)
def test_dateline_variants(headline, first, place, when, agency, lead):
    s = one(headline, first, "Second paragraph.")
    assert (s.dateline.place, s.dateline.when, s.dateline.agency) == (place, when, agency)
    assert s.paragraphs == [lead, "Second paragraph."]
    assert first.startswith(s.dateline.text)


@pytest.mark.parametrize(
    "first",
    [
        "Growers expect an early harvest.",
        # A date and a parenthesis in prose are not a dateline.
        "Leaders met in Hanoi on March 3 (local time) -- a day early -- and agreed to talk again.",
        "The A -- B line reopened on Monday.",
    ],
)
def test_no_dateline(first):
    s = one("Growers expect an early harvest", first)
    assert s.dateline is None
    assert s.paragraphs == [first]


def test_dateline_alone_leaves_no_empty_paragraph():
    s = one("Keepers sign pact", "BUSAN, Feb. 14 (Yonhap) --", "The union signed.")
    assert s.dateline.place == "BUSAN"
    assert s.paragraphs == ["The union signed."]


# -- records ------------------------------------------------------------------------------------
def test_from_record_splits_tags_and_dateline():
    rec = {"id": "r1", "date": "2024-05-01", "headline": "(LEAD) Keepers sign pact",
           "body": "BUSAN, May 1 (Yonhap) -- The union signed.\n\nPay rises in June."}
    s = Story.from_record(rec)
    assert (s.id, s.date, s.tags, s.headline) == ("r1", dt.date(2024, 5, 1), ["LEAD"], "Keepers sign pact")
    assert s.dateline.place == "BUSAN"
    assert s.paragraphs == ["The union signed.", "Pay rises in June."]


def test_from_record_tolerates_null_fields():
    s = Story.from_record({"id": None, "date": None, "headline": "Keepers sign pact", "body": None}, id="x:3")
    assert (s.id, s.date, s.paragraphs) == ("x:3", None, [])
    assert Story.from_record({"headline": "H", "date": "soon"}, id="y").date is None


@pytest.mark.parametrize("record, message", [
    (["not", "an", "object"], "JSON object"),
    ({"label": "other"}, "neither 'headline' nor 'body'"),
    ({"headline": 5, "body": "Text."}, "'headline' must be a string"),
    ({"headline": "H", "body": ["a", "b"]}, "'body' must be a string"),
])
def test_from_record_errors_name_the_line(record, message):
    with pytest.raises(WireFormatError, match=message) as info:
        Story.from_record(record, path="r.jsonl", line=7)
    assert str(info.value).startswith("r.jsonl:7: ")


# -- decoding and errors --------------------------------------------------------------------------
GOOD_HEADER = b" date 2024-01-01 Keepers sign pact\n"


@pytest.mark.parametrize(
    "data, line, message",
    [
        (b"", 1, "empty"),
        (b"  \n\n \t\r\n", 1, "empty"),
        (b"Minutes of the harbor board\nAttendance: five\n", 1, "not a wire story"),
        (b"\n\nMinutes of the harbor board\n", 3, "not a wire story"),
        (b" date tomorrow Keepers sign pact\nText.\n", 1, "not a wire story"),
        (GOOD_HEADER + b"Text.\n\x00\x01\x02\x03", 3, "binary"),
        (GOOD_HEADER + "Caf\u00e9 cr\u00e8me na\u00efve r\u00e9sum\u00e9 \u00e0 la fa\u00e7on d\u00e9j\u00e0 "
         "\u00e9t\u00e9 \u00e9l\u00e8ve.\n".encode("latin-1"), 2, "undecodable"),
        (GOOD_HEADER + b"Text.\n(END)\n date 2024-02-30 Leap day mix-up\nText.\n", 4, "invalid date"),
        (b" date 2024-01-01\nText.\n", 1, "no headline"),
    ],
    ids=["empty", "whitespace", "not-a-story", "not-a-story-after-blanks", "bad-date-shape", "binary",
         "latin-1", "invalid-date", "no-headline"],
)
def test_errors_name_file_and_line(tmp_path, data, line, message):
    p = tmp_path / "bad.txt"
    p.write_bytes(data)
    with pytest.raises(WireFormatError, match=message) as info:
        Story.from_file(p)
    err = info.value
    assert (err.path, err.line) == (str(p), line)
    assert str(err).startswith(f"{p}:{line}: ")


def test_missing_file_and_folder_name_the_path(tmp_path):
    for p, message in ((tmp_path / "nope.txt", "no such file"), (tmp_path, "folder")):
        with pytest.raises(WireFormatError, match=message) as info:
            Story.from_file(p)
        assert info.value.path == str(p)


def test_a_stray_byte_is_read_not_refused():
    # One cp1252 apostrophe (0x92) on a line that also holds good UTF-8 quotes.
    data = GOOD_HEADER + b"The keeper\x92s log said " + "\u201ccalm\u201d".encode("utf-8") + b" all week.\n"
    assert Story.from_string(decode_wire_bytes(data)).lead == "The keeper\u2019s log said \u201ccalm\u201d all week."


def test_a_stray_byte_in_a_line_of_non_ascii_text_is_read():
    line = ("\ud56d\uad6c \ub4f1\ub300 " * 30).strip().encode("utf-8")  # 180 good multi-byte characters
    data = GOOD_HEADER + line + b" \x85\n"
    s = Story.from_string(decode_wire_bytes(data))
    assert s.lead.startswith("\ud56d\uad6c \ub4f1\ub300") and s.lead.endswith("\u2026")


def test_utf16_with_bom_is_read():
    s = Story.from_string(decode_wire_bytes((FULL).encode("utf-16")))
    assert s.headline.startswith("Lighthouse keepers")


# -- the seeds (real files, read at test time only) ------------------------------------------------
def _raw_expectations(path):
    """What a careful reader sees in a seed, derived from its lines without the parser."""
    raw = path.read_text(encoding="utf-8").splitlines()
    end = raw.index("(END)")
    _, _, date, headline = raw[0].split(" ", 3)
    body = raw[1:end]
    byline = body[-1] if "@" in body[-1] and " " not in body[-1] else None
    paragraphs = body[:-1] if byline else body
    related = [ln for ln in raw[end + 1:] if ln != "-" and not ln.isdigit()]
    return dt.date.fromisoformat(date), headline, paragraphs, byline, related


@pytest.mark.parametrize(
    "name, date, n_paragraphs, has_byline, list_sizes, when",
    [
        ("000_2194db63ee12b41c.txt", dt.date(2020, 3, 31), 9, True, [5, 5, 5], "March 31"),
        ("002_a3ac4b67afedc978.txt", dt.date(2021, 5, 1), 7, False, [10], "May 1"),
    ],
)
def test_seeds_parse_exactly(seeds, name, date, n_paragraphs, has_byline, list_sizes, when):
    path = seeds / name
    s = Story.from_file(path)
    raw_date, headline, paragraphs, byline, related = _raw_expectations(path)
    assert s.id == path.stem and s.path == str(path)
    assert s.date == raw_date == date
    assert s.tags == [] and s.headline == headline
    assert (s.dateline.place, s.dateline.when, s.dateline.agency) == ("SEOUL", when, "Yonhap")
    assert len(s.paragraphs) == n_paragraphs
    assert [f"{s.dateline.text} {s.lead}", *s.paragraphs[1:]] == paragraphs
    assert s.byline == byline and (s.byline is not None) is has_byline
    assert [len(block) for block in s.related_headlines] == list_sizes
    assert [h for block in s.related_headlines for h in block] == related


def test_two_stories_joined_without_a_newline_are_named_in_a_warning(caplog):
    """The second header lands after the first story's last line: it cannot be told from text there, so it is
    read as part of the first story; the warning names the line (nothing is lost in silence)."""
    text = (" date 2024-03-02 Police arrest suspect\nBUSAN, March 2 (Hanwire) -- Police arrested a suspect.\n(END)\n"
            "-\nAn earlier headline date 2024-03-03 Rain expected\nSEOUL, March 3 (Hanwire) -- Rain is expected.\n")
    with caplog.at_level("WARNING", logger="nlp_wire.story"):
        stories = list(parse_stories(text, id="joined", path="joined.txt"))
    assert len(stories) == 1
    assert "joined.txt:5: a story header follows other text on its line" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="nlp_wire.story"):
        list(parse_stories(" date 2024-03-02 Talks to update date 2024-03-05 schedule\nText.\n"))
    assert caplog.text == ""  # a headline that mentions a date is a header line, not a joined story


def test_a_record_date_with_a_time_part_keeps_its_day():
    import datetime

    from nlp_wire.story import Story

    for value in ("2021-03-04T09:00:00+09:00", "2021-03-04 09:00", "2021-03-04"):
        assert Story.from_record({"headline": "Hx", "body": "Some text.", "date": value}).date == datetime.date(2021, 3, 4)
    assert Story.from_record({"headline": "Hx", "body": "Some text.", "date": "March 4"}).date is None


def test_a_file_with_more_than_half_a_percent_of_stray_bytes_is_refused():
    from nlp_wire.story import WireFormatError, decode_wire_bytes

    body = bytearray(b"a" * 1000)
    for i in range(0, 1000, 50):  # 20 lone cp1252 bytes in 1,000 (2 %)
        body[i] = 0xE9
    with pytest.raises(WireFormatError, match="undecodable"):
        decode_wire_bytes(bytes(body))
    assert decode_wire_bytes(b"Caf\xe9 opens. " + b"a" * 1000).startswith("Café")  # one stray byte: read as cp1252


def test_a_record_whose_only_text_is_a_byline_like_line_keeps_it():
    from nlp_wire.story import Story

    assert Story.from_record({"body": "By Popular Demand"}).paragraphs == ["By Popular Demand"]
