"""atomic_write: the old file survives a failing writer; no temporary files are left behind."""

from __future__ import annotations

import os
import stat

import pytest

from nlp_wire import atomic
from nlp_wire.atomic import atomic_write


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_writes_and_replaces(tmp_path):
    target = tmp_path / "deep" / "labels.csv"
    with atomic_write(target, newline="") as fh:
        fh.write("id,label\r\na,other\r\n")
    assert target.read_bytes() == b"id,label\r\na,other\r\n"
    with atomic_write(target, "wb") as fh:
        fh.write(b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01" and leftovers(target.parent) == []


@pytest.mark.parametrize("exc", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_old_file_intact_when_the_writer_raises(tmp_path, exc):
    target = tmp_path / "labels.csv"
    target.write_text("id,label\ngold,covid\n", encoding="utf-8")
    with pytest.raises(type(exc)):
        with atomic_write(target) as fh:
            fh.write("id,label\nhalf")
            raise exc
    assert target.read_text(encoding="utf-8") == "id,label\ngold,covid\n"
    assert leftovers(tmp_path) == []


def test_no_file_when_the_first_write_fails(tmp_path):
    with pytest.raises(ValueError):
        with atomic_write(tmp_path / "new.csv"):
            raise ValueError("bad row")
    assert list(tmp_path.iterdir()) == []


def test_permissions_follow_umask_and_the_old_file(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "new.txt") as fh:
            fh.write("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o644  # not mkstemp's private 0o600
    kept = tmp_path / "kept.txt"
    kept.write_text("old", encoding="utf-8")
    kept.chmod(0o640)
    with atomic_write(kept) as fh:
        fh.write("new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640


def test_a_folder_without_write_permission_is_named_by_the_file_asked_for(tmp_path, monkeypatch):
    """Permission errors named our hidden temporary file ('.p.jsonl.98c73da8.tmp'), not the --out the user gave.
    (Root writes anywhere, so the refusal is made by hand here.)"""
    import errno

    def refuse(path, *args):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(atomic.os, "open", refuse)
    with pytest.raises(PermissionError) as info:
        with atomic_write(tmp_path / "p.jsonl") as fh:
            fh.write("x")
    assert info.value.filename == str(tmp_path / "p.jsonl") and ".tmp" not in str(info.value)
    assert f"no new file may be made in {tmp_path}" in str(info.value)


@pytest.mark.parametrize("error", [(2, "No such file or directory", FileNotFoundError),
                                   (30, "Read-only file system", OSError), (28, "No space left on device", OSError)])
def test_any_refusal_to_make_the_temporary_file_names_the_file_asked_for(tmp_path, monkeypatch, error):
    """`classify --out /proc/x.jsonl` named '/proc/.x.jsonl.7bf92333.tmp'."""
    number, text, kind = error

    def refuse(path, *args):
        raise kind(number, text, str(path))

    monkeypatch.setattr(atomic.os, "open", refuse)
    with pytest.raises(kind) as info:
        with atomic_write(tmp_path / "p.jsonl") as fh:
            fh.write("x")
    assert info.value.filename == str(tmp_path / "p.jsonl") and ".tmp" not in str(info.value)
    assert info.value.errno == number and f"{text} (no new file may be made in {tmp_path})" in str(info.value)


def test_a_name_too_long_for_the_temporary_file_says_so(tmp_path):
    """A name of 245 characters is legal, but its temporary file's is not: the message blamed the folder."""
    with pytest.raises(OSError) as info:
        with atomic_write(tmp_path / ("a" * 245 + ".csv")) as fh:
            fh.write("x")
    assert "its temporary file, 14 characters longer, cannot be made: shorten the name" in str(info.value)
