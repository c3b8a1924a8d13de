"""Shared fixtures: paths to the real data in ``../shared`` (skipped when absent) and tiny wire folders.

Every literal story in these tests is invented for them. Real files under ``../shared`` are only read
at test time and never copied into the repository.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import nlp_wire.reader as reader

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "seeds"
KOREA_DEV = SHARED / "data" / "korea_dev"
PUBLIC_TRAIN = SHARED / "data" / "public" / "train.jsonl"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not here (the shared data is optional)")
    return path


@pytest.fixture
def shared() -> Path:
    """``../shared``, or skip."""
    return _need(SHARED)


@pytest.fixture
def seeds() -> Path:
    """``../shared/seeds``, or skip."""
    return _need(SEEDS)


@pytest.fixture
def korea_dev() -> Path:
    """``../shared/data/korea_dev`` (225 stories and a gold ``labels.csv``), or skip."""
    return _need(KOREA_DEV)


@pytest.fixture
def public_train() -> Path:
    """``../shared/data/public/train.jsonl``, or skip."""
    return _need(PUBLIC_TRAIN)


@pytest.fixture
def make_folder(tmp_path):
    """Write ``{relative name: str | bytes}`` under a fresh folder and return the folder."""
    counter = itertools.count()

    def make(files: dict[str, str | bytes], name: str | None = None) -> Path:
        root = tmp_path / (name or f"folder{next(counter)}")
        root.mkdir(parents=True)
        for rel, content in files.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(content, encoding="utf-8", newline="")
        return root

    return make


@pytest.fixture
def count_reads(monkeypatch) -> list[Path]:
    """The story files the reader opens, in order (to check that reading streams)."""
    calls: list[Path] = []
    real = reader._read_bytes

    def counting(path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(reader, "_read_bytes", counting)
    return calls
