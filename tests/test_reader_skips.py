"""Nothing is skipped in silence, and no story file is too big to be safe (issue 14).

Every path the reader does not read is counted with its reason (hidden, not .txt, a FIFO, a symlink
loop or dangling link, a link out of the folder, too large, path too long, unlistable folder); a
FIFO or a symlink loop named directly is a skipped input, never an exception; the size cap is
checked before a byte is read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import nlp_wire.reader as reader
from nlp_wire import ReadReport, WireFormatError, read_stories
from nlp_wire.reader import Skip, iter_files, iter_records

STORY = " date 2024-05-02 Harbor cranes get new paint\nINCHEON, May 2 (Yonhap) -- Crews repainted {n} cranes.\n(END)\n"


def story(n: int = 1) -> str:
    return STORY.format(n=n)


def reasons(report: ReadReport) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in report.skipped:
        out.setdefault(s.reason, []).append(os.path.basename(s.path))
    return out


@pytest.fixture
def messy(make_folder, tmp_path):
    outside = tmp_path / "elsewhere.txt"
    outside.write_text(story(9), encoding="utf-8")
    root = make_folder({
        "a.txt": story(1),
        "UPPER.TXT": story(2),
        "sub/b.txt": story(3),
        ".hidden.txt": story(4),
        ".cache/c.txt": story(5),
        "notes.md": "not a story",
        "labels.csv": "id,label\n",
        "big.txt": story(6) + "x" * 5000 + "\n",
    }, name="messy")
    os.mkfifo(root / "pipe.txt")
    os.symlink("nowhere.txt", root / "dangling.txt")
    os.symlink("loop.txt", root / "loop.txt")
    os.symlink(outside, root / "out.txt")
    os.symlink("a.txt", root / "inside.txt")
    os.symlink("sub", root / "linked")
    return root


def test_every_skipped_path_is_counted_with_its_reason(messy):
    report = ReadReport()
    ids = [s.id for s in read_stories(messy, on_error=report, max_bytes=1000)]
    assert ids == ["UPPER", "a", "inside", "b"]  # suffixes compare without case
    assert reasons(report) == {
        "hidden": [".cache", ".hidden.txt"],
        "too large": ["big.txt"],
        "dangling symlink": ["dangling.txt"],
        "not .txt": ["labels.csv", "notes.md"],
        "symlinked folder": ["linked"],
        "symlink loop": ["loop.txt"],
        "symlink out of the folder": ["out.txt"],
        "not a regular file": ["pipe.txt"],
    }
    assert report.errors == [] and report.files == 4
    too_large = next(s for s in report.skipped if s.reason == "too large")
    assert f"{os.path.getsize(messy / 'big.txt'):,} bytes" in str(too_large) and "1,000" in str(too_large)
    assert report.not_read().startswith("10 paths not read (hidden 2, not .txt 2, ")


def test_follow_symlinks_reads_links_out_of_the_folder(messy):
    ids = [s.id for s in read_stories(messy, max_bytes=None, follow_symlinks=True)]
    assert ids == ["UPPER", "a", "big", "inside", "out", "b"]


def test_iter_files_reports_to_on_skip_and_logs_without_one(messy, caplog):
    seen: list[Skip] = []
    files = [p.name for p in iter_files(messy, on_skip=seen.append)]
    assert files == ["UPPER.TXT", "a.txt", "big.txt", "inside.txt", "b.txt"]
    assert len(seen) == 9
    caplog.set_level("INFO", logger="nlp_wire.reader")
    list(iter_files(messy))
    assert "not read: " in caplog.text and "symlink loop" in caplog.text


@pytest.mark.parametrize("errors", ["report", "raise"])
def test_a_fifo_or_loop_named_directly_is_a_skipped_input(tmp_path, errors):
    os.mkfifo(tmp_path / "pipe.txt")
    os.symlink("self.txt", tmp_path / "self.txt")
    os.symlink("missing.txt", tmp_path / "gone.txt")
    good = tmp_path / "good.txt"
    good.write_text(story(), encoding="utf-8")
    report = ReadReport()
    paths = [tmp_path / "pipe.txt", tmp_path / "self.txt", tmp_path / "gone.txt", good]
    stories = list(read_stories(paths, errors=errors, on_error=report))  # never blocks on the FIFO
    assert [s.id for s in stories] == ["good"]
    assert [(os.path.basename(s.path), s.reason) for s in report.skipped] == [
        ("pipe.txt", "not a regular file"), ("self.txt", "symlink loop"), ("gone.txt", "dangling symlink")]
    assert "a FIFO" in str(report.skipped[0])


def test_size_cap_is_checked_before_reading(tmp_path):
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as fh:  # 200 MB without writing them: a sparse file
        fh.truncate(200_000_000)
    (tmp_path / "ok.txt").write_text(story(), encoding="utf-8")
    report = ReadReport()
    assert [s.id for s in read_stories(tmp_path, on_error=report)] == ["ok"]  # default cap: 10 MB
    assert [str(s) for s in report.skipped] == [f"{huge}: too large (200,000,000 bytes, over the cap of 10,000,000)"]
    # (read, its NUL bytes would have made it a "binary data" error instead)


def test_size_cap_bounds(tmp_path):
    f = tmp_path / "s.txt"
    f.write_text(story(), encoding="utf-8")
    size = f.stat().st_size
    assert len(list(read_stories(f, max_bytes=size))) == 1
    report = ReadReport()
    assert list(read_stories(f, max_bytes=size - 1, on_error=report)) == [] and report.skipped[0].reason == "too large"
    with pytest.raises(ValueError, match="max_bytes"):
        list(read_stories(f, max_bytes=0))


def test_read_file_stories_names_a_capped_file(tmp_path):
    f = tmp_path / "s.txt"
    f.write_text(story(), encoding="utf-8")
    with pytest.raises(WireFormatError, match="not read: too large"):
        reader.read_file_stories(f, max_bytes=10)


def test_a_jsonl_line_over_the_cap_is_a_named_bad_line(tmp_path):
    records = tmp_path / "r.jsonl"
    lines = [{"headline": "Short one", "body": "Fine."}, {"headline": "Long one", "body": "x" * 5000},
             {"headline": "Last one", "body": "Fine too."}]
    records.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    report = ReadReport()
    stories = list(read_stories(records, on_error=report, max_bytes=1000))
    assert [s.headline for s in stories] == ["Short one", "Last one"]
    assert [(e.line, e.message) for e in report.errors] == [(2, "line too long (over the cap of 1,000 bytes)")]
    assert [n for n, _ in iter_records(records, max_bytes=None)] == [1, 2, 3]


def test_a_path_too_long_is_counted(tmp_path):
    top = tmp_path / "deep"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(20):  # 20 x 250 characters: past PATH_MAX (4,096)
            os.mkdir("d" * 250, dir_fd=fd)
            new = os.open("d" * 250, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        with open(os.open("s.txt", os.O_CREAT | os.O_WRONLY, dir_fd=fd), "w") as fh:
            fh.write(story())
    finally:
        os.close(fd)
    report = ReadReport()
    assert list(read_stories(top, on_error=report)) == []
    assert [s.reason for s in report.skipped] == ["path too long"]


def test_an_unlistable_folder_is_counted(make_folder, monkeypatch):
    root = make_folder({"a.txt": story(), "locked/b.txt": story()})
    real = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(reader.os, "scandir", scandir)
    report = ReadReport()
    assert [s.id for s in read_stories(root, on_error=report)] == ["a"]
    assert [str(s) for s in report.skipped] == [f"{root / 'locked'}: unlistable folder (Permission denied)"]


def test_peak_memory_is_a_few_times_the_largest_file(tmp_path):
    """A 9 MB story on one line (runs of spaces to collapse): peak RSS grows by at most 3x the file."""
    big = tmp_path / "big.txt"
    big.write_text(" date 2024-05-02 Head\nINCHEON, May 2 (Yonhap) -- " + "Cranes got  new paint. " * 400_000 + "\n(END)\n",
                   encoding="utf-8")
    with open(tmp_path / "huge.txt", "wb") as fh:
        fh.truncate(200_000_000)  # over the cap: never read
    code = (
        "import resource, sys\nfrom nlp_wire import read_stories\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "n = sum(len(s.body) for s in read_stories(sys.argv[1]))\n"
        "print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout.split()
    chars, grew_kb = int(out[0]), int(out[1])
    assert chars > 8_000_000
    assert grew_kb * 1024 <= 3 * big.stat().st_size, f"peak grew by {grew_kb} KB for a {big.stat().st_size:,}-byte file"


# -- the commands -------------------------------------------------------------------------------
@pytest.fixture
def cli_folder(make_folder):
    root = make_folder({"a.txt": story(1), "b.txt": story(2), ".hidden.txt": story(3), "notes.md": "x",
                        "big.txt": story(4) + "y" * 3000 + "\n"}, name="cli")
    os.symlink("loop.txt", root / "loop.txt")
    return root


def _main(capsys, *argv):
    from nlp_wire.cli.main import main

    code = main([*map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_label_counts_and_lists_what_it_did_not_read(cli_folder, tmp_path, capsys):
    code, _, err = _main(capsys, "label", cli_folder, "--out", tmp_path / "l.csv", "--max-bytes", 1000)
    assert code == 0
    assert "labeled 2 stories" in err
    assert "4 paths not read (" in err and "too large 1" in err and "symlink loop 1" in err
    assert f"not read: {cli_folder / 'big.txt'}: too large (" in err  # always named, with its size
    assert ".hidden.txt" not in err  # routine skips: counted, listed with --verbose
    code, _, err = _main(capsys, "label", cli_folder, "--out", tmp_path / "l2.csv", "--verbose", "--max-bytes", 0)
    assert code == 0 and "labeled 3 stories" in err
    assert f"not read: {cli_folder / '.hidden.txt'}: hidden" in err and "notes.md: not .txt" in err


def test_classify_counts_what_it_did_not_read(cli_folder, capsys):
    code, out, err = _main(capsys, "-q", "classify", "baseline", cli_folder, "--max-bytes", 1000)
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["a", "b"]
    assert "classified 2 stories; 0 bad inputs skipped; 4 paths not read (" in err


def test_summarize_caps_and_counts(cli_folder, tmp_path, capsys):
    out = tmp_path / "s.jsonl"
    code, _, err = _main(capsys, "-q", "summarize", cli_folder, "--out", out, "--max-bytes", 1000, "--workers", 1,
                         "--no-progress")
    assert code == 0
    assert "done 2," in err and "failed 1" in err and "3 paths not read (" in err
    (failure,) = [json.loads(x) for x in (tmp_path / "s.jsonl.errors.jsonl").read_text().splitlines()]
    assert failure["path"].endswith("big.txt") and failure["reason"].startswith("not read: too large (")


@pytest.mark.parametrize("command", [["summarize", "{src}", "--out", "{src}/s.jsonl", "--no-progress"],
                                     ["summarize", "{src}", "--out", "{src}/sums", "--no-progress"],
                                     ["classify", "baseline", "{src}", "--out", "{src}/c.jsonl"]])
def test_a_command_does_not_count_its_own_output_inside_the_input(tmp_path, capsys, command):
    src = tmp_path / "wire"
    src.mkdir()
    (src / "a.txt").write_text(story(), encoding="utf-8")
    (src / ".notes").write_text("x", encoding="utf-8")
    args = [a.format(src=src) for a in command]
    for _ in range(2):  # the second run finds the first one's output, errors and .done beside it: still not inputs
        code, _, err = _main(capsys, "-q", *args, "-v")
        assert code == 0 and ("done 1," in err or "classified 1 story;" in err), err
        assert "1 path not read (hidden 1)" in err and ".notes" in err, err


def test_classify_reruns_keep_their_errors_file_current_and_out_of_the_inputs(tmp_path, capsys):
    """The second run must not count the first one's errors file as an input not read, must report a real input
    whose name merely starts like the output's, and a clean re-run removes the old errors file."""
    src = tmp_path / "wire"
    src.mkdir()
    (src / "a.txt").write_text(story(), encoding="utf-8")
    (src / "b.txt").write_bytes(b"\xff\xfe not a story")
    (src / "c.jsonl.old").write_text("kept by hand\n", encoding="utf-8")
    errors = src / "c.jsonl.errors.jsonl"
    argv = ["-q", "classify", "baseline", src, "--out", src / "c.jsonl", "-v"]
    for _ in range(2):
        code, _, err = _main(capsys, *argv)
        assert code == 0 and "1 bad input skipped" in err and errors.is_file(), err
        assert "1 path not read (not .txt 1)" in err and "c.jsonl.old: not .txt" in err, err
    (src / "b.txt").write_text(story(2), encoding="utf-8")
    code, _, err = _main(capsys, *argv)
    assert code == 0 and "classified 2 stories; 0 bad inputs skipped" in err, err
    assert not errors.exists()  # no list of failures that no longer happen


