"""Folder runs: formats, bad files, interrupted runs and --resume, atomic output, path safety, the CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nlp_wire.cli.main import main as cli
from nlp_wire.summarize import batch
from nlp_wire.summarize.batch import errors_path_for, output_format, safe_name, summarize_folder

REPO = Path(__file__).resolve().parents[1]


def story(n: int, date: str = "2021-06-01") -> str:
    """An invented wire story numbered ``n``."""
    return (
        f" date {date} (LEAD) Town {n} opens a night market\n"
        f"GWANGJU, June 1 (Hanwire) -- Town {n} opened a night market on Tuesday, officials said.\n"
        f"The market has {n + 20} stalls selling street food. It runs until Oct. 3.\n"
        "reporter@hanwire.example\n(END)\n-\n1\nA related headline\n"
    )


@pytest.fixture
def src(tmp_path):
    """A folder with good stories (one in a subfolder, one file holding two), and bad files."""
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    for n in (1, 2, 3):
        (root / f"s{n}.txt").write_text(story(n), encoding="utf-8")
    (root / "sub" / "s4.txt").write_text(story(4), encoding="utf-8")
    (root / "two.txt").write_text(story(5) + story(6, "2021-06-02"), encoding="utf-8")
    (root / "bad_binary.txt").write_bytes(b" date 2021-01-01 x\n\x00\x01\x02")
    (root / "bad_empty.txt").write_text("", encoding="utf-8")
    (root / "bad_notastory.txt").write_text("just some notes\n", encoding="utf-8")
    (root / "no_prose.txt").write_text(" date 2021-06-03 Headline only\n(END)\n", encoding="utf-8")
    (root / "labels.csv").write_text("id,label\ns1,other\n", encoding="utf-8")  # not a story file
    return root


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


# -- formats and counts ------------------------------------------------------------------------
def test_jsonl_output_counts_and_errors(src, tmp_path):
    out = tmp_path / "sums.jsonl"
    report = summarize_folder(src, out, workers=1, progress=False)
    assert (report.done, report.skipped, report.failed) == (6, 1, 3)
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ["s1", "s2", "s3", "two", "two#2", "s4"]  # input order; no empty row
    assert set(rows[0]) == {"id", "path", "headline", "date", "summary", "sentences"}
    assert rows[0]["headline"] == "Town 1 opens a night market" and rows[0]["date"] == "2021-06-01"
    assert rows[0]["sentences"] == [
        "Town 1 opened a night market on Tuesday, officials said.",
        "The market has 21 stalls selling street food.",
        "It runs until Oct. 3.",
    ]
    assert rows[0]["summary"] == " ".join(rows[0]["sentences"])
    listed = read_jsonl(errors_path_for(out))
    errors = [e for e in listed if e["reason"] != batch.NO_PROSE]
    assert sorted(Path(e["path"]).name for e in errors) == ["bad_binary.txt", "bad_empty.txt", "bad_notastory.txt"]
    assert all(e["reason"] for e in errors)
    # the story with no prose is named, not written as an empty row
    assert [(e["id"], Path(e["path"]).name) for e in listed if e["reason"] == batch.NO_PROSE] == [("no_prose", "no_prose.txt")]
    assert report.errors_path == str(tmp_path / "sums.jsonl.errors.jsonl")
    assert "done 6, skipped 1 (no prose), failed 3" in report.line()


def test_csv_output(src, tmp_path):
    import csv

    out = tmp_path / "sums.csv"
    summarize_folder(src, out, workers=1, sentences=1, progress=False)
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert list(rows[0]) == batch.CSV_HEADER
    assert rows[0]["summary"] == "Town 1 opened a night market on Tuesday, officials said."


def test_txt_folder_output(src, tmp_path):
    out = tmp_path / "sums"
    report = summarize_folder(src, out, workers=1, progress=False)
    assert report.done == 6
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt"))
    assert files == sorted(["s1.txt", "s2.txt", "s3.txt", "sub/s4.txt", f"{safe_name('two#2')}.txt", "two.txt"])
    assert (out / "s1.txt").read_text(encoding="utf-8").splitlines()[0].startswith("Town 1 opened")
    assert (tmp_path / "sums.errors.jsonl").exists()
    # the output folder inside the input folder is never read back as input
    inner = src / "summaries"
    first = summarize_folder(src, inner, workers=1, progress=False)
    again = summarize_folder(src, inner, workers=1, progress=False)
    assert first.done == again.done == 6


def test_jsonl_input(tmp_path):
    src = tmp_path / "records.jsonl"
    lines = [
        json.dumps({"id": "r1", "headline": "Kite festival returns", "body": "Kites filled the sky on Sunday. Crowds cheered."}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"headline": "No id here", "date": "2021-07-01", "body": "Rain fell all day."}),
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    report = summarize_folder(src, out, workers=1, progress=False)
    assert (report.done, report.failed) == (2, 2)
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ["r1", "records:4"]
    assert rows[1]["date"] == "2021-07-01"
    errors = read_jsonl(errors_path_for(out))
    assert [e["line"] for e in errors] == [2, 3]


def test_multiprocess_equals_single_process_and_reruns_are_identical(src, tmp_path):
    one, two, again = tmp_path / "one.jsonl", tmp_path / "two.jsonl", tmp_path / "again.jsonl"
    summarize_folder(src, one, workers=1, progress=False)
    summarize_folder(src, two, workers=2, chunk_size=2, progress=False)
    summarize_folder(src, again, workers=2, chunk_size=3, progress=False)
    assert one.read_bytes() == two.read_bytes() == again.read_bytes()
    before = one.read_bytes()
    summarize_folder(src, one, workers=2, progress=False)  # rerun over an existing output
    assert one.read_bytes() == before


def test_no_errors_file_when_nothing_fails(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(story(1), encoding="utf-8")
    out = tmp_path / "o.jsonl"
    stale = errors_path_for(out)
    stale.write_text('{"path": "old"}\n', encoding="utf-8")
    report = summarize_folder(src, out, workers=1, progress=False)
    assert report.failed == 0 and report.errors_path is None
    assert not stale.exists()


# -- interrupted runs, --resume, atomic output -------------------------------------------------
def interrupt_after(monkeypatch, n_units):
    """Make the writer raise KeyboardInterrupt (as Ctrl-C would) when it reaches input ``n_units``."""
    real = batch._Writer.write

    def write(self, unit, result):
        if self.report.units >= n_units:
            raise KeyboardInterrupt
        real(self, unit, result)

    monkeypatch.setattr(batch._Writer, "write", write)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "txt"])
@pytest.mark.parametrize("workers,chunk", [(1, 1), (2, 3)])
def test_resume_after_interrupt_gives_the_uninterrupted_output(src, tmp_path, monkeypatch, fmt, workers, chunk):
    name = {"jsonl": "o.jsonl", "csv": "o.csv", "txt": "o"}[fmt]
    clean, out = tmp_path / "clean" / name, tmp_path / "resumed" / name
    summarize_folder(src, clean, workers=1, progress=False)
    with monkeypatch.context() as m:
        interrupt_after(m, 7)  # inside the third chunk of 3: two checkpoints behind it
        with pytest.raises(KeyboardInterrupt):
            summarize_folder(src, out, workers=workers, chunk_size=chunk, progress=False, checkpoint_every=0)
    if fmt != "txt":
        assert not out.exists()  # nothing half-written under the final name
    assert (out.parent / f".{name}.journal").exists()
    report = summarize_folder(src, out, workers=workers, chunk_size=chunk, progress=False, resume=True)
    assert report.resumed > 0
    assert (report.done, report.skipped, report.failed) == (6, 1, 3)
    if fmt == "txt":
        read = lambda root: {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.txt")}
        assert read(out) == read(clean)
    else:
        assert out.read_bytes() == clean.read_bytes()
    assert errors_path_for(out).read_bytes() == errors_path_for(clean).read_bytes()
    assert not (out.parent / f".{name}.journal").exists()
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".partial")]


def test_resume_drops_what_was_written_after_the_last_checkpoint(src, tmp_path, monkeypatch):
    clean, out = tmp_path / "clean.jsonl", tmp_path / "o.jsonl"
    summarize_folder(src, clean, workers=1, progress=False)
    with monkeypatch.context() as m:
        interrupt_after(m, 6)
        with pytest.raises(KeyboardInterrupt):  # checkpoints every 2 s: none after the start
            summarize_folder(src, out, workers=1, chunk_size=4, progress=False)
    partial = tmp_path / ".o.jsonl.partial"
    assert partial.exists()
    summarize_folder(src, out, workers=1, progress=False, resume=True)
    assert out.read_bytes() == clean.read_bytes()


def test_interrupted_run_keeps_the_previous_output(src, tmp_path, monkeypatch):
    out = tmp_path / "o.jsonl"
    summarize_folder(src, out, workers=1, sentences=1, progress=False)  # a previous complete output
    previous = out.read_bytes()
    with monkeypatch.context() as m:
        interrupt_after(m, 2)
        with pytest.raises(KeyboardInterrupt):
            summarize_folder(src, out, workers=1, progress=False)
    assert out.read_bytes() == previous


def test_a_fresh_run_discards_an_interrupted_one(src, tmp_path, monkeypatch):
    clean, out = tmp_path / "clean.jsonl", tmp_path / "o.jsonl"
    summarize_folder(src, clean, workers=1, progress=False)
    with monkeypatch.context() as m:
        interrupt_after(m, 3)
        with pytest.raises(KeyboardInterrupt):
            summarize_folder(src, out, workers=1, progress=False, checkpoint_every=0)
    summarize_folder(src, out, workers=1, progress=False)  # no --resume: start over
    assert out.read_bytes() == clean.read_bytes()


def test_resume_refuses_other_settings_or_changed_input(src, tmp_path, monkeypatch):
    out = tmp_path / "o.jsonl"
    with monkeypatch.context() as m:
        interrupt_after(m, 4)
        with pytest.raises(KeyboardInterrupt):
            summarize_folder(src, out, workers=1, chunk_size=1, progress=False, checkpoint_every=0)
    with pytest.raises(ValueError, match="other settings"):
        summarize_folder(src, out, sentences=2, workers=1, progress=False, resume=True)
    (src / "bad_binary.txt").unlink()  # an input before the resume point disappears
    with pytest.raises(ValueError, match="input changed"):
        summarize_folder(src, out, workers=1, progress=False, resume=True)


def interrupted_run(src, out, monkeypatch, n_units=7):
    """An interrupted run on ``out`` that finished the first ``n_units`` inputs (s1..s3 among them)."""
    with monkeypatch.context() as m:
        interrupt_after(m, n_units)
        with pytest.raises(KeyboardInterrupt):
            summarize_folder(src, out, workers=1, chunk_size=1, progress=False, checkpoint_every=0)


def test_resume_names_an_input_edited_after_it_was_summarized(src, tmp_path, monkeypatch):
    out = tmp_path / "o.jsonl"
    interrupted_run(src, out, monkeypatch)
    (src / "s2.txt").write_text(story(2).replace("night market", "flower show"), encoding="utf-8")  # a correction
    with pytest.raises(ValueError, match=r"cannot resume: .*s2\.txt was edited after the interrupted run"):
        summarize_folder(src, out, workers=1, progress=False, resume=True)
    assert not out.exists()  # the old summary was not kept under the edited file's name
    report = summarize_folder(src, out, workers=1, progress=False)  # without --resume: starts over
    assert report.resumed == 0
    assert "flower show" in read_jsonl(out)[1]["summary"]


def test_resume_refuses_an_input_edited_after_its_read_while_its_result_waited(src, tmp_path, monkeypatch):
    """The stamp was taken when the result was written, which can be seconds after the read: an edit in between
    was taken for the file the summary came from."""
    out = tmp_path / "o.jsonl"
    real = batch._process_chunk

    def read_then_edit(chunk):
        results = real(chunk)
        if chunk[0][1].endswith("s1.txt"):  # a correction saved just after the worker read the file
            (src / "s1.txt").write_text(story(1).replace("night market", "flower show"), encoding="utf-8")
        return results

    with monkeypatch.context() as m:
        m.setattr(batch, "_process_chunk", read_then_edit)
        interrupted_run(src, out, m)
    with pytest.raises(ValueError, match="was edited"):
        summarize_folder(src, out, workers=1, progress=False, resume=True)


def test_ctrl_c_while_resume_skips_says_how_to_go_on_and_keeps_the_journal(src, tmp_path, monkeypatch):
    clean, out = tmp_path / "clean.jsonl", tmp_path / "o.jsonl"
    interrupted_run(src, out, monkeypatch)
    real, calls = batch._unit_stamp, []

    def stamp(unit):
        calls.append(unit)
        if len(calls) == 3:  # the third input the resume skips
            raise KeyboardInterrupt
        return real(unit)

    with monkeypatch.context() as m:
        m.setattr(batch, "_unit_stamp", stamp)
        with pytest.raises(KeyboardInterrupt, match="stories written so far; rerun with --resume to finish"):
            summarize_folder(src, out, workers=1, progress=False, resume=True)
    report = summarize_folder(src, out, workers=1, progress=False, resume=True)  # the checkpoint still holds
    assert report.resumed > 0
    summarize_folder(src, clean, workers=1, progress=False)
    assert out.read_bytes() == clean.read_bytes()


def test_ctrl_c_stops_a_long_skip_within_a_thousand_inputs(tmp_path, monkeypatch):
    import signal

    src = tmp_path / "records.jsonl"
    src.write_text("".join(json.dumps({"id": f"r{i}", "headline": f"Town {i} fair", "body": f"Town {i} held a fair."})
                           + "\n" for i in range(2500)), encoding="utf-8")
    clean, out = tmp_path / "clean.jsonl", tmp_path / "o.jsonl"
    interrupted_run(src, out, monkeypatch, n_units=2100)
    real, calls = batch._unit_stamp, []

    def stamp(unit):
        calls.append(unit)
        if len(calls) == 1500:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: the deferred handler only raises the flag
        return real(unit)

    with monkeypatch.context() as m:
        m.setattr(batch, "_unit_stamp", stamp)
        with pytest.raises(KeyboardInterrupt, match="rerun with --resume to finish"):
            summarize_folder(src, out, workers=1, progress=False, resume=True)
    assert len(calls) == 2000  # the skip looked at the flag after its 2,000th input, not after all 2,100
    assert summarize_folder(src, out, workers=1, progress=False, resume=True).resumed == 2100
    summarize_folder(src, clean, workers=1, progress=False)
    assert out.read_bytes() == clean.read_bytes()


def test_resume_refuses_an_input_replaced_by_an_older_file(src, tmp_path, monkeypatch):
    out = tmp_path / "o.jsonl"
    interrupted_run(src, out, monkeypatch)
    old = os.stat(src / "s1.txt")
    (src / "s1.txt").write_text(story(9), encoding="utf-8")  # as `cp -p` or an archive restore: an older mtime
    os.utime(src / "s1.txt", ns=(old.st_atime_ns, old.st_mtime_ns - 10**9))
    with pytest.raises(ValueError, match="an input it had finished was edited or replaced"):
        summarize_folder(src, out, workers=1, progress=False, resume=True)


def test_resume_refuses_an_edited_jsonl_line(tmp_path, monkeypatch):
    src = tmp_path / "records.jsonl"
    lines = [json.dumps({"id": f"r{n}", "headline": f"Town {n} fair", "text": f"Town {n} held a fair. It was busy."})
             for n in range(6)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "o.jsonl"
    interrupted_run(src, out, monkeypatch, n_units=4)
    lines[1] = lines[1].replace("busy", "quiet")  # same length, same line count
    stat = os.stat(src)
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.utime(src, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with the file's mtime kept
    with pytest.raises(ValueError, match="an input it had finished was edited or replaced"):
        summarize_folder(src, out, workers=1, progress=False, resume=True)


def test_resume_goes_on_past_an_input_edited_before_it_was_reached(src, tmp_path, monkeypatch):
    clean, out = tmp_path / "clean.jsonl", tmp_path / "o.jsonl"
    interrupted_run(src, out, monkeypatch)
    (src / "sub" / "s4.txt").write_text(story(4).replace("night market", "flower show"), encoding="utf-8")
    report = summarize_folder(src, out, workers=1, progress=False, resume=True)
    assert report.resumed > 0
    summarize_folder(src, clean, workers=1, progress=False)
    assert out.read_bytes() == clean.read_bytes()


def test_a_journal_without_digests_still_resumes(src, tmp_path, monkeypatch):
    """A journal written before checkpoints kept the inputs' digest (an upgrade mid-run) resumes as before."""
    clean, out = tmp_path / "clean.jsonl", tmp_path / "o.jsonl"
    interrupted_run(src, out, monkeypatch)
    journal = tmp_path / ".o.jsonl.journal"
    entries = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    assert all("digest" in e for e in entries[1:])
    journal.write_text("".join(json.dumps({k: v for k, v in e.items() if k not in ("digest", "time")}) + "\n"
                               for e in entries), encoding="utf-8")
    report = summarize_folder(src, out, workers=1, progress=False, resume=True)
    assert report.resumed > 0
    summarize_folder(src, clean, workers=1, progress=False)
    assert out.read_bytes() == clean.read_bytes()


