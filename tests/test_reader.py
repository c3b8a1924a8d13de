"""Streaming folders, files and JSONL into stories; reporting bad inputs and carrying on."""

from __future__ import annotations

import csv
import re
import types

import pytest

from nlp_wire import Corpus, ReadReport, WireFormatError, read_stories

# -- tiny invented corpus -------------------------------------------------------------------------
def story(headline: str, lead: str = "The union signed the pact on Monday.", date: str = "2024-02-14") -> str:
    return f" date {date} {headline}\nBUSAN, Feb. 14 (Yonhap) -- {lead}\nA second paragraph.\ndesk@example.org\n(END)\n"


A = story("Keepers sign pay pact")
B = story("Ferries stay in port as storm nears")
C = story("Orchard growers expect early harvest")
D = story("Bakers agree on flour rules")
TWO = story("(LEAD) Port strike ends") + story("(2nd LD) Port strike ends", "Workers returned on Tuesday.")

JSONL_LINES = [
    b'{"id": "j1", "headline": "Keepers sign pact", "body": "BUSAN, Feb. 14 (Yonhap) -- The union signed."}',
    b"",
    b'{"headline": "Storm shuts ferries", ',  # cut short
    b'["not", "an", "object"]',
    b'{"headline": "Storm shuts ferries", "body": "Ferries stayed in port.", "date": "2024-02-01"}',
    b'{"label": "other"}',
    b'{"headline": "Keeper\x92s log", "body": "Calm all week."}',  # one stray cp1252 byte
    b'{"headline": "' + bytes(range(0xA0, 0xC0)) + b'"}',  # not text at all
]


@pytest.fixture
def corpus(make_folder):
    return make_folder({
        "b.txt": B,
        "a.txt": A,
        "sub/deeper/d.txt": D,
        "sub/c.txt": C,
        ".hidden.txt": A,
        ".cache/e.txt": A,
        "labels.csv": "id,label\na,other\n",
        "notes.md": "not a story",
        "records.jsonl": JSONL_LINES[0].decode() + "\n",
    })


# -- folders ------------------------------------------------------------------------------------
def test_folder_order_is_sorted_recursive_and_skips_hidden_and_other_files(corpus):
    stories = list(read_stories(corpus))
    assert [s.id for s in stories] == ["a", "b", "c", "d"]
    assert stories[3].path == str(corpus / "sub" / "deeper" / "d.txt")
    assert [s.id for s in read_stories(corpus)] == ["a", "b", "c", "d"]  # stable


def test_several_stories_in_a_file(make_folder):
    stories = list(read_stories(make_folder({"strike.txt": TWO})))
    assert [(s.id, s.tags, s.line) for s in stories] == [("strike", ["LEAD"], 1), ("strike#2", ["2nd LD"], 6)]
    assert stories[0].group == stories[1].group


def test_a_single_file_of_any_name_and_a_list_of_paths(corpus, tmp_path):
    other = tmp_path / "one.wire"
    other.write_text(C, encoding="utf-8")
    assert [s.id for s in read_stories(other)] == ["one"]
    assert [s.id for s in read_stories([other, corpus / "sub"])] == ["one", "c", "d"]


def test_read_stories_streams(make_folder, count_reads):
    folder = make_folder({f"s{i:03d}.txt": story(f"Story number {i}") for i in range(50)})
    it = read_stories(folder)
    assert isinstance(it, types.GeneratorType) and iter(it) is it
    assert count_reads == []  # nothing read before asked
    assert next(it).id == "s000"
    assert len(count_reads) == 1


# -- bad inputs ---------------------------------------------------------------------------------
@pytest.fixture
def mixed(make_folder):
    return make_folder({
        "1-good.txt": A,
        "2-empty.txt": "",
        "3-binary.txt": b" date 2024-01-01 Head\nText.\n\x00\x00\x07",
        "4-two.txt": TWO,
        "5-minutes.txt": "Minutes of the harbor board\n",
        "6-latin1.txt": (" date 2024-01-01 Caf\u00e9\n" + "cr\u00e8me br\u00fbl\u00e9e \u00e0 la fa\u00e7on " * 4).encode("latin-1"),
        "7-baddate.txt": A + " date 2024-13-01 Month thirteen\nText.\n",
        "8-good.txt": B,
    })


