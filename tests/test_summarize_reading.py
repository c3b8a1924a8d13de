"""summarize: a wire file over the cap is listed as failed with its size; paths not read are counted by reason."""

from __future__ import annotations

import json

from nlp_wire.cli.main import main
from nlp_wire.summarize.batch import summarize_folder


def story(headline: str, body: str = "The ferry left on time. Crews cheered.") -> str:
    return f" date 2024-03-02 {headline}\nMOKPO, March 2 (Yonhap) -- {body}\n(END)\n"


def test_big_file_fails_with_its_size_and_skips_are_counted(make_folder, tmp_path):
    big = story("Long", "A long sentence of the story. " * 50)
    src = make_folder({"a.txt": story("Ferry leaves"), "big.txt": big, ".hidden.txt": story("Hidden"),
                       "notes.md": "notes"})
    out = tmp_path / "sums.jsonl"
    report = summarize_folder(src, out, workers=1, progress=False, max_bytes=500)
    assert (report.done, report.failed) == (1, 1)
    assert report.not_read == {"hidden": 1, "not .txt": 1}
    assert "2 paths not read (1 hidden, 1 not .txt)" in report.line()
    (error,) = [json.loads(x) for x in open(report.errors_path)]
    assert error["path"] == str(src / "big.txt")
    assert error["reason"] == f"too large ({len(big.encode()):,} bytes; the cap is 500)"
    report = summarize_folder(src, tmp_path / "all.jsonl", workers=2, progress=False, max_bytes=None)
    assert (report.done, report.failed) == (2, 0)


def test_cli_max_bytes(make_folder, tmp_path, capsys):
    src = make_folder({"a.txt": story("Ferry leaves"), "big.txt": story("Long", "Words. " * 200)})
    assert main(["summarize", str(src), "--out", str(tmp_path / "s.jsonl"), "--max-bytes", "500",
                 "--no-progress", "--workers", "1"]) == 0
    err = capsys.readouterr().err
    assert "done 1, skipped 0 (no prose), failed 1" in err
    assert main(["summarize", str(src), "--out", str(tmp_path / "t.jsonl"), "--max-bytes", "0",
                 "--no-progress", "--workers", "1"]) == 0
    assert "done 2" in capsys.readouterr().err