def test_resume_with_nothing_to_resume_runs_from_scratch(src, tmp_path):
    out = tmp_path / "o.jsonl"
    report = summarize_folder(src, out, workers=1, progress=False, resume=True)
    assert report.done == 6 and report.resumed == 0


# -- path safety -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../../evil", "..", ".hidden", "a/b", "a\\b", "x\x00y", "", "ok-name_1.2"])
def test_safe_names_stay_in_one_folder(name):
    cleaned = safe_name(name)
    assert cleaned and "/" not in cleaned and "\\" not in cleaned and not cleaned.startswith(".")
    assert cleaned not in (".", "..")
    assert (cleaned == name) == (name == "ok-name_1.2")


def test_odd_ids_never_escape_out(tmp_path):
    src = tmp_path / "records.jsonl"
    ids = ["../../escaped", "/etc/passwd", ".bashrc", "a/../../b", "same", "same", "ünïcode id"]
    src.write_text(
        "".join(json.dumps({"id": i, "headline": "H", "body": f"Story {k} is here."}) + "\n" for k, i in enumerate(ids)),
        encoding="utf-8",
    )
    out = tmp_path / "deep" / "out"
    report = summarize_folder(src, out, workers=1, progress=False)
    assert report.done == len(ids)
    written = [p for p in tmp_path.rglob("*.txt")]
    assert len(written) == len(ids)  # the repeated id got its own file
    assert all(out.resolve() in p.resolve().parents for p in written)
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "b.txt").exists()


