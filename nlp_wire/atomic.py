"""Atomic file writes: a half-written file never replaces a good one, even on a crash or Ctrl-C."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

__all__ = ["atomic_write", "file_lock", "umask_mode"]


@contextlib.contextmanager
def file_lock(path: str | Path):
    """Hold an exclusive lock on ``path`` (created if missing) across processes for the ``with`` block, so two
    runs sharing a cache do not write it at once. Without ``fcntl`` (Windows) it does not lock."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            import fcntl
        except ImportError:
            yield
            return
        fcntl.lockf(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.lockf(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8", newline: str | None = None):
    """Write to a temporary file beside ``path`` and rename it over ``path`` on success.

    Args:
        path: Destination.
        mode: ``"w"`` (text) or ``"wb"``.
        encoding: Text encoding (ignored in binary mode).
        newline: As for :func:`open`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        binary = "b" in mode
        with os.fdopen(fd, mode, encoding=None if binary else encoding, newline=None if binary else newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _create_temp(path: Path) -> tuple[int, str]:
    """Create a fresh temporary file beside ``path`` with the permissions ``path`` would get.

    Not ``tempfile.mkstemp``: its files are private (0o600), and the rename would make every
    labels file or model written this way unreadable to the user's group.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)  # replacing a file keeps its permissions
    except OSError:
        mode = 0o666  # a new file: open() applies the umask
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
        except FileExistsError:
            continue
        except OSError as exc:  # named by the file asked for, not by our hidden temporary one (a read-only
            # folder, /proc, a full or read-only file system)
            why = (f"its temporary file, {len(tmp.name) - len(path.name)} characters longer, cannot be made: shorten "
                   "the name" if exc.errno == errno.ENAMETOOLONG else f"no new file may be made in {path.parent}")
            raise type(exc)(exc.errno, f"{exc.strerror} ({why})", str(path)) from None
        if path.exists():
            os.chmod(tmp, mode)  # the umask must not narrow an existing file's permissions
        return fd, str(tmp)


def umask_mode(path: str | Path) -> None:
    """Give a file written by a library that makes private temporary files (safetensors' ``save_file``
    writes 0o600) the permissions a plain ``open()`` would: 0o666 less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
