"""--text-field / --headline-field: records whose text sits in another field (``article``, ``title``).

Every record here is invented for these tests.
"""

from __future__ import annotations

import csv
import json

import pytest

from nlp_wire.classify.files import classify_files
from nlp_wire.cli.main import main
from nlp_wire.dataset import load_examples
from nlp_wire.reader import ReadReport, read_stories
from nlp_wire.story import Story, WireFormatError
from nlp_wire.summarize.batch import summarize_folder

ARTICLES = [
    {"id": "a1", "title": "Harbor bridge reopens", "article": "The harbor bridge reopened on Tuesday. Traffic was light. "
     "Engineers said repairs went well.", "label": "other"},
    {"id": "a2", "title": "Police detain three in theft case", "article": "Police detained three men on Monday. They are "
     "suspected of stealing copper cable. A court will decide on arrest warrants.", "label": "crime"},
    {"id": "a3", "title": "Talks resume in Geneva", "article": "Envoys of both countries met in Geneva. They agreed to meet "
     "again next month.", "label": "diplomacy"},
]


@pytest.fixture
def articles(tmp_path):
    """A JSONL of three records with ``article`` and ``title``, a fourth (line 4) without ``article``."""
    path = tmp_path / "news.jsonl"
    rows = [*ARTICLES, {"id": "a4", "title": "No text here", "label": "other"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_from_record_reads_the_named_fields():
    story = Story.from_record(ARTICLES[1], text_field="article", headline_field="title")
    assert story.headline == "Police detain three in theft case"
    assert story.paragraphs[0].startswith("Police detained three men")
    # without a headline field the headline is simply empty: the text alone is a story
    assert Story.from_record({"article": "Only text."}, text_field="article").headline == ""


def test_from_record_defaults_are_unchanged():
    assert Story.from_record({"headline": "H", "body": "B."}).body == "B."
    assert Story.from_record({"headline": "H", "text": "T."}).body == "T."
    with pytest.raises(WireFormatError, match="neither 'headline' nor 'body'"):
        Story.from_record({"article": "x"}, path="f.jsonl", line=3)


def test_from_record_names_a_missing_or_bad_field():
    with pytest.raises(WireFormatError) as info:
        Story.from_record({"body": "x"}, path="f.jsonl", line=7, text_field="article")
    assert str(info.value) == "f.jsonl:7: no field 'article'"
    with pytest.raises(WireFormatError, match="f.jsonl:2: no field 'title'"):
        Story.from_record({"article": "x"}, path="f.jsonl", line=2, text_field="article", headline_field="title")
    with pytest.raises(WireFormatError, match="field 'article' must be a string, not list"):
        Story.from_record({"article": ["x"]}, text_field="article")
    with pytest.raises(WireFormatError, match="neither 'title' nor 'article'"):
        Story.from_record({"article": None, "title": None}, text_field="article", headline_field="title")


def test_read_stories_with_fields_names_the_bad_line(articles):
    report = ReadReport()
    stories = list(read_stories(articles, on_error=report, warn=False, text_field="article", headline_field="title"))
    assert [s.id for s in stories] == ["a1", "a2", "a3"]
    assert stories[2].headline == "Talks resume in Geneva"
    assert [str(e) for e in report.errors] == [f"{articles}:4: no field 'article'"]
    # today's behaviour without the fields: every record fails, none crashes
    report = ReadReport()
    assert list(read_stories(articles, on_error=report, warn=False)) == []
    assert len(report.errors) == 4 and "neither 'headline' nor 'body'" in str(report.errors[0])


def test_load_examples_with_fields_jsonl_and_csv(articles, tmp_path):
    ds = load_examples(articles, text_field="article", headline_field="title", drop_duplicates=False)
    assert ds["id"] == ["a1", "a2", "a3"]
    assert "copper cable" in ds["text"][1] and ds["headline"][2] == "Talks resume in Geneva"
    path = tmp_path / "news.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, ["id", "title", "article", "label"])
        w.writeheader()
        w.writerows(ARTICLES)
    ds = load_examples(path, text_field="article", headline_field="title", drop_duplicates=False)
    assert ds["headline"] == [r["title"] for r in ARTICLES]
    with pytest.raises(WireFormatError, match=r"news.csv:2: no field 'story'"):
        load_examples(path, text_field="story", errors="raise")


@pytest.mark.parametrize("workers", [1, 2])
def test_summarize_folder_with_fields(articles, tmp_path, workers):
    out = tmp_path / f"sums{workers}.jsonl"
    report = summarize_folder(articles, out, sentences=1, workers=workers, progress=False,
                              text_field="article", headline_field="title")
    assert (report.done, report.failed) == (3, 1)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["headline"], r["summary"]) for r in rows][0] == (
        "a1", "Harbor bridge reopens", "The harbor bridge reopened on Tuesday.")
    errors = [json.loads(line) for line in open(report.errors_path, encoding="utf-8")]
    assert errors == [{"path": str(articles), "line": 4, "reason": "no field 'article'"}]


