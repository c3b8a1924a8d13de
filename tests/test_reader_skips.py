"""Nothing skipped in silence: every path the reader does not read is counted with its reason; a size cap."""

from __future__ import annotations

import os

import pytest

import nlp_wire.reader as reader
from nlp_wire import read_stories
from nlp_wire.reader import DEFAULT_MAX_BYTES, ReadReport, SkippedInput, iter_files
from nlp_wire.story import read_file_bytes


def story(headline: str) -> str:
    return f" date 2024-03-02 {headline}\nMOKPO, March 2 (Yonhap) -- The ferry left on time.\n(END)\n"


def read(path, **kwargs) -> tuple[list[str], ReadReport]:
    report = ReadReport()
    ids = [s.id for s in read_stories(path, on_error=report, **kwargs)]
    return ids, report


def reasons(report: ReadReport) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in report.skipped:
        out.setdefault(s.reason, []).append(os.path.basename(s.path))
    return out


@pytest.fixture
def folder(make_folder):
    return make_folder({
        "a.txt": story("Ferry leaves on time"),
        "UPPER.TXT": story("Harbour lights renewed"),
        ".hidden.txt": story("Hidden"),
        ".cache/b.txt": story("Cached"),
        "labels.csv": "id,label\na,other\n",
        "notes.md": "notes",
        "sub/c.txt": story("Gulls return"),
    })


def test_every_path_not_read_is_counted_by_reason(folder):
    ids, report = read(folder)
    assert ids == ["UPPER", "a", "c"]  # suffixes match in any case: UPPER.TXT is a story file
    assert reasons(report) == {"hidden": [".cache", ".hidden.txt"], "not .txt": ["labels.csv", "notes.md"]}
    assert report.skip_summary() == "4 paths not read (2 hidden, 2 not .txt)"
    assert report.errors == [] and report.files == 3


def test_iter_files_reports_skips_to_its_callback(folder):
    skipped: list[SkippedInput] = []
    files = [p.name for p in iter_files(folder, on_skip=skipped.append)]
    assert files == ["UPPER.TXT", "a.txt", "c.txt"]
    assert sorted(s.reason for s in skipped) == ["hidden", "hidden", "not .txt", "not .txt"]


def test_fifo_in_a_folder_and_given_directly_is_a_named_skip(make_folder):
    root = make_folder({"a.txt": story("Ferry leaves")})
    os.mkfifo(root / "pipe.txt")
    ids, report = read(root)
    assert ids == ["a"] and reasons(report) == {"not a regular file": ["pipe.txt"]}
    for errors in ("report", "raise"):  # never blocks on the open, never raises
        skipped: list[SkippedInput] = []
        assert list(read_stories(root / "pipe.txt", errors=errors, on_skip=skipped.append)) == []
        assert [s.reason for s in skipped] == ["not a regular file"]
    with pytest.raises(SkippedInput, match="not a regular file .a FIFO"):
        read_file_bytes(root / "pipe.txt")


def test_symlink_loop_and_dangling_link(make_folder):
    root = make_folder({"a.txt": story("Ferry leaves")})
    (root / "self.txt").symlink_to("self.txt")
    (root / "gone.txt").symlink_to("nowhere.txt")
    ids, report = read(root)
    assert ids == ["a"]
    assert reasons(report) == {"dangling symlink": ["gone.txt"], "symlink loop": ["self.txt"]}
    for name, reason in (("self.txt", "symlink loop"), ("gone.txt", "dangling symlink")):
        skipped: list[SkippedInput] = []
        assert list(read_stories(root / name, errors="raise", on_skip=skipped.append)) == []
        assert [s.reason for s in skipped] == [reason], name


def test_file_links_out_of_the_tree_are_not_followed_unless_asked(make_folder, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text(story("Outside the tree"))
    root = make_folder({"a.txt": story("Ferry leaves"), "sub/keep.txt": story("Kept")})
    (root / "out.txt").symlink_to(outside)
    (root / "in.txt").symlink_to(root / "sub" / "keep.txt")  # inside the tree: read
    (root / "linked").symlink_to(root / "sub", target_is_directory=True)
    ids, report = read(root)
    assert ids == ["a", "in", "keep"]
    assert reasons(report) == {"symlink out of tree": ["out.txt"], "symlinked folder": ["linked"]}
    assert str(outside) in str(report.skipped[1]) or str(outside) in str(report.skipped[0])
    ids, report = read(root, follow_symlinks=True)
    assert ids == ["a", "in", "out", "keep"] and reasons(report) == {"symlinked folder": ["linked"]}


def test_unlistable_folder_is_counted(make_folder, monkeypatch):
    root = make_folder({"a.txt": story("Ferry leaves"), "locked/b.txt": story("Locked")})
    real = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(reader.os, "scandir", scandir)
    ids, report = read(root)
    assert ids == ["a"] and reasons(report) == {"unlistable folder": ["locked"]}
    assert "Permission denied" in str(report.skipped[0])


def test_path_too_long_is_counted(make_folder):
    root = make_folder({"a.txt": story("Ferry leaves")})
    fd = os.open(root, os.O_RDONLY)
    try:  # build the deep tree relative to folder descriptors: the full path is too long to name
        for _ in range(24):
            os.mkdir("d" * 200, dir_fd=fd)
            new = os.open("d" * 200, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
    finally:
        os.close(fd)
    ids, report = read(root)
    assert ids == ["a"] and list(reasons(report)) == ["path too long"]
    assert len(report.skipped[0].path) > 4000


# -- the size cap ---------------------------------------------------------------------------------
def test_a_file_over_the_cap_is_skipped_with_its_size(make_folder):
    big = story("Long") + "A long paragraph of the story.\n" * 100
    root = make_folder({"a.txt": story("Ferry leaves"), "big.txt": big})
    size = len(big.encode())
    ids, report = read(root, max_bytes=1000)
    assert ids == ["a"] and reasons(report) == {"too large": ["big.txt"]}
    assert f"{size:,} bytes; the cap is 1,000" in str(report.skipped[0]) and "big.txt" in str(report.skipped[0])
    assert read(root, max_bytes=size)[0] == ["a", "big"]  # the cap itself is allowed
    assert read(root, max_bytes=None)[0] == ["a", "big"]
    assert DEFAULT_MAX_BYTES == 10_000_000 and read(root)[0] == ["a", "big"]
    skipped: list[SkippedInput] = []
    assert list(read_stories(root / "big.txt", errors="raise", max_bytes=1000, on_skip=skipped.append)) == []
    assert [s.reason for s in skipped] == ["too large"]
    with pytest.raises(ValueError, match="max_bytes"):
        list(read_stories(root, max_bytes=0))


def test_the_cap_is_checked_before_reading(make_folder, monkeypatch):
    root = make_folder({"big.txt": story("Long") + "x" * 5000 + "\n"})

    def no_read(*args):
        raise AssertionError("read a file over the cap")

    monkeypatch.setattr(os, "read", no_read)
    assert read(root, max_bytes=1000)[0] == []


def test_a_jsonl_line_over_the_cap_is_skipped_and_the_rest_read(make_folder):
    long = '{"headline": "Long", "body": "' + "x" * 3000 + '"}'
    root = make_folder({"r.jsonl": '{"headline": "Short", "body": "Fine."}\n' + long + '\n{"headline": "Last"}\n'})
    ids, report = read(root / "r.jsonl", max_bytes=1000)
    assert ids == ["r:1", "r:3"]
    assert [str(s) for s in report.skipped] == [f"{root / 'r.jsonl'}:2: too large (a line over 1,000 bytes)"]
