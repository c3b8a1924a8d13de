"""Shipped models by name (``models/catalog.json``) and the default model.

The catalog is data: each entry gives a model's kind, what it needs installed, its published macro-F1
(with the bench file it comes from), its speed on 2 CPU cores with the runtime that reached it, and the
command that rebuilds it. The default model is computed from it: the most accurate available model
that predicts at least ``min_stories_per_s`` (50) stories a second, leaving out models shipped only as
ensemble members.
"""

from __future__ import annotations

import difflib
import json
import logging
from pathlib import Path

from ..resources import models_dir
from .base import MODEL_CARD, ModelLoadError

__all__ = ["read_catalog", "model_names", "resolve_model", "default_model_name", "missing_requirement",
           "training_sources", "seen_sources", "linked_folders", "model_files", "footprint_mb", "installed_bases"]

logger = logging.getLogger(__name__)

DEFAULT_NAMES = ("default",)


def read_catalog(path: str | Path | None = None) -> dict:
    """The catalog (default: the shipped ``models/catalog.json``).

    Raises:
        ModelLoadError: Unreadable or malformed catalog.
    """
    path = Path(path) if path is not None else models_dir() / "catalog.json"
    try:
        catalog = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path}: cannot read the model catalog: {exc}") from None
    if not isinstance(catalog, dict) or not isinstance(catalog.get("models"), dict):
        raise ModelLoadError(f"{path}: a catalog needs a 'models' mapping")
    return catalog


def model_names(catalog: dict | None = None) -> list[str]:
    return list((catalog or read_catalog())["models"])


def missing_requirement(entry: dict) -> str | None:
    """None when the model can load here, else the one-line reason with the command that fixes it."""
    needs = entry.get("needs")
    if needs == "mpnet":
        from .encoders import _mpnet_parts

        try:
            _mpnet_parts()
        except ModelLoadError:
            return "needs the all-mpnet-base-v2 pieces: pip install 'nlp_wire[mpnet]'"
    return None


def default_model_name(catalog: dict | None = None) -> str:
    """The most accurate available model at or above the catalog's ``min_stories_per_s``.

    Entries shipped as members of an ensemble (``member_of``) do not compete: their macro-F1 is one
    candidate's score inside a procedure whose own choice is the ensemble, and picking a candidate over
    that choice by its score would be a choice made on the stories it was scored on."""
    catalog = catalog or read_catalog()
    floor = float(catalog.get("min_stories_per_s", 50))
    fast = {name: e for name, e in catalog["models"].items()
            if float(e.get("stories_per_s") or 0) >= floor and e.get("macro_f1") is not None
            and not e.get("member_of") and missing_requirement(e) is None}
    if not fast:
        raise ModelLoadError(f"no model in the catalog reaches {floor:g} stories/s; name one explicitly")
    return max(fast, key=lambda name: (float(fast[name]["macro_f1"]), float(fast[name]["stories_per_s"])))