def test_summarize_resume_refuses_other_fields(articles, tmp_path):
    out = tmp_path / "sums.jsonl"
    journal = tmp_path / ".sums.jsonl.journal"
    params = {"src": str(articles), "fmt": "jsonl", "method": "lead", "sentences": 3, "max_words": None,
              "text_field": "body", "headline_field": None}
    journal.write_text(json.dumps({"version": 1, "params": params}) + "\n")
    with pytest.raises(ValueError, match=r"other settings \(text_field "):
        summarize_folder(articles, out, workers=1, progress=False, resume=True, text_field="article")


def test_classify_files_with_fields(articles):
    report = ReadReport()
    lines = list(classify_files({"path": "baseline"}, [articles], workers=1, report=report, warn=False,
                                text_field="article", headline_field="title"))
    assert [json.loads(line)["id"] for line in lines] == ["a1", "a2", "a3"]
    assert [str(e) for e in report.errors] == [f"{articles}:4: no field 'article'"]


def test_cli_summarize_and_classify_with_fields(articles, tmp_path, capsys):
    out = tmp_path / "o.jsonl"
    assert main(["summarize", str(articles), "--text-field", "article", "--out", str(out), "--no-progress",
                 "--workers", "1"]) == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a1", "a2", "a3"]
    assert "done 3, skipped 0 (no prose), failed 1" in capsys.readouterr().err
    assert main(["classify", "baseline", str(articles), "--text-field", "article", "--headline-field", "title"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 3
    assert f"skipped: {articles}:4: no field 'article'" in captured.err
    assert main(["label", str(articles), "--text-field", "article", "--out", str(tmp_path / "l.csv")]) == 0
    assert (tmp_path / "l.csv").read_text().count("\n") == 4  # header and three stories
    capsys.readouterr()
    assert main(["summarize", str(articles), "--text-field", " ", "--out", str(out)]) == 2
    assert "--text-field needs a field name" in capsys.readouterr().err


def test_field_names_given_for_wire_folders_only_are_said_to_do_nothing(articles, tmp_path, capsys):
    wire = tmp_path / "wire"
    wire.mkdir()
    (wire / "a.txt").write_text(" date 2021-06-01 Harbor cranes repainted\nBUSAN, June 1 (Hanwire) -- Crews repainted "
                                "the harbor cranes on Tuesday.\n(END)\n", encoding="utf-8")
    assert main(["classify", "baseline", str(wire), "--text-field", "article"]) == 0
    err = capsys.readouterr().err
    assert "warning: --text-field names a field of JSONL/CSV records, and no input is a record file" in err
    assert main(["label", str(wire), "--headline-field", "title", "--text-field", "x", "--out", str(tmp_path / "l.csv")]) == 0
    assert "warning: --text-field and --headline-field name a field" in capsys.readouterr().err
    assert main(["classify", "baseline", str(wire), str(articles), "--text-field", "article"]) == 0
    assert "warning" not in capsys.readouterr().err  # a record file among the inputs: the name is used
    # train's --data is repeatable (a list) and takes PATH@WEIGHT; evaluate's takes PATH::LABELS
    main(["train", "baseline", "--data", f"{articles}@2", "--text-field", "article", "--out", str(tmp_path / "run")])
    assert "no input is a record file" not in capsys.readouterr().err  # it said so, then trained with the field
    (wire / "labels.csv").write_text("id,label\na,other\n", encoding="utf-8")
    main(["train", "baseline", "--data", str(wire), "--text-field", "article", "--out", str(tmp_path / "run2")])
    assert "warning: --text-field names a field of JSONL/CSV records" in capsys.readouterr().err
    main(["evaluate", "baseline", "--data", f"{articles}::{tmp_path / 'labels.csv'}", "--text-field", "article"])
    assert "no input is a record file" not in capsys.readouterr().err
    main(["evaluate", "baseline", "--data", str(wire), "--text-field", "article"])
    assert "warning: --text-field names a field of JSONL/CSV records" in capsys.readouterr().err


def test_cli_evaluate_with_fields(articles, capsys):
    assert main(["evaluate", "baseline", "--data", str(articles), "--text-field", "article",
                 "--headline-field", "title"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["n"] == 3


def test_cli_train_with_fields_records_them(articles, tmp_path):
    run = tmp_path / "run"
    assert main(["-q", "train", "baseline", "--data", str(articles), "--out", str(run), "--text-field", "article",
                 "--headline-field", "title", "--set", "baseline.min_df=1", "--set", "data.val_size=0.0"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train_examples"] == 3
    assert metrics["record_fields"] == {"text_field": "article", "headline_field": "title"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_jsonl_file_is_read_like_utf8(tmp_path, encoding):
    """Windows editors save "Unicode" text as UTF-16 with a BOM; split at its newline bytes it was all invalid JSON."""
    from nlp_wire.reader import iter_records

    records = [{"id": "r1", "headline": "Café opens", "body": "It opened."}, {"id": "r2", "headline": "Rain"}]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in records)
    data = text.encode("utf-16") if encoding == "utf-16" else b"\xfe\xff" + text.encode("utf-16-be")
    (tmp_path / "r.jsonl").write_bytes(data)
    assert [r for _, r in iter_records(tmp_path / "r.jsonl")] == records
    assert [s.headline for s in read_stories(tmp_path / "r.jsonl")] == ["Café opens", "Rain"]