def test_report_collects_errors_and_carries_on(mixed, caplog):
    report = ReadReport()
    stories = list(read_stories(mixed, on_error=report))
    # 7-baddate.txt: its first story is good, its second has an invalid date: only the second is lost
    assert [s.id for s in stories] == ["1-good", "4-two", "4-two#2", "7-baddate", "8-good"]
    assert (report.files, report.stories) == (8, 5)
    where = [(e.path.rsplit("/", 1)[-1], e.line) for e in report.errors]
    assert where == [("2-empty.txt", 1), ("3-binary.txt", 3), ("5-minutes.txt", 1), ("6-latin1.txt", 1),
                     ("7-baddate.txt", 6)]
    assert all(str(e).startswith(f"{e.path}:{e.line}: ") for e in report.errors)
    assert "3-binary.txt:3" in caplog.text


def test_on_error_may_be_any_callable(mixed):
    seen = []
    assert len(list(read_stories(mixed, on_error=seen.append))) == 5
    assert len(seen) == 5 and all(isinstance(e, WireFormatError) for e in seen)


def test_raise_stops_at_the_first_bad_file(mixed):
    it = read_stories(mixed, errors="raise")
    assert next(it).id == "1-good"
    with pytest.raises(WireFormatError, match="empty") as info:
        next(it)
    assert info.value.path == str(mixed / "2-empty.txt") and info.value.line == 1


def test_missing_path(tmp_path):
    report = ReadReport()
    assert list(read_stories(tmp_path / "nowhere", on_error=report)) == []
    assert [e.path for e in report.errors] == [str(tmp_path / "nowhere")]
    with pytest.raises(WireFormatError, match="no such file"):
        list(read_stories(tmp_path / "nowhere", errors="raise"))


def test_a_bad_path_in_a_list_does_not_stop_the_others(tmp_path, corpus):
    report = ReadReport()
    stories = list(read_stories([tmp_path / "nowhere", corpus / "a.txt"], on_error=report))
    assert [s.id for s in stories] == ["a"] and len(report.errors) == 1


def test_empty_folder_yields_nothing(tmp_path):
    assert list(read_stories(tmp_path)) == []


def test_errors_must_be_report_or_raise(corpus):
    with pytest.raises(ValueError, match="errors"):
        list(read_stories(corpus, errors="ignore"))


# -- JSONL --------------------------------------------------------------------------------------
@pytest.fixture
def records(tmp_path):
    p = tmp_path / "recs.jsonl"
    p.write_bytes(b"\xef\xbb\xbf" + b"\n".join(JSONL_LINES) + b"\n")
    return p


def test_jsonl_good_lines_and_bad_lines_with_their_numbers(records):
    report = ReadReport()
    stories = list(read_stories(records, on_error=report))
    assert [s.id for s in stories] == ["j1", "recs:5", "recs:7"]
    assert [s.line for s in stories] == [1, 5, 7]
    assert stories[0].dateline.place == "BUSAN" and stories[0].lead == "The union signed."
    assert stories[2].headline == "Keeper\u2019s log"
    assert [e.line for e in report.errors] == [3, 4, 6, 8]
    assert all(e.path == str(records) for e in report.errors)
    assert "invalid JSON" in str(report.errors[0]) and "undecodable" in str(report.errors[3])
    assert (report.files, report.stories) == (1, 3)


def test_jsonl_raise_names_the_line(records):
    with pytest.raises(WireFormatError, match="invalid JSON") as info:
        list(read_stories(records, errors="raise"))
    assert str(info.value).startswith(f"{records}:3: ")


# -- CSV records, and record suffixes in any case ------------------------------------------------
CSV_TEXT = ("id,headline,body\n"
            "c1,Keepers sign pact,\"BUSAN, Feb. 14 (Yonhap) -- The union signed.\"\n"
            "c2,Storm shuts ferries,Ferries stayed in port.\n")


def test_csv_and_upper_case_record_files_are_read_as_records(tmp_path, records):
    data = tmp_path / "data.csv"
    data.write_text(CSV_TEXT, encoding="utf-8")
    stories = list(read_stories(data, errors="raise"))
    assert [(s.id, s.headline, s.line) for s in stories] == [("c1", "Keepers sign pact", 2),
                                                              ("c2", "Storm shuts ferries", 3)]
    assert stories[0].dateline.place == "BUSAN" and stories[0].lead == "The union signed."
    upper = tmp_path / "B.JSONL"
    upper.write_bytes(records.read_bytes())
    assert [s.id for s in read_stories(upper)] == ["j1", "B:5", "B:7"]
    upper_csv = tmp_path / "D.CSV"
    upper_csv.write_text(CSV_TEXT, encoding="utf-8")
    assert [s.id for s in read_stories(upper_csv, errors="raise")] == ["c1", "c2"]


