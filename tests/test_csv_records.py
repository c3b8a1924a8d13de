"""CSV records: a field over the reader's byte cap and an unterminated quote are bad rows, named by file and
line and reported like bad JSONL lines; the rows around them are kept."""

from __future__ import annotations

import csv
import json

import pytest

from nlp_wire import WireFormatError
from nlp_wire.cli.main import main
from nlp_wire.dataset import load_examples
from nlp_wire.reader import iter_records

HEADER = "id,headline,body,label\n"
# Invented rows.
ROW1 = "r1,Police arrest two fraud suspects,Officers acted.,crime\n"
ROW3 = "r3,Bread prices hold steady,Prices held.,other\n"


def _write(tmp_path, text: str, name: str = "train.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def _records(path, **kwargs):
    errors = []
    rows = [(line, row["id"]) for line, row in iter_records(path, errors.append, **kwargs)]
    return rows, [str(e) for e in errors]


def test_a_field_over_128_kb_is_read_under_the_default_cap(tmp_path):
    assert csv.field_size_limit() == 131072
    body = "word " * 60_000  # 300 KB: over csv's own field limit, under the reader's 10 MB cap
    path = _write(tmp_path, HEADER + ROW1 + f"r2,Long story,{body},other\n" + ROW3)
    rows, errors = _records(path)
    assert rows == [(2, "r1"), (3, "r2"), (4, "r3")] and errors == []
    assert csv.field_size_limit() == 131072  # the process-wide limit is left as it was
    assert [r["id"] for r in load_examples(path)] == ["r1", "r2", "r3"]
    upper = _write(tmp_path, HEADER + ROW1 + ROW3, "TRAIN.CSV")  # the suffix in any case
    assert [r["id"] for r in load_examples(upper)] == ["r1", "r3"]


def test_a_field_over_the_cap_is_one_named_bad_row(tmp_path):
    path = _write(tmp_path, HEADER + ROW1 + 'r2,Long story,"' + "x" * 300 + '\nmore",other\n' + ROW3)
    rows, errors = _records(path, max_bytes=200)
    assert rows == [(2, "r1"), (5, "r3")]
    assert errors == [f"{path}:3: field 'body' over the cap of 200 bytes"]
    # multi-byte characters count in UTF-8 bytes: 100 characters of 3 bytes are over 200 bytes
    path = _write(tmp_path, HEADER + ROW1 + "r2,Long story," + "\u00e9\u4e00" * 50 + ",other\n" + ROW3)
    assert _records(path, max_bytes=200) == ([(2, "r1"), (4, "r3")],
                                             [f"{path}:3: field 'body' over the cap of 200 bytes"])
    assert _records(path, max_bytes=None)[0] == [(2, "r1"), (3, "r2"), (4, "r3")]


def test_an_unterminated_quote_is_named_at_the_line_it_opened(tmp_path):
    text = HEADER + ROW1 + 'r2,Headline,"A body whose quote ""never"" closes,\nother\n' + ROW3
    path = _write(tmp_path, text)
    rows, errors = _records(path)
    assert rows == [(2, "r1")]  # r3 is inside the runaway field: it is not silently dropped any more
    assert errors == [f"{path}:3: unterminated quoted field: its closing quote is missing, so it runs to the "
                      "end of the file"]
    with pytest.raises(WireFormatError, match="unterminated quoted field") as info:
        list(iter_records(path))
    assert str(info.value).startswith(f"{path}:3: ")
    # the quote opening on a later line of a multi-line row, with CRLF line ends and no final newline
    path = _write(tmp_path, HEADER.replace("\n", "\r\n") + 'r1,"Two\r\nlines",ok,crime\r\nr2,x,"""y\r\nz', "crlf.csv")
    assert _records(path) == ([(3, "r1")], [f"{path}:4: unterminated quoted field: its closing quote is missing, "
                                            "so it runs to the end of the file"])


def test_well_formed_files_read_as_before(tmp_path):
    text = HEADER + 'r1,Headline,"Quoted, with ""quotes""\nand two lines",crime\n\n' + ROW3.rstrip("\n")
    path = _write(tmp_path, text)
    assert _records(path) == ([(3, "r1"), (5, "r3")], [])
    with open(path, newline="", encoding="utf-8") as fh:
        expected = list(csv.DictReader(fh))
    assert [row for _, row in iter_records(path)] == expected
    path = _write(tmp_path, "id,body\nr1,a,\nr2,b\n", "trailing.csv")  # a trailing comma adds an empty field
    assert [row for _, row in iter_records(path)] == [{"id": "r1", "body": "a"}, {"id": "r2", "body": "b"}]
    assert list(iter_records(_write(tmp_path, "", "empty.csv"))) == []
    # a quote inside an unquoted field is a plain character, not an opening quote
    path = _write(tmp_path, HEADER + 'r1,He said "hi,fine,crime\n' + ROW3, "inner.csv")
    assert _records(path) == ([(2, "r1"), (3, "r3")], [])


def test_load_examples_reports_the_bad_rows_and_keeps_the_others(tmp_path, caplog):
    body = "word " * 60_000  # over csv's own 128 KB field limit: it raised a raw _csv.Error
    path = _write(tmp_path, HEADER + ROW1 + f"r2,Long,{body},other\n" + ROW3 + 'r4,Open,"quote,crime\n' + ROW1)
    caplog.set_level("WARNING")
    assert [r["id"] for r in load_examples(path)] == ["r1", "r2", "r3"]
    assert f"{path}:5: unterminated quoted field" in caplog.text
    with pytest.raises(WireFormatError, match=f"{path}:5: unterminated quoted field"):
        load_examples(path, errors="raise")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_classify_and_label_read_a_csv_of_records(tmp_path, capsys, workers):
    # the CLI's --text-field help promises CSV records: classify and label read them as records, not as wire text
    path = _write(tmp_path, HEADER + ROW1 + "r2,Envoys meet in Geneva,Diplomats agreed to meet again.,diplomacy\n"
                  + ROW3, "DATA.CSV")
    assert main(["classify", "baseline", str(path), "--workers", workers]) == 0
    captured = capsys.readouterr()
    assert [json.loads(line)["id"] for line in captured.out.splitlines()] == ["r1", "r2", "r3"]
    assert "classified 3 stories; 0 bad inputs skipped" in captured.err
    out = tmp_path / "labels.out.csv"
    assert main(["label", str(path), "--out", str(out)]) == 0
    assert [row["id"] for row in csv.DictReader(out.open(encoding="utf-8"))] == ["r1", "r2", "r3"]


def test_summarize_refuses_a_csv_in_one_line(tmp_path, capsys):
    path = _write(tmp_path, HEADER + ROW1)
    assert main(["summarize", str(path), "--out", str(tmp_path / "s.jsonl")]) == 2
    assert capsys.readouterr().err == (f"nlp-wire summarize: error: {path}: summarize reads wire files and JSONL "
                                       "records, not CSV\n")


def test_a_row_with_more_fields_than_the_header_is_a_bad_row(tmp_path):
    """An unquoted comma in a body cut the text after it silently (csv.DictReader files it under None): it is now a
    bad row named by its line, and the others are read. A short row keeps DictReader's None (a missing optional
    field), and a header ending in a comma is a header of its named fields."""
    path = _write(tmp_path, "id,headline,body\nr1,Police arrest suspect,Police arrested a suspect.\n"
                            "r2,Too,many,fields,here\nr3,Short\nr4,Band tour,The band starts a tour.\n", "ragged.csv")
    assert _records(path) == ([(2, "r1"), (4, "r3"), (5, "r4")],
                              [f"{path}:3: 5 fields where the header has 3 (a field with a comma must be quoted)"])
    path = _write(tmp_path, "id,headline,body,\nr1,Rain,Rain fell.,\nr2,Snow,Snow fell.\n", "trailing_header.csv")
    assert [row for _, row in iter_records(path)] == [{"id": "r1", "headline": "Rain", "body": "Rain fell."},
                                                      {"id": "r2", "headline": "Snow", "body": "Snow fell."}]


@pytest.mark.parametrize("sep", [";", "\t"])
def test_a_csv_with_another_separator_is_named_as_such(tmp_path, sep):
    path = _write(tmp_path, sep.join(["id", "headline", "body", "label"]) + "\n"
                  + sep.join(["r1", "Harbor cranes repainted", "Crews repainted the cranes.", "other"]) + "\n")
    rows, errors = _records(path)  # it gave the row, read as one field; load_examples said "no label"
    assert rows == [] and len(errors) == 1
    assert "train.csv:1: the header is one field" in errors[0]
    assert f"a {sep!r}-separated file?" in errors[0]


def test_a_one_column_csv_is_still_read(tmp_path):
    path = _write(tmp_path, "body\nCrews repainted the harbor cranes; work ended on Friday.\n")
    assert [row["body"] for _, row in iter_records(path, None)] == [
        "Crews repainted the harbor cranes; work ended on Friday."]