def test_symlink_inside_out_is_not_followed(src, tmp_path):
    out = tmp_path / "sums"
    outside = tmp_path / "outside"
    outside.mkdir()
    out.mkdir()
    (out / batch.SUMMARIES_MARK).write_text("")  # an earlier run's summaries folder (else refused without force)
    os.symlink(outside, out / "sub")  # the input's subfolder "sub" would land in it
    os.symlink(outside / "s1.txt", out / "s1.txt")  # a file symlink is replaced, not written through
    report = summarize_folder(src, out, workers=1, progress=False)
    assert list(outside.iterdir()) == []
    assert not (out / "s1.txt").is_symlink()
    errors = read_jsonl(errors_path_for(out))
    assert any("outside" in e["reason"] and e["path"].endswith("s4.txt") for e in errors)
    assert report.failed == 4 and report.done == 5


# -- checks and the command line ---------------------------------------------------------------
def test_output_format():
    assert output_format("a.jsonl") == "jsonl" and output_format("a.CSV") == "csv" and output_format("folder") == "txt"
    with pytest.raises(ValueError, match="OUT must be"):
        output_format("a.json")


def test_cli_summarize(src, tmp_path, capsys):
    out = tmp_path / "cli.jsonl"
    assert cli(["summarize", str(src), "--out", str(out), "--sentences", "1", "--workers", "1", "--no-progress"]) == 0
    assert "done 6, skipped 1 (no prose), failed 3" in capsys.readouterr().err
    assert all(len(r["sentences"]) <= 1 for r in read_jsonl(out))


