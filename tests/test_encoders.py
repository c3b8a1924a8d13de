"""Base encoders by name: the split-zip mpnet is joined, checked against its SHA-256 and cached."""

import hashlib
import io
import zipfile

import pytest

from nlp_wire.classify import encoders
from nlp_wire.classify.base import ModelLoadError

FILES = {"config.json": b'{"model_type": "bert"}', "model.safetensors": b"weights" * 1000, "vocab.txt": b"a\nb\n"}


@pytest.fixture
def fake_mpnet(tmp_path, monkeypatch):
    """A small zip laid out like the upload, cut into five pieces, with our hashes as the trusted table."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("all-mpnet-base-v2/desktop.ini", b"ignored")
        for name, data in FILES.items():
            archive.writestr(f"all-mpnet-base-v2/{name}", data)
    data = buf.getvalue()
    cut = [0, 100, 2000, 3000, 4000, len(data)]
    parts = []
    for i in range(5):
        part = tmp_path / f"piece.zip.00{i + 1}"
        part.write_bytes(data[cut[i]:cut[i + 1]])
        parts.append(part)
    monkeypatch.setattr(encoders, "_mpnet_parts", lambda: parts)
    monkeypatch.setattr(encoders, "MPNET_FILES", {k: hashlib.sha256(v).hexdigest() for k, v in FILES.items()})
    monkeypatch.setattr(encoders, "_MPNET_STAMP", "test-stamp")
    monkeypatch.setenv("NLP_WIRE_CACHE", str(tmp_path / "cache"))
    return parts


def test_mpnet_is_joined_verified_and_cached(fake_mpnet, monkeypatch):
    folder = encoders.resolve_base_model("mpnet")
    assert folder == encoders.cache_dir() / "all-mpnet-base-v2"
    for name, data in FILES.items():
        assert (folder / name).read_bytes() == data
    assert not (folder / "desktop.ini").exists()
    # Second call: the verified cache answers without reading the pieces.
    monkeypatch.setattr(encoders, "_mpnet_parts", lambda: pytest.fail("pieces read again"))
    assert encoders.resolve_base_model("mpnet") == folder


def test_a_changed_piece_is_refused_and_nothing_is_cached(fake_mpnet, monkeypatch):
    monkeypatch.setattr(encoders, "MPNET_FILES", {**encoders.MPNET_FILES, "vocab.txt": "0" * 64})
    with pytest.raises(ModelLoadError, match="SHA-256"):
        encoders.resolve_base_model("mpnet")
    assert not (encoders.cache_dir() / "all-mpnet-base-v2").exists()
    left = [p.name for p in encoders.cache_dir().iterdir()]
    assert left == [".all-mpnet-base-v2.lock"]  # the temporary folder is gone too; the empty lock file stays


def test_processes_starting_at_once_join_mpnet_once_and_all_read_it(fake_mpnet, tmp_path, monkeypatch):
    """accelerate launch or Ray actors on a fresh machine: each process finds the folder whole, one joins it, and
    none removes a folder another is reading (each reads the files just after it got the folder)."""
    import multiprocessing
    import time

    join = encoders._join_mpnet
    log = tmp_path / "joins.log"

    def slow_join(parts, target):
        with open(log, "a") as fh:
            fh.write("join\n")
        time.sleep(0.5)  # the others arrive while the first one joins
        join(parts, target)

    monkeypatch.setattr(encoders, "_join_mpnet", slow_join)

    def worker(queue):
        try:
            folder = encoders._mpnet_folder()
            queue.put(all((folder / name).read_bytes() == data for name, data in FILES.items()))
        except Exception as exc:  # pragma: no cover - reported below
            queue.put(repr(exc))

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(queue,)) for _ in range(4)]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert results == [True] * 4
    assert log.read_text().count("join") == 1


def test_missing_mpnet_package_says_how_to_install_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("NLP_WIRE_CACHE", str(tmp_path))
    monkeypatch.setattr(encoders, "_MPNET_PARTS", [("nlp-wire-no-such-dist-xyz", "x/y.zip.001")])
    with pytest.raises(ModelLoadError) as err:
        encoders.resolve_base_model("mpnet")
    assert "pip install" in str(err.value) and "\n" not in str(err.value)


def test_a_local_folder_without_config_is_refused(tmp_path):
    with pytest.raises(ModelLoadError, match="no config.json"):
        encoders.resolve_base_model(str(tmp_path))