def test_a_csv_in_a_folder_is_not_read(make_folder):
    folder = make_folder({"a.txt": A, "labels.csv": "id,label\na,other\n"})
    report = ReadReport()
    assert [s.id for s in read_stories(folder, on_error=report)] == ["a"]
    assert [s.reason for s in report.skipped] == ["not .txt"]


# -- Corpus -------------------------------------------------------------------------------------
@pytest.fixture
def six(make_folder):
    return make_folder({f"{c}.txt": story(f"Story {c}") for c in "abcdef"})


def test_corpus_limit_streams(six, count_reads):
    assert [s.id for s in Corpus(six, limit=2)] == ["a", "b"]
    assert len(count_reads) == 2


def test_corpus_is_reiterable_and_shuffles_by_seed(six):
    corpus = Corpus(six, shuffle=True, seed=3)
    first = [s.id for s in corpus]
    assert first == [s.id for s in corpus] == [s.id for s in Corpus(six, shuffle=True, seed=3)]
    assert sorted(first) == list("abcdef")
    orders = {tuple(s.id for s in Corpus(six, shuffle=True, seed=seed)) for seed in range(5)}
    assert len(orders) > 1
    assert len(list(Corpus(six, shuffle=True, seed=3, limit=4))) == 4


# -- korea_dev (real files, read at test time only) -----------------------------------------------
def test_korea_dev_parses_completely(korea_dev):
    report = ReadReport()
    stories = list(read_stories(korea_dev, on_error=report, errors="report"))
    assert report.errors == []
    assert (report.files, report.stories, len(stories)) == (225, 225, 225)
    with open(korea_dev / "labels.csv", newline="", encoding="utf-8") as fh:
        gold = {row["id"] for row in csv.DictReader(fh)}
    ids = [s.id for s in stories]
    assert len(set(ids)) == len(ids) and set(ids) == gold
    leftover = re.compile(r"^\(END\)$|^[A-Z][A-Za-z .,/]+, \w+\.? \d{1,2}(, \d{4})? \(Yonhap\) --")
    for s in stories:
        assert s.date is not None and s.headline and s.paragraphs, s.id
        assert not any(leftover.search(p) for p in s.paragraphs), s.id
        assert s.byline is None or re.fullmatch(r"[\w.+-]+@[\w.-]+", s.byline), s.id
        assert not re.match(r"\((LEAD|\d+\w\w LD|URGENT)\)", s.headline), s.id


def test_korea_dev_first_lines_match_the_raw_files(korea_dev):
    for s in read_stories(korea_dev):
        raw = (korea_dev / f"{s.id}.txt").read_text(encoding="utf-8").splitlines()
        first = raw[1].strip()
        if s.dateline is None:
            assert " ".join(first.split()) == s.lead, s.id
        else:
            assert first.startswith(s.dateline.text) and first.endswith(s.lead), s.id
        assert len(s.paragraphs) + (s.byline is not None) == len([ln for ln in raw[1:] if ln.strip()]) - 1, s.id


def test_korea_dev_dateline_variants(korea_dev):
    by_id = {s.id: s for s in read_stories(korea_dev)}
    muan = [s for s in by_id.values() if s.dateline and s.dateline.place.startswith("MUAN")]
    assert [s.dateline.place for s in muan] == ["MUAN, South Korea"]
    xinhua = [s for s in by_id.values() if s.dateline and s.dateline.agency == "Xinhua"]
    assert [(s.dateline.place, s.dateline.when) for s in xinhua] == [("TOKYO", "Jan. 6, 2026")]
    places = {s.dateline.place for s in by_id.values() if s.dateline}
    assert places <= {"SEOUL", "SEJONG", "MUAN, South Korea", "TOKYO", ""}


def test_a_jsonl_line_exactly_at_the_cap_is_read_and_numbered(tmp_path):
    import json

    from nlp_wire.reader import capped_lines

    first = (json.dumps({"headline": "A", "body": "x" * 40}) + "\n").encode()
    src = tmp_path / "r.jsonl"
    src.write_bytes(first + b'{"headline": "B"}\n')
    with open(src, "rb") as fh:
        lines = list(capped_lines(fh, len(first) - 1))  # the first line's text is exactly max_bytes, then "\n"
    assert [(n, raw is not None) for n, raw in lines] == [(1, True), (2, True)]
    with open(src, "rb") as fh:
        assert [raw for _, raw in capped_lines(fh, len(first) - 2)][0] is None  # one over: refused, the next read