@pytest.mark.parametrize(
    "argv,message",
    [
        (["summarize", "does/not/exist", "--out", "x.jsonl"], "no such file or folder"),
        (["summarize", "{src}", "--out", "{tmp}/x.json"], "OUT must be"),
        (["summarize", "{src}", "--out", "{tmp}/x.jsonl", "--sentences", "0"], "sentences"),
        (["summarize", "{src}", "--out", "{tmp}/x.jsonl", "--method", "nope"], "nope"),
        (["summarize", "{src}", "--out", "{tmp}/x.jsonl", "--set", "bogus=1"], "bogus"),
    ],
)
def test_cli_user_errors_are_one_line(src, tmp_path, capsys, argv, message):
    argv = [a.format(src=src, tmp=tmp_path) for a in argv]
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_script_runs_like_the_cli(src, tmp_path):
    out = tmp_path / "script.jsonl"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "summarize_folder.py"), str(src), "--out", str(out), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(read_jsonl(out)) == 6


def test_killed_process_resumes_to_the_same_output(tmp_path):
    """A real crash: SIGKILL a multiprocess run mid-way, then --resume."""
    import signal
    import time

    src = tmp_path / "many"
    for i in range(3000):
        sub = src / f"{i // 500:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"s{i:05d}.txt").write_text(story(i), encoding="utf-8")
    clean, out = tmp_path / "clean.jsonl", tmp_path / "killed.jsonl"
    summarize_folder(src, clean, workers=1, progress=False)
    # 5 ms a story (tests/data/slow_summaries.py): the run takes 7.5 s, so it is still going when it is killed
    code = (
        "import sys; sys.path.insert(0, sys.argv[3]); import slow_summaries; slow_summaries.install(0.005); "
        "from nlp_wire.summarize.batch import summarize_folder; "
        "summarize_folder(sys.argv[1], sys.argv[2], workers=2, chunk_size=8, progress=False, checkpoint_every=0)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(src), str(out), str(REPO / "tests" / "data")])
    journal = tmp_path / ".killed.jsonl.journal"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_text().count("\n") >= 4:
            break
        time.sleep(0.005)
    assert proc.poll() is None, f"the run ended (exit code {proc.returncode}) before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    report = summarize_folder(src, out, workers=2, progress=False, resume=True)
    assert 0 < report.resumed < 3000 and report.done == 3000
    assert out.read_bytes() == clean.read_bytes()


def test_cli_a_folder_without_stories_fails_as_classify_and_label_do(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.md").write_text("not a story")
    assert cli(["summarize", str(tmp_path / "in"), "--out", str(tmp_path / "s.jsonl"), "--no-progress"]) == 2
    assert "no stories found in" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["sums.jsonl", "sums.csv", "sums"])
def test_a_run_that_summarizes_nothing_leaves_out_as_it_was(src, tmp_path, name):
    """A mistyped or emptied input folder used to replace earlier summaries (and their errors file) with empty ones."""
    out = tmp_path / name
    first = summarize_folder(src, out, workers=1, progress=False)
    before = {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file() and "in" not in p.parts}
    bad = tmp_path / "bad"
    bad.mkdir()
    for n in range(25):
        (bad / f"b{n:02d}.txt").write_text(f"notes {n}\n", encoding="utf-8")
    report = summarize_folder(bad, out, workers=1, progress=False)
    assert first.done == 6 and report.done == 0 and report.failed == 25 and report.kept_out
    assert {p: p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file() and "in" not in p.parts
            and "bad" not in p.parts} == before  # OUT, its errors file and .done: as the first run left them
    assert [e["path"] for e in report.unwritten] == [str(bad / f"b{n:02d}.txt") for n in range(batch.UNWRITTEN_SHOWN)]
    assert "nothing written" in report.line() and "wrote" not in report.line()


def test_a_new_txt_out_is_not_made_when_nothing_is_summarized(tmp_path, capsys):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.txt").write_text("just notes\n", encoding="utf-8")
    assert cli(["summarize", str(tmp_path / "bad"), "--out", str(tmp_path / "sums"), "--no-progress"]) == 2  # as classify and label: no story, a user error
    err = capsys.readouterr().err
    assert not (tmp_path / "sums").exists() and not list(tmp_path.glob(".sums*"))
    assert f"skipped: {tmp_path / 'bad' / 'x.txt'}:1: not a wire story" in err  # no errors file: named here
    assert f"nothing written: {tmp_path / 'sums'} was left as it was" in err


def test_one_errors_entry_per_file_says_how_many_more_stories_were_bad(tmp_path):
    import json

    from nlp_wire.summarize.batch import summarize_folder

    good = "date 2021-03-04 Harbor reopens\nSEOUL, March 4 (Testwire) -- The harbor reopened. Ships came back.\n(END)\n"
    bad = "date 2021-02-31 Impossible day\nSEOUL (Testwire) -- A story under an impossible date.\n(END)\n"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "three.txt").write_text(good + bad + bad.replace("Impossible", "Another impossible"))
    report = summarize_folder(tmp_path / "in", tmp_path / "sums.jsonl", progress=False)
    assert report.done == 1
    errors = [json.loads(line) for line in (tmp_path / "sums.jsonl.errors.jsonl").read_text().splitlines()]
    assert len(errors) == 1 and errors[0]["reason"].endswith("(and 1 more bad story in this file)")


