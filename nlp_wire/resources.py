"""Files that travel with the package: shipped models, configs and sample stories.

The repository keeps ``models/`` and ``configs/`` at its top level; ``nlp_wire/models`` and
``nlp_wire/configs`` link to them, so an editable checkout and an installed wheel (which carries copies)
find them the same way, through the package (:mod:`importlib.resources`), never through source paths.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["package_path", "models_dir", "config_path", "find_config", "sample_stories"]


def package_path(*parts: str) -> Path:
    """A file or folder inside the installed ``nlp_wire`` package."""
    return Path(str(files("nlp_wire").joinpath(*parts)))


def models_dir() -> Path:
    """The shipped models (``models/`` of the repository)."""
    return package_path("models")


def config_path(name: str) -> Path:
    """A shipped config, e.g. ``config_path("minilm_cpu.yaml")``."""
    return package_path("configs", name)


def find_config(given: str | Path) -> Path:
    """The config file ``given`` names: that path when it exists, else the shipped config of that name
    (``minilm_gpu.yaml`` or ``configs/minilm_gpu.yaml`` from an installed wheel, outside a checkout), else
    ``given`` unchanged, for the caller's "cannot read" error."""
    path = Path(given)
    if path.exists():
        return path
    parts = path.parts
    if len(parts) == 1 or (len(parts) == 2 and parts[0] == "configs"):
        shipped = config_path(parts[-1])
        if shipped.is_file():
            return shipped
    return path


def sample_stories() -> Path:
    """The bundled sample stories (labeled, ``labels.csv`` inside)."""
    return package_path("sample_data", "stories")
