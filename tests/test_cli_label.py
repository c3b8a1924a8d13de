"""``nlp-wire label``: writes labels.csv with a confidence column; user errors are one line, never a traceback."""

from __future__ import annotations

import csv
import io

import pytest

from nlp_wire.cli.main import main
from nlp_wire.dataset import read_labels_file

# -- tiny invented corpus -------------------------------------------------------------------------
CRIME = " date 2024-03-04 Police arrest two fraud suspects\nSEOUL, March 4 (Yonhap) -- Officers detained the pair.\n(END)\n"
COVID = " date 2024-03-04 New COVID-19 cases fall\nSEOUL, March 4 (Yonhap) -- Health officials urged distancing.\n(END)\n"
OTHER = " date 2024-03-04 Bread prices hold steady\nBakers kept prices flat.\n(END)\n"
TORN = " date 2024-03-04 Police check virus rules\nNo further details.\n(END)\n"  # close scores: abstain


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch):
    # main() sets these with setdefault; keep them from leaking into other tests.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def run(capsys):
    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["label", *map(str, argv)])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def assert_one_line_error(err: str, *needles: str) -> None:
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("nlp-wire label: ")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture
def stories(make_folder):
    return make_folder({"a-crime.txt": CRIME, "b-covid.txt": COVID, "c-other.txt": OTHER, "d-torn.txt": TORN})


def read_rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_label_writes_labels_csv_with_confidence(run, stories):
    code, out, err = run(stories)
    assert code == 0 and "Traceback" not in err
    assert "labeled 4 stories" in err and "wrote" in err
    rows = read_rows(stories / "labels.csv")
    assert list(rows[0]) == ["id", "label", "confidence"]
    assert [(r["id"], r["label"]) for r in rows] == [
        ("a-crime", "crime"), ("b-covid", "covid"), ("c-other", "other"), ("d-torn", "")]
    assert all(0.0 <= float(r["confidence"]) <= 1.0 for r in rows)
    assert float(rows[3]["confidence"]) == 0.0
    # The file reads back as labels; the abstention is left out.
    assert read_labels_file(stories / "labels.csv") == {"a-crime": "crime", "b-covid": "covid", "c-other": "other"}


def test_existing_labels_are_kept_unless_forced(run, stories):
    (stories / "labels.csv").write_text("id,label\na-crime,other\n", encoding="utf-8")
    code, _, err = run(stories)
    assert code == 2
    assert_one_line_error(err, "labels.csv exists", "--force")
    assert (stories / "labels.csv").read_text(encoding="utf-8") == "id,label\na-crime,other\n"
    assert run(stories, "--force")[0] == 0
    assert len(read_rows(stories / "labels.csv")) == 4


def test_out_to_stdout_and_elsewhere(run, stories, tmp_path):
    code, out, err = run(stories, "--out", "-")
    assert code == 0 and not (stories / "labels.csv").exists() and err.rstrip().endswith("wrote them to standard output")
    assert [r["label"] for r in csv.DictReader(io.StringIO(out))] == ["crime", "covid", "other", ""]
    target = tmp_path / "deep" / "weak.csv"
    assert run(stories, "--out", target)[0] == 0 and len(read_rows(target)) == 4


def test_a_single_file(run, stories):
    code, _, _ = run(stories / "b-covid.txt")
    assert code == 0
    assert [(r["id"], r["label"]) for r in read_rows(stories / "labels.csv")] == [("b-covid", "covid")]


def test_missing_path(run, tmp_path):
    code, _, err = run(tmp_path / "nowhere")
    assert code == 2
    assert_one_line_error(err, "nowhere", "no such file")


def test_a_binary_file(run, make_folder):
    folder = make_folder({"photo.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"})
    code, _, err = run(folder / "photo.txt")
    assert code == 2
    assert_one_line_error(err, "photo.txt:3", "binary")
    assert not (folder / "labels.csv").exists()


def test_an_empty_folder(run, tmp_path):
    code, _, err = run(tmp_path)
    assert code == 2
    assert_one_line_error(err, "no readable stories")


def test_one_bad_file_among_good_ones(run, make_folder, caplog):
    folder = make_folder({"a-crime.txt": CRIME, "b-bad.txt": "Minutes of the harbor board\n", "c-other.txt": OTHER})
    code, _, err = run(folder)
    assert code == 0 and "Traceback" not in err
    assert "1 bad input skipped" in err
    assert f"{folder / 'b-bad.txt'}:1" in caplog.text + err
    assert [r["id"] for r in read_rows(folder / "labels.csv")] == ["a-crime", "c-other"]


@pytest.mark.parametrize("rules, needle", [("missing.yaml", "missing.yaml"), ("bad.yaml", "bad.yaml:3")])
def test_bad_rules_file(run, stories, tmp_path, rules, needle):
    (tmp_path / "bad.yaml").write_text("topics:\n  crime: {words: {police: 2}\n", encoding="utf-8")
    code, _, err = run(stories, "--rules", tmp_path / rules)
    assert code == 2
    assert_one_line_error(err, needle)


def test_out_is_a_folder(run, stories, tmp_path):
    code, _, err = run(stories, "--out", tmp_path, "--force")
    assert code == 2
    assert_one_line_error(err, str(tmp_path), "folder")


def test_force_never_replaces_an_input_or_a_whole_folders_labels_from_one_file(run, stories):
    """--force replaces a labels file; it wrote labels over an input story, and from one story of a folder it
    replaced that folder's whole labels.csv with a single row."""
    (stories / "labels.csv").write_text("id,label\na-crime,crime\nb-covid,covid\n", encoding="utf-8")
    code, _, err = run(stories, "--force", "--out", stories / "a-crime.txt")
    assert code == 2 and (stories / "a-crime.txt").read_text(encoding="utf-8") == CRIME
    assert_one_line_error(err, "a-crime.txt", ".csv")
    code, _, err = run(stories / "b-covid.txt", "--force")
    assert code == 2
    assert_one_line_error(err, "labels of the whole folder", "--out")
    assert len(read_rows(stories / "labels.csv")) == 2
    assert run(stories / "b-covid.txt", "--force", "--out", stories / "one.csv")[0] == 0  # elsewhere: fine


def test_an_id_shared_by_two_stories_is_named_and_never_given_two_labels(run, make_folder, caplog):
    """Same-named files in two folders share an id: label wrote both rows, and train then refused the file our
    own command wrote, blaming its line 3."""
    folder = make_folder({"s1/a.txt": CRIME, "s2/a.txt": COVID, "c-other.txt": OTHER})
    code, _, err = run(folder)
    assert code == 2 and not (folder / "labels.csv").exists()
    assert_one_line_error(err, "1 story id shared", "s1/a.txt:1", "s2/a.txt:1", "different names")
    same = make_folder({"s1/a.txt": CRIME, "s2/a.txt": CRIME, "c-other.txt": OTHER}, "same")
    caplog.set_level("WARNING")
    assert run(same)[0] == 0  # one label for both: written, and the shared id named
    assert "1 story id shared" in caplog.text and sorted(r["id"] for r in read_rows(same / "labels.csv")) == ["a", "a", "c-other"]
    assert read_labels_file(same / "labels.csv")["a"] == "crime"