# -- what an existing OUT may be replaced --------------------------------------------------------
def _listing(root):
    """Every path under ``root`` with its bytes (None for a folder): to show a refused run wrote nothing."""
    return {p.relative_to(root).as_posix(): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("name", ["mine.csv", "mine.jsonl"])
def test_an_existing_file_summarize_did_not_write_is_refused_without_force(src, tmp_path, name):
    out = tmp_path / name
    out.write_text("id,label\nharbor1,economy\nharbor2,crime\n", encoding="utf-8")  # someone's own file
    before = _listing(tmp_path)
    with pytest.raises(ValueError, match=rf"{name} exists and was not written by nlp-wire summarize; pass --force"):
        summarize_folder(src, out, workers=1, progress=False)
    assert _listing(tmp_path) == before  # no lock, partial file or journal left beside it either
    report = summarize_folder(src, out, workers=1, progress=False, force=True)
    assert report.done == 6 and "harbor1" not in out.read_text(encoding="utf-8")
    # now it is summarize's own output (its .done marker says so): a rerun replaces it without --force
    assert summarize_folder(src, out, workers=1, sentences=1, progress=False).done == 6


def test_cli_refuses_an_existing_file_in_one_line_and_force_replaces_it(src, tmp_path, capsys):
    out = tmp_path / "notes.jsonl"
    out.write_text('{"note": "keep me"}\n', encoding="utf-8")
    before = _listing(tmp_path)
    assert cli(["summarize", str(src), "--out", str(out), "--workers", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"{out} exists and was not written by nlp-wire summarize; pass --force" in err
    assert _listing(tmp_path) == before
    assert cli(["summarize", str(src), "--out", str(out), "--workers", "1", "--no-progress", "--force"]) == 0
    assert len(read_jsonl(out)) == 6


def test_resuming_a_forced_run_needs_no_force(src, tmp_path, monkeypatch):
    clean, out = tmp_path / "clean.jsonl", tmp_path / "o.jsonl"
    summarize_folder(src, clean, workers=1, progress=False)
    out.write_text("an older file of someone's\n", encoding="utf-8")
    with monkeypatch.context() as m:
        interrupt_after(m, 7)  # two stories written
        with pytest.raises(KeyboardInterrupt):
            summarize_folder(src, out, workers=1, progress=False, checkpoint_every=0, force=True)
    assert out.read_text(encoding="utf-8") == "an older file of someone's\n"  # still: the run did not finish
    report = summarize_folder(src, out, workers=1, progress=False, resume=True)  # the run in progress goes on
    assert report.resumed > 0 and out.read_bytes() == clean.read_bytes()


@pytest.mark.parametrize("force", [[], ["--force"]])
def test_the_gold_labels_of_the_input_folder_are_never_replaced(src, tmp_path, capsys, force):
    gold = src / "labels.csv"
    before = _listing(tmp_path)
    assert cli(["summarize", str(src), "--out", str(gold), "--workers", "1", "--no-progress", *force]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and f"{gold}: " in err and "gold labels" in err
    assert _listing(tmp_path) == before
    with pytest.raises(ValueError, match="gold labels"):  # nor by a new file of that name, in a subfolder too
        summarize_folder(src, src / "sub" / "LABELS.CSV", workers=1, progress=False, force=True)


def test_a_folder_of_other_files_is_refused_and_force_does_not_mark_it(src, tmp_path):
    from nlp_wire.reader import SUMMARIES_MARK

    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep these notes\n", encoding="utf-8")
    (other / "s2.txt").write_text("my own s2, not a summary\n", encoding="utf-8")
    before = _listing(tmp_path)
    with pytest.raises(ValueError, match=r"other: holds notes.txt, s2.txt, not summaries written earlier; .*--force"):
        summarize_folder(src, other, workers=1, progress=False)
    assert _listing(tmp_path) == before
    report = summarize_folder(src, other, workers=1, progress=False, force=True)
    assert report.done == 6 and (other / "notes.txt").read_text(encoding="utf-8") == "keep these notes\n"
    assert (other / "s2.txt").read_text(encoding="utf-8").startswith("Town 2 opened")  # what --force is for
    # not marked as a summaries folder: its own stories must not vanish from later reads of a folder around it
    assert not (other / SUMMARIES_MARK).exists()
    # an empty folder, and summarize's own folder, are written without --force (and marked)
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "empty"):
        assert summarize_folder(src, out, workers=1, progress=False).done == 6
    assert (tmp_path / "empty" / SUMMARIES_MARK).exists()


def test_cli_refuses_a_folder_of_other_files_in_one_line(src, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep these notes\n", encoding="utf-8")
    before = _listing(tmp_path)
    assert cli(["summarize", str(src), "--out", str(other), "--workers", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and f"{other}: holds notes.txt" in err
    assert _listing(tmp_path) == before


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_cli_refuses_out_dash_instead_of_making_a_folder_named_dash(src, tmp_path, capsys, monkeypatch, engine):
    monkeypatch.chdir(tmp_path)
    before = _listing(tmp_path)
    assert cli(["summarize", str(src), "--out", "-", "--engine", engine, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "summarize writes files: give --out FILE.jsonl, FILE.csv or FOLDER" in err
    assert _listing(tmp_path) == before  # no folder "-", no ".-.done" beside it


def test_a_folder_without_write_permission_is_named_by_out(src, tmp_path, monkeypatch):
    """The refusal named the lock file beside OUT ('.s.jsonl.lock'), not the --out given. (Root writes anywhere,
    so the refusal is made by hand here.)"""
    import builtins

    def refuse_the_lock(path, *args, **kwargs):
        if str(path).endswith(".lock"):
            raise PermissionError(13, "Permission denied", str(path))
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(batch, "open", refuse_the_lock, raising=False)
    out = tmp_path / "s.jsonl"
    with pytest.raises(PermissionError) as info:
        summarize_folder(src, out, workers=1, progress=False)
    assert info.value.filename == str(out) and ".lock" not in str(info.value)


def test_summaries_without_their_done_file_and_empty_placeholders_are_replaced(src, tmp_path):
    """Outputs written before .done existed (or by Ray's earlier version, or copied here) and an empty placeholder
    (mktemp) were refused as "not written by nlp-wire summarize"; a file of other records still is."""
    for name in ("old.jsonl", "old.csv"):
        summarize_folder(src, tmp_path / name, workers=1, progress=False)
        (tmp_path / f".{name}.done").unlink()
        assert summarize_folder(src, tmp_path / name, workers=1, progress=False).done
    (tmp_path / "empty.jsonl").write_text("")
    assert summarize_folder(src, tmp_path / "empty.jsonl", workers=1, progress=False).done
    (tmp_path / "other.jsonl").write_text('{"id": "x", "label": "crime"}\n')
    with pytest.raises(ValueError, match="not written by nlp-wire summarize"):
        summarize_folder(src, tmp_path / "other.jsonl", workers=1, progress=False)
