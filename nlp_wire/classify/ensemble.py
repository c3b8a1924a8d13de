"""Several trained classifiers behind one: the weighted average of their probabilities.

A TF-IDF model and a fine-tuned transformer make different mistakes (the first misses topic stories
worded unlike its training data, the second over-calls topics on stories that only mention them), so
averaging them is more accurate than either. A saved ensemble is a model card listing its members'
folders (relative to it) with their weights: either sub-folders written by :meth:`save_pretrained`, or
existing model folders beside it, linked by :func:`link_ensemble` without copying their weights. Like
every model folder, it runs no code on load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from ..outputs import first_few
from .base import MODEL_CARD, ModelLoadError, WireClassifier, read_model_card, write_model_card
from .single import load_single

__all__ = ["EnsembleClassifier", "apply_label_bias", "link_ensemble", "normalize_weights", "shared_encoder_groups",
           "input_settings"]


class EnsembleClassifier(WireClassifier):
    """Average the probabilities of ``members`` (same labels, same input settings) with ``weights``.

    Args:
        members: Named trained classifiers, e.g. ``{"minilm": ..., "baseline": ...}``.
        weights: One weight per member (default: equal); normalised to sum to 1.
        threshold: Optional confidence threshold for :meth:`predict`.
        label_bias: Optional label -> log-multiplier of its averaged probability (renormalised after), the
            decision rule a protocol chose (``default_bias``): ``{"other": -0.5}`` lets a topic win on less
            evidence.

    Raises:
        ValueError: No members, members whose labels or input settings differ, bad weights or a bias on an
            unknown label.
    """

    def __init__(self, members: dict[str, WireClassifier], weights: dict[str, float] | None = None,
                 threshold: float | None = None, label_bias: dict[str, float] | None = None):
        if not members:
            raise ValueError("an ensemble needs at least one member")
        first_name, first = next(iter(members.items()))
        for name, member in members.items():
            if list(member.labels) != list(first.labels):
                raise ValueError(f"member {name!r} has labels {member.labels}, {first_name!r} has {first.labels}")
            if _input_settings(member) != _input_settings(first):
                raise ValueError(f"member {name!r} reads stories differently from {first_name!r}: "
                                 f"{_input_settings(member)} vs {_input_settings(first)}")
        self.members = dict(members)
        self.weights = normalize_weights(list(members), weights)
        self.labels = list(first.labels)
        self.data_config = first.input_config
        self.threshold = threshold
        self.label_bias = _check_bias(label_bias or {}, self.labels)

    def _proba_texts(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        total = np.zeros((len(texts), len(self.labels)), dtype=np.float64)
        for names in shared_encoder_groups(self.members):
            first = self.members[names[0]]
            if len(names) == 1:
                total += self.weights[names[0]] * first._proba_texts(texts, batch_size)
                continue
            total += first.map_batches(texts, batch_size, self._heads_on_one_encoder(names), len(self.labels))
        return apply_label_bias(total, self.label_bias, self.labels).astype(np.float32)

    def _heads_on_one_encoder(self, names: list[str]):
        """Model inputs -> the weighted probabilities of ``names`` (heads on one frozen encoder): the batch is
        encoded and pooled once, and every head reads the same rows, batch by batch as each member would."""
        pool = self.members[names[0]].model.pool

        def weighted(inputs):
            rows = pool(**inputs)
            return sum(self.weights[name] * self.members[name].head_scores(rows) for name in names)

        return weighted

    def save_pretrained(self, folder: str | Path) -> Path:
        """Write each member into a sub-folder of ``folder`` (named after it) and the card that lists them.

        Raises:
            ValueError: A member cannot be saved (cast or quantized); nothing is written then.
        """
        for member in self.members.values():
            getattr(member, "check_savable", lambda: None)()  # before any folder is made
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths: dict[str, str] = {}
        for i, (name, member) in enumerate(self.members.items()):
            sub = Path(name).name or f"member{i}"
            sub = sub if sub not in paths.values() and sub not in (".", "..") else f"member{i}"
            member.save_pretrained(folder / sub)
            paths[name] = sub
        _write_card(folder, self, paths)
        self._write_training_record(folder)  # its members' sources: they were loaded without records of their own
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str = "cpu", threshold: float | None = None,
                        quantize: bool = False, runtime: str = "torch", dtype: str = "float32"
                        ) -> "EnsembleClassifier":
        """Load a folder written by :meth:`save_pretrained` or :func:`link_ensemble`.

        ``device``, ``quantize``, ``runtime`` and ``dtype`` apply to its transformer members (see
        :func:`~nlp_wire.load_classifier`).

        Raises:
            ModelLoadError: The card is not an ensemble's, lists no members, has a malformed entry, or names a
                member folder that cannot be loaded or is itself an ensemble (the message names it).
        """
        folder = Path(folder)
        card = read_model_card(folder)
        listed = card.get("members")
        if card["kind"] != "ensemble" or not isinstance(listed, list) or not listed:
            raise ModelLoadError(f"{folder}: not an ensemble model folder (no members in its card)")
        members, weights = {}, {}
        for entry in listed:
            if not (isinstance(entry, dict) and isinstance(entry.get("path"), str) and entry["path"]
                    and isinstance(entry.get("weight", 1.0), (int, float))):
                raise ModelLoadError(f"{folder}: bad member entry {json.dumps(entry)} "
                                     "(needs a \"path\" relative to the ensemble and a numeric \"weight\")")
            if read_model_card(folder / entry["path"])["kind"] == "ensemble":  # also rules out cycles
                raise ModelLoadError(f"{folder / entry['path']}: an ensemble cannot be a member of {folder}")
            members[entry["path"]] = load_single(folder / entry["path"], device=device, quantize=quantize,
                                                 runtime=runtime, dtype=dtype)
            weights[entry["path"]] = float(entry.get("weight", 1.0))
        try:
            bias = card.get("label_bias") or {}
            if not isinstance(bias, dict):
                raise ValueError(f"label_bias must map labels to numbers, not {json.dumps(bias)}")
            ensemble = cls(members, weights, threshold=card.get("threshold") if threshold is None else threshold,
                           label_bias=bias)
        except ValueError as exc:
            raise ModelLoadError(f"{folder}: {exc}") from None
        for names in shared_encoder_groups(ensemble.members):  # one copy of a frozen encoder in memory
            for name in names[1:]:
                ensemble.members[name].model.encoder = ensemble.members[names[0]].model.encoder
        return ensemble


def link_ensemble(folder: str | Path, members: dict[str, float], device: str = "cpu",
                  label_bias: dict[str, float] | None = None, overwrite: bool = False) -> EnsembleClassifier:
    """Make ``folder`` an ensemble of existing model folders, referenced by relative path (nothing copied).

    Args:
        folder: The ensemble folder to write (created if needed); it holds only the model card. It must be new
            or empty, or with ``overwrite`` an ensemble linked earlier (a folder holding only its card): a
            folder holding a trained model is never written over.
        members: Member model folder or shipped model name -> weight.
        device: Where to load the members while checking that they agree.
        label_bias: See :class:`EnsembleClassifier` (written to the card).
        overwrite: Replace an ensemble linked earlier in ``folder``.

    Returns:
        The loaded ensemble.

    Raises:
        ModelLoadError: A member folder cannot be loaded.
        ValueError: ``folder`` is not new, empty or (with ``overwrite``) a linked ensemble; a member is an
            ensemble or given twice (under two names of one folder); the members' labels or input settings
            differ; or the weights are bad.
    """
    import os

    from .catalog import resolve_model

    folder = Path(folder)
    _check_link_folder(folder, overwrite)
    found = {str(path): resolve_model(path) for path in members}
    where: dict[Path, str] = {}
    for name, path in found.items():  # "ok" and "./ok" (or a shipped name and its folder) are one member
        if path.resolve() in where:
            raise ValueError(f"{where[path.resolve()]} and {name}: the same model given twice; give it once, "
                             "with a weight for more weight")
        where[path.resolve()] = name
    nested = [name for name, path in found.items() if read_model_card(path)["kind"] == "ensemble"]
    if nested:
        raise ValueError(f"{nested[0]}: an ensemble cannot be a member of another; list its members instead")
    loaded = {name: load_single(path, device=device) for name, path in found.items()}
    ensemble = EnsembleClassifier(loaded, {str(path): w for path, w in members.items()}, label_bias=label_bias)
    folder.mkdir(parents=True, exist_ok=True)
    # A shipped name ("baseline") is linked to the folder it names, not to a folder of that name here.
    _write_card(folder, ensemble, {name: Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()
                                   for name, path in found.items()})
    return ensemble


def _check_link_folder(folder: Path, overwrite: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder}: is a file, not a model folder")
    held = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if not held:
        return
    if held == [MODEL_CARD]:
        try:
            kind = read_model_card(folder)["kind"]
        except ModelLoadError:  # a broken card is not an ensemble to replace either
            kind = None
        if kind == "ensemble":
            if overwrite:
                return
            raise ValueError(f"{folder}: holds an ensemble linked earlier; choose a new folder or add --overwrite "
                             "to replace it")
    raise ValueError(f"{folder}: holds {first_few(held)}, not an ensemble "
                     "linked earlier; an ensemble goes into a new or empty folder (is OUT missing from the command?)")


def shared_encoder_groups(members: dict[str, WireClassifier]) -> list[list[str]]:
    """Member names grouped by the frozen encoder they share, in member order; other members stand alone.

    Heads trained on the same named frozen encoder (``base_encoder``, e.g. two MiniLM probes) read the same
    pooled features when they also tokenize, pool, compute and run alike, so the ensemble encodes once for
    them. Members on ONNX Runtime (whose graph holds the head) stand alone.
    """
    groups: dict[object, list[str]] = {}
    for name, member in members.items():
        base = getattr(member, "base_encoder", None)
        if base is None or getattr(member, "onnx", None) is not None:
            key: object = name
        else:
            cfg = member.model_config
            key = (base, cfg.max_length, cfg.pooling, member.dtype, str(member.device))
        groups.setdefault(key, []).append(name)
    return list(groups.values())


def apply_label_bias(proba: np.ndarray, bias: dict[str, float], labels: list[str]) -> np.ndarray:
    """Probabilities (rows, columns in ``labels`` order) times ``exp(bias[label])`` per label, renormalised:
    a decision rule on top of calibrated scores (a negative bias on ``other`` lets a topic win on less
    evidence). An empty ``bias`` returns ``proba`` as it is."""
    if not bias:
        return proba
    scaled = np.asarray(proba, dtype=np.float64) * np.exp([bias.get(label, 0.0) for label in labels])
    return scaled / scaled.sum(1, keepdims=True)


def normalize_weights(names: list, weights: dict | None = None) -> dict:
    """One weight per name (default: equal), scaled to sum to 1.

    Raises:
        ValueError: A name without a weight or a weight without a name, a weight that is negative, NaN,
            infinite or not a number, all zero, or a sum that overflows.
    """
    import math

    weights = {name: 1.0 for name in names} if weights is None else dict(weights)
    numbers = all(isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w) for w in weights.values())
    total = sum(weights.values()) if numbers else float("nan")
    if set(weights) != set(names) or not numbers or any(w < 0 for w in weights.values()) or not 0 < total < math.inf:
        raise ValueError(f"weights {weights} must be finite non-negative numbers, not all zero, one per member "
                         f"{list(names)}")
    return {name: weights[name] / total for name in names}


def _write_card(folder: Path, ensemble: EnsembleClassifier, paths: dict[str, str]) -> None:
    members = [{"path": paths[name], "weight": round(w, 6)} for name, w in ensemble.weights.items()]
    extra = {"label_bias": ensemble.label_bias} if ensemble.label_bias else {}
    write_model_card(folder, "ensemble", ensemble.labels, ensemble.data_config, members=members,
                     threshold=ensemble.threshold, **extra)


def _check_bias(bias: dict, labels: list[str]) -> dict[str, float]:
    """``bias`` without zero entries, each key a label and each value a finite number.

    Raises:
        ValueError: An unknown label or a value that is not a finite number (named).
    """
    import math

    out = {}
    for label, value in bias.items():
        if label not in labels:
            raise ValueError(f"label_bias names {label!r}, not one of the labels {labels}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"label_bias[{label!r}] must be a finite number, not {value!r}")
        if value:
            out[label] = float(value)
    return out


def input_settings(cfg) -> dict:
    """The data settings (of a ``DataConfig``) that shape a model's input text and answers, not its training split:
    ensemble members must agree on them."""
    return {"max_words": cfg.max_words, "lead_paragraphs": cfg.lead_paragraphs, "default_label": cfg.default_label}


def _input_settings(model: WireClassifier) -> dict:
    return input_settings(model.input_config)