def resolve_model(name_or_path: str | Path | None, catalog: dict | None = None) -> Path:
    """The folder of a model given by folder, shipped name (``"minilm"``) or ``None``/``"default"``.

    An existing model folder wins over a shipped name of the same spelling; a folder of that name without a model
    card (an experiment's output folder, say) does not hide the shipped model: it is loaded, with a warning.

    Raises:
        ModelLoadError: Neither a folder nor a shipped name (with the names and a did-you-mean), or a
            shipped model whose requirement is not installed.
    """
    if name_or_path is None or str(name_or_path) in DEFAULT_NAMES:
        catalog = catalog or read_catalog()
        name = default_model_name(catalog)
        logger.info("default model: %s", name)
        return models_dir() / name
    if not isinstance(name_or_path, (str, Path)) or not str(name_or_path).strip():
        raise ModelLoadError(f"a model is a folder or a shipped name, not {name_or_path!r}")
    path = Path(name_or_path)
    shadowed = False  # a folder of a shipped model's name that is not a model: the shipped one loads
    if path.exists() and len(path.parts) == 1 and not (path / MODEL_CARD).is_file():
        catalog = catalog or read_catalog()
        shadowed = str(name_or_path) in catalog["models"]
        if shadowed:
            logger.warning("./%s is not a model folder (no %s): loading the shipped model %r instead",
                           name_or_path, MODEL_CARD, str(name_or_path))
    if not shadowed and (path.exists() or len(path.parts) > 1):
        return path
    catalog = catalog or read_catalog()
    names = list(catalog["models"])
    if str(name_or_path) in names:
        reason = missing_requirement(catalog["models"][str(name_or_path)])
        if reason:
            raise ModelLoadError(f"{name_or_path}: {reason}")
        return models_dir() / str(name_or_path)
    close = difflib.get_close_matches(str(name_or_path), names + list(DEFAULT_NAMES), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ModelLoadError(f"{name_or_path}: no such model folder, and not a shipped model name "
                         f"({', '.join(['default', *names])}){hint}")


def training_sources(folder: str | Path, _seen: frozenset = frozenset()) -> list[Path]:
    """The sources a model folder was trained on, as far as its records say: labeled (``data``) and
    unlabeled ones (``unlabeled``: stories a teacher or self-training labeled) from the run's ``metrics.json``
    (beside the model or one folder up) or a protocol member's ``protocol.json``; for an ensemble its
    members' sources, and for a model on a fine-tuned encoder (a head's ``base_encoder`` naming a shipped
    model, or ``model.name_or_path`` naming a model folder) the encoder's. A distillation teacher is not
    followed: records name it by a path whose model may since have changed (``minilm``'s ``models/ensemble``
    has). Relative paths are resolved as :func:`_records_root` says, each source named once; ``@weight``
    suffixes and ``::LABELS.csv`` dropped."""
    folder = Path(folder)
    here = folder.resolve()
    if here in _seen:  # a card naming itself, or a loop of them
        return []
    _seen = _seen | {here}
    found: list[str] = []
    workdir = None
    for record in (folder / "metrics.json", folder.parent / "metrics.json"):
        if record.is_file():
            try:
                run = json.loads(record.read_text(encoding="utf-8"))
                found += [*run.get("data", []), *(run.get("unlabeled") or [])]
                workdir = run.get("workdir")
            except (OSError, json.JSONDecodeError, AttributeError, TypeError):
                pass
            break
    if (folder / "protocol.json").is_file():
        try:
            record = json.loads((folder / "protocol.json").read_text(encoding="utf-8"))
            recipe = record.get("recipe", {})
            found += [record["gold"], *recipe.get("data", []), *(recipe.get("unlabeled") or [])]
            workdir = workdir or record.get("workdir")
        except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
            pass
    try:
        card = json.loads((folder / "nlp_wire_model.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        card = {}
    from ..dataset import parse_data_spec, split_labels

    root = _records_root(here, workdir)
    out = [(root / split_labels(parse_data_spec(s)[0])[0]).resolve() for s in found if isinstance(s, str)]
    card = card if isinstance(card, dict) else {}
    for member in card.get("members", []):
        if isinstance(member, dict) and isinstance(member.get("path"), str):
            out += training_sources(folder / member["path"], _seen)
    for encoder in _encoder_folders(card, root):
        out += training_sources(encoder, _seen)
    return list(dict.fromkeys(out))  # members trained on the same sources name them once


def linked_folders(folder: str | Path, _seen: frozenset = frozenset()) -> list[Path]:
    """``folder`` and every model folder it loads with: an ensemble's members, and the shipped fine-tuned
    encoder a head sits on (``base_encoder``, or ``model.name_or_path`` naming a model folder), recursively,
    each once. Installed base encoders are packages, not folders of ours, and are not listed."""
    folder = Path(folder)
    here = folder.resolve()
    if here in _seen:
        return []
    _seen = _seen | {here}
    try:
        card = json.loads((folder / MODEL_CARD).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        card = {}
    card = card if isinstance(card, dict) else {}
    out = [folder]
    for member in card.get("members", []):
        if isinstance(member, dict) and isinstance(member.get("path"), str):
            out += linked_folders(folder / member["path"], _seen)
    for encoder in _encoder_folders(card, _records_root(here, None)):
        out += linked_folders(encoder, _seen)
    return list({f.resolve(): f for f in out}.values())


def model_files(folder: str | Path) -> list[Path]:
    """The files of a model and of the folders it loads with (:func:`linked_folders`), resolved, sorted, each once."""
    return sorted({f.resolve() for d in linked_folders(folder) if d.is_dir() for f in d.iterdir() if f.is_file()})


def footprint_mb(folder: str | Path) -> float:
    """Megabytes on disk of a model and the folders it loads with (:func:`linked_folders`): what copying it
    takes. A head on a shipped encoder is a few kilobytes alone."""
    return sum(f.stat().st_size for f in model_files(folder)) / 1e6


def installed_bases(folder: str | Path) -> list[str]:
    """The installed base encoders (``minilm``, ``mpnet``) whose weights a model's heads read from their package
    (``base_encoder``), for it and the folders it loads with."""
    from .encoders import ENCODERS

    names = []
    for f in linked_folders(folder):
        try:
            base = json.loads((f / MODEL_CARD).read_text(encoding="utf-8")).get("base_encoder")
        except (OSError, json.JSONDecodeError, AttributeError):
            continue
        if isinstance(base, str) and base in ENCODERS and base not in names:
            names.append(base)
    return names


def _records_root(here: Path, workdir) -> Path:
    """What a model's records' relative paths are relative to. A shipped model's: the folder holding the
    package (the repository, or site-packages for a wheel, where ``nlp_wire/sample_data/...`` lies too),
    whatever folder the run that made it was started in. Any other model's: that folder (``workdir`` in
    ``metrics.json`` or ``protocol.json``, written since 2026-12-05), else the current folder."""
    shipped = models_dir()
    if shipped.resolve() in here.parents:  # ``here``: the model folder, resolved
        return shipped.parent.parent  # not resolved: in a checkout, nlp_wire/models links to ../models
    return Path(workdir) if isinstance(workdir, str) else Path.cwd()


def _encoder_folders(card: dict, root: Path) -> list[Path]:
    """The model folders whose encoder a card's model sits on: a shipped fine-tuned transformer named as
    ``base_encoder``, or a model folder (one with a card) as ``model.name_or_path``, relative to ``root``.
    Installed base encoders (``minilm``, ``mpnet``) come before any folder of that name, as when loading, and
    have no records of ours."""
    from .encoders import ENCODERS, shipped_encoder

    base = card.get("base_encoder")
    path = card.get("model", {}).get("name_or_path") if isinstance(card.get("model"), dict) else None
    folders = [shipped_encoder(base) if isinstance(base, str) else None,
               root / path if isinstance(path, str) and path not in ENCODERS and (root / path / MODEL_CARD).is_file()
               else None]
    return list({f.resolve(): f for f in folders if f is not None}.values())  # both may name one folder


def seen_sources(model: str | Path, data: str) -> list[Path]:
    """The training sources of ``model`` (a shipped name or folder) that are ``data``'s stories, hold them or
    lie inside them: non-empty means a score on ``data`` is not held out. ``data`` as ``nlp-wire evaluate``
    reads it (``RECORDS::LABELS.csv`` compares the records: a model that saw the stories, labeled or not,
    has seen them)."""
    from ..dataset import split_labels

    where = Path(split_labels(data)[0]).resolve()
    return [s for s in training_sources(resolve_model(model)) if s == where or where in s.parents or s in where.parents]