def test_own_output_and_check_not_input_cover_the_errors_file(tmp_path):
    from nlp_wire.outputs import check_not_input, own_output

    is_own = own_output(tmp_path / "x.jsonl")
    assert is_own(tmp_path / "x.jsonl") and is_own(tmp_path / "x.jsonl.errors.jsonl") and is_own(tmp_path / ".x.jsonl.lock")
    assert not is_own(tmp_path / "x.jsonl.old") and not is_own(tmp_path / "x.jsonl2" / "a.txt")
    with pytest.raises(ValueError, match="overwrite the input .*x.jsonl.errors.jsonl"):
        check_not_input(tmp_path / "x.jsonl", [tmp_path / "y.jsonl", tmp_path / "x.jsonl.errors.jsonl"])
    check_not_input(tmp_path / "x.jsonl", [tmp_path / "y.jsonl"])


def _peak_kb(argv: list[str]) -> int:
    """Peak RSS (KB) of one ``nlp-wire`` command run in a fresh process."""
    code = ("import resource, sys\nfrom nlp_wire.cli.main import main\ncode = main(sys.argv[1:])\n"
            "print(code, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    code, kb = done.stdout.split()[-2:]
    assert code == "0", done.stderr
    return int(kb)


@pytest.mark.parametrize("command", ["label", "classify", "summarize"])
def test_commands_peak_memory_is_a_few_times_the_largest_file(command, tmp_path):
    """The model and the interpreter aside, a command's peak RSS grows by at most 3x its largest file."""
    small, large = tmp_path / "small", tmp_path / "large"
    small.mkdir()
    large.mkdir()
    (small / "s.txt").write_text(story(), encoding="utf-8")
    big = large / "big.txt"
    big.write_text(" date 2024-05-02 Head\nINCHEON, May 2 (Yonhap) -- " + "Cranes got  new paint. " * 350_000 + "\n(END)\n",
                   encoding="utf-8")
    peaks = []
    for folder in (small, large):
        argv = {"label": ["label", folder, "--out", folder / "labels.csv"],
                "classify": ["-q", "classify", "baseline", folder, "--workers", "1"],
                "summarize": ["summarize", folder, "--out", folder.with_suffix(".jsonl"), "--workers", "1", "--no-progress"]}
        peaks.append(_peak_kb([str(a) for a in argv[command]]))
    grew = (peaks[1] - peaks[0]) * 1024
    assert grew <= 3 * big.stat().st_size, f"{command}: peak grew by {grew:,} bytes for a {big.stat().st_size:,}-byte file"


def test_a_folder_of_summaries_is_skipped_with_its_reason_unless_given_itself(tmp_path):
    """``summarize --out wire/sums`` leaves .txt summaries inside the wire folder: a later run on ``wire/`` must not
    read each one as a bad story."""
    from nlp_wire.cli.main import main
    from nlp_wire.reader import SUMMARIES

    wire = tmp_path / "wire"
    wire.mkdir()
    (wire / "a.txt").write_text(story(1), encoding="utf-8")
    assert main(["-q", "summarize", str(wire), "--out", str(wire / "sums"), "--no-progress"]) == 0
    assert (wire / "sums" / reader.SUMMARIES_MARK).is_file() and (wire / "sums" / "a.txt").is_file()
    report = ReadReport()
    assert [s.id for s in read_stories(wire, on_error=report)] == ["a"] and not report.errors
    assert reasons(report)[SUMMARIES] == ["sums"]
    report = ReadReport()
    assert list(read_stories(wire / "sums", on_error=report)) == [] and len(report.errors) == 1  # read when named


BAD_MIDDLE = (story(1) + " date 2020-02-30 A header with an impossible date\nBody.\n"
              + story(3).replace("2024-05-02", "2024-05-03"))


def test_one_bad_story_of_a_file_loses_only_itself(tmp_path):
    """An invalid header on the second story of a file threw away the first and the third too."""
    (tmp_path / "three.txt").write_text(BAD_MIDDLE, encoding="utf-8")
    report = ReadReport()
    assert [s.id for s in read_stories(tmp_path, on_error=report)] == ["three", "three#3"]
    assert [(e.line, "invalid date" in e.message) for e in report.errors] == [(4, True)] and report.files == 1
    with pytest.raises(WireFormatError, match=r"three.txt:4: invalid date"):
        list(read_stories(tmp_path, errors="raise"))


@pytest.mark.parametrize("command", ["summarize", "classify1", "classify2"])
def test_the_commands_keep_a_file_s_good_stories_beside_a_bad_one(tmp_path, capsys, command):
    from nlp_wire.cli.main import main

    src = tmp_path / "in"
    src.mkdir()
    (src / "three.txt").write_text(BAD_MIDDLE, encoding="utf-8")
    out = tmp_path / "o.jsonl"
    if command == "summarize":
        assert main(["-q", "summarize", str(src), "--out", str(out), "--no-progress"]) == 0
        listed = [json.loads(x) for x in (tmp_path / "o.jsonl.errors.jsonl").read_text().splitlines()]
        assert [(e["line"], "invalid date" in e["reason"]) for e in listed] == [(4, True)]
    else:
        assert main(["-q", "classify", "baseline", str(src), "--out", str(out), "--workers", command[-1]]) == 0
        assert "three.txt:4: invalid date" in capsys.readouterr().err
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["three", "three#3"]
