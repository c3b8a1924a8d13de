"""What every topic classifier shares: predictions, thresholds, the model card, and loading by folder."""

from __future__ import annotations

import json
import logging
import re
import warnings
from pathlib import Path
from typing import Any, Iterable, Sequence, TypeVar

import numpy as np

from ..checks import whole_number
from ..config import ConfigError, DataConfig, build_config
from ..story import WireFormatError
from ..text import model_input

logger = logging.getLogger(__name__)
_WORD = re.compile(r"\w")

__all__ = ["Prediction", "NoWordsWarning", "WireClassifier", "MODEL_CARD", "read_model_card", "write_model_card", "ModelLoadError"]

MODEL_CARD = "nlp_wire_model.json"
T = TypeVar("T")


class ModelLoadError(ValueError):
    """A model folder is missing, incomplete or of an unknown kind (the message names the folder)."""


class Prediction(str):
    """One classifier answer: the label itself (a ``str``), with its score and every label's probability.

    A Prediction is its label string, so ``predict``'s output goes straight into scikit-learn's metrics and
    scorers (``f1_score(y, clf.predict(X))``, ``cross_val_score(..., scoring="f1_macro")``), into
    ``pandas``, or compares with ``== "crime"``; ``label``, ``score`` and ``scores`` give the rest. Two
    Predictions are equal when label, score and scores all are, so ``Counter(preds)`` and ``set(preds)`` keep two
    answers of one label apart when their scores differ: count labels with ``Counter(p.label for p in preds)``.

    Args:
        label: The predicted label (``default_label`` when the top probability is below the threshold, or when
            every label is equally likely: a story without words).
        score: The model's probability of ``label`` (below the threshold: of the default label, not of the
            top one; ``scores`` has both).
        scores: Probability of every label.
    """

    label: str
    score: float
    scores: dict[str, float]

    def __new__(cls, label: str, score: float, scores: dict[str, float] | None = None):
        self = super().__new__(cls, label)
        self.label, self.score, self.scores = str(label), float(score), dict(scores or {})
        return self

    def __getnewargs__(self):  # pickle and copy rebuild it from these
        return self.label, self.score, self.scores

    def __repr__(self) -> str:
        return f"Prediction(label={self.label!r}, score={self.score!r}, scores={self.scores!r})"

    def __eq__(self, other) -> bool:
        if isinstance(other, Prediction):
            return (self.label, self.score, self.scores) == (other.label, other.score, other.scores)
        return str.__eq__(self, other)

    def __ne__(self, other) -> bool:
        return not self == other

    __hash__ = str.__hash__  # equal Predictions have equal labels

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": round(self.score, 6), "scores": {k: round(v, 6) for k, v in self.scores.items()}}


_SAVED_RECORD = "written by save_pretrained"


def _written_by_save(record: Path) -> bool:
    """Whether a ``metrics.json`` is one :meth:`WireClassifier._write_training_record` wrote (replaced by a later
    save into the folder), not a training run's."""
    try:
        return str(json.loads(record.read_text(encoding="utf-8")).get("record", "")).startswith(_SAVED_RECORD)
    except (OSError, ValueError, AttributeError):
        return False


class WireClassifier:
    """Base of the classifiers: turns stories/strings into model input and probabilities into answers.

    Subclasses set ``labels`` (ordered, the one source of truth), ``data_config`` and implement
    ``_proba_texts(texts, batch_size)``.
    """

    labels: list[str]
    data_config: DataConfig
    threshold: float | None = None
    # Set by load_classifier: the folder it came from and the training sources its records name (absolute), so
    # save_pretrained elsewhere keeps a record of them and ``nlp-wire evaluate`` still sees what it was trained on.
    loaded_from: Path | None = None
    trained_on: tuple[Path, ...] = ()

    def _write_training_record(self, folder: str | Path) -> None:
        """Beside a model saved into a new folder: ``metrics.json`` naming the training sources of the model it
        was loaded from (none for a model trained or refit in this process: its run writes its own record)."""
        folder = Path(folder)
        record = folder / TRAINING_RECORD
        if not self.trained_on or (self.loaded_from and folder.resolve() == self.loaded_from):
            return
        if record.exists() and not _written_by_save(record):  # a run's own record stays
            return
        record.write_text(json.dumps({
            "data": [str(p) for p in self.trained_on],
            "record": f"{_SAVED_RECORD}: the training sources named by the records of {self.loaded_from}",
        }, indent=2) + "\n", encoding="utf-8")

    @property
    def input_config(self) -> DataConfig:
        """How this model reads stories (``data_config``; a baseline built without one reads them the default way)."""
        return self.data_config

    def texts(self, items: Iterable[Any]) -> list[str]:
        """Model input texts of stories, wire strings, plain strings or records.

        One story given alone (a string, a :class:`~nlp_wire.Story` or a record) counts as one item, never
        as a sequence of characters or fields.
        """
        cfg = self.input_config
        out = []
        for i, item in enumerate(_as_items(items)):
            try:
                out.append(model_input(item, cfg.max_words, cfg.lead_paragraphs))
            except WireFormatError as exc:  # which of thousands: "<string>:1" names no item
                where = exc.path or f"item {i} of the input"
                raise WireFormatError(exc.message + (f" (item {i} of the input)" if exc.path else ""), where,
                                      exc.line if exc.path else None) from None
            except TypeError as exc:
                raise TypeError(f"item {i} of the input: {exc}") from None
        return out

    def _proba_texts(self, texts: Sequence[str], batch_size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def predict_proba(self, items: Iterable[Any], batch_size: int = 64) -> np.ndarray:
        """Probabilities, shape ``(n, len(labels))``, columns in ``labels`` order. An item whose model input has
        no word (an empty story, a dateline alone) gets equal probabilities, which :meth:`decide` answers with
        the default label; a warning says how many there were."""
        return proba_by_batch(self, self.texts(items), batch_size)

    def predict(self, items: Iterable[Any], batch_size: int = 64, threshold: float | None = None) -> list[Prediction]:
        """Predict a label for each item.

        Args:
            items: :class:`~nlp_wire.Story` objects, wire-format strings, plain text or records.
            batch_size: Items per forward pass.
            threshold: Answer ``data_config.default_label`` when the top probability is below it
                (default: the model's own ``threshold``, None for none).
        """
        return self.answers(self.predict_proba(_as_items(items), batch_size=batch_size), threshold)

    def answers(self, proba: np.ndarray, threshold: float | None = None) -> list[Prediction]:
        """The :class:`Prediction` of each row of probabilities, by :meth:`decide`."""
        return [Prediction(self.labels[k], float(row[k]), {l: float(p) for l, p in zip(self.labels, row)})
                for k, row in zip(self.decide(proba, threshold), proba)]

    def decide(self, proba: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """The label index answered for each row of probabilities: the top label, or the default label where the
        top probability is below ``threshold`` (default: the model's own ``threshold``, None for none) or where all
        labels are equally likely. The one rule :meth:`predict` and :func:`~nlp_wire.classify.evaluate.evaluate`
        answer by."""
        threshold = threshold if threshold is not None else self.threshold
        threshold = None if threshold is None else check_threshold(threshold)  # clf.threshold = 2 set by hand too
        proba = np.asarray(proba)
        top = proba.argmax(1)  # an empty (0, k) array gives an empty answer
        undecided = proba.max(1) == proba.min(1)  # no label preferred: a text without words
        if threshold is not None:
            undecided |= proba[np.arange(len(top)), top] < threshold
        return np.where(undecided, list(self.labels).index(self.input_config.default_label), top)


def length_order(texts: Sequence[str]) -> list[int]:
    """The indices of ``texts`` shortest first (a stable sort): the order
    :meth:`~nlp_wire.classify.transformer.TransformerClassifier.map_batches` cuts its batches from, so that
    padding stays small."""
    return sorted(range(len(texts)), key=lambda i: len(texts[i]))


def proba_with_words(model: WireClassifier, texts: Sequence[str], batch_size: int, bar=None) -> tuple[np.ndarray, int]:
    """``model``'s probabilities of model-input ``texts``, and how many of them have no word.

    A text without a word is not shown to the model (which would answer it with whatever its bias prefers) and
    gets equal probabilities. The others go to one ``_proba_texts`` call, or with ``bar`` (a tqdm bar) to one call
    per batch, cut from the length order that one call sorts by: the same batches, so the same probabilities
    (bfloat16 and int8 results depend on the batch), and the bar moves with every batch.
    """
    _check_batch_size(batch_size)
    worded = [i for i, text in enumerate(texts) if _WORD.search(text)]
    shown = [texts[i] for i in worded]
    found = None
    if shown and bar is None:
        found = model._proba_texts(shown, batch_size)
    elif shown:
        order = length_order(shown)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            part = model._proba_texts([shown[i] for i in rows], batch_size)
            if found is None:
                found = np.empty((len(shown), part.shape[1]), part.dtype)
            found[rows] = part
            bar.update(len(rows))
    proba = np.full((len(texts), len(model.labels)), 1.0 / len(model.labels),
                    found.dtype if found is not None else np.float32)
    if found is not None:
        proba[worded] = found
    if bar is not None and len(shown) < len(texts):
        bar.update(len(texts) - len(shown))
    return proba, len(texts) - len(shown)


def proba_by_batch(model: WireClassifier, texts: Sequence[str], batch_size: int, bar=None) -> np.ndarray:
    """:func:`proba_with_words`, with one warning that counts the texts without words (if any)."""
    proba, wordless = proba_with_words(model, texts, batch_size, bar)
    if wordless:  # a warning, not a log line: shown once per message, and warnings.filterwarnings silences it
        warnings.warn(NoWordsWarning(
            f"{wordless} of {len(texts)} stories have no words to classify (empty, or a dateline alone): each gets "
            f"equal scores and the default label {model.input_config.default_label!r}"), stacklevel=3)
    return proba


class NoWordsWarning(UserWarning):
    """Some stories given to predict had no words to classify (silence with ``warnings.filterwarnings``)."""


def _as_items(items: Any) -> list:
    """A list of items; a lone story (string, bytes, Story or record) is a list of one. A pandas DataFrame gives
    one record per row; a ``datasets.Dataset`` of :func:`~nlp_wire.load_examples` its ``text`` column (model
    input already, which reads as itself), any other Dataset one record per row."""
    from ..story import Story

    if hasattr(items, "column_names") and isinstance(items.column_names, dict):  # a DatasetDict: which split?
        raise TypeError(f"predict takes one split of a DatasetDict, e.g. ds[{next(iter(items.column_names), 'test')!r}]")
    if isinstance(items, (str, Story, dict)):
        return [items]
    if isinstance(items, (bytes, bytearray)):
        raise TypeError("predict takes stories as str, not bytes: decode them first (UTF-8 for wire files)")
    if hasattr(items, "column_names") and hasattr(items, "features"):  # a datasets.Dataset
        return list(items["text"]) if "text" in items.column_names else list(items)
    if hasattr(items, "columns") and hasattr(items, "to_dict"):  # a pandas DataFrame: its rows, not its column names
        return items.to_dict("records")
    try:
        return list(items)
    except TypeError:
        raise TypeError(f"predict takes a story (a string, a Story or a record dict) or a list of them, "
                        f"not {type(items).__name__}") from None


def check_threshold(threshold: Any) -> float:
    """``threshold`` as a float, if it is a probability (0 to 1).

    Raises:
        ValueError: Anything else (a bool, a string, nan, a number outside 0..1).
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) \
            or not 0.0 <= threshold <= 1.0:  # nan fails both comparisons
        raise ValueError(f"threshold must be a probability between 0 and 1, not {threshold!r}")
    return float(threshold)


def _check_batch_size(batch_size: Any) -> None:
    whole_number("batch_size", batch_size, 1)


TRAINING_RECORD = "metrics.json"  # a training run's record, beside its model or one folder up


def write_model_card(folder: str | Path, kind: str, labels: list[str], data_config: DataConfig, **extra) -> None:
    """Write ``nlp_wire_model.json``: kind, ordered labels and input settings of a saved model."""
    from dataclasses import asdict

    card = {"kind": kind, "labels": list(labels), "data": asdict(data_config),
            **{key: value for key, value in extra.items() if value is not None}}  # no "threshold": null
    Path(folder, MODEL_CARD).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")


def read_model_card(folder: str | Path) -> dict:
    """Read and check a model folder's card: its kind, labels, threshold and data settings.

    Raises:
        ModelLoadError: No such folder, no card, or a card that cannot be read or has a bad field (the
            message names the folder, the card and the field).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelLoadError(f"{folder}: no such model folder")
    path = folder / MODEL_CARD
    if not path.is_file():
        if (folder / "model" / MODEL_CARD).is_file():
            raise ModelLoadError(f"{folder}: a training run folder, not a model; did you mean {folder / 'model'}?")
        raise ModelLoadError(f"{folder}: not an nlp_wire model folder (no {MODEL_CARD}); train one with `nlp-wire train`")
    card = read_json_file(folder, MODEL_CARD)
    where = f"{folder}: {MODEL_CARD}"
    if not isinstance(card.get("kind"), str) or not isinstance(card.get("labels"), list):
        raise ModelLoadError(f"{where}: model card needs 'kind' (a string) and 'labels' (a list)")
    labels = card["labels"]
    if len(labels) < 2 or not all(isinstance(l, str) and l for l in labels) or len(set(labels)) != len(labels):
        raise ModelLoadError(f"{where}: labels must be at least two distinct non-empty strings, not {_short(labels)}")
    threshold = card.get("threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                  or not 0.0 <= threshold <= 1.0):
        raise ModelLoadError(f"{where}: threshold must be a probability between 0 and 1 or null, not {_short(threshold)}")
    default_label = card_section(folder, card, "data", DataConfig).default_label
    if default_label not in labels:
        raise ModelLoadError(f"{where}: data.default_label {default_label!r} is not one of the labels {labels}")
    return card


def card_section(folder: str | Path, card: dict, key: str, cls: type[T]) -> T:
    """The settings dataclass ``cls`` built from the card's ``key`` mapping (absent: the defaults), every field
    checked for its name, type and value as a config file's would be.

    Raises:
        ModelLoadError: Not a mapping, an unknown field, or a field of the wrong type or value (named).
    """
    try:
        return build_config(cls, card.get(key, {}), f"{key}.")
    except ConfigError as exc:
        raise ModelLoadError(f"{folder}: {MODEL_CARD}: {exc}") from None


def read_json_file(folder: str | Path, name: str, expect: type = dict) -> Any:
    """The JSON document ``folder/name``, which must be an ``expect`` (a mapping by default).

    Raises:
        ModelLoadError: The file is missing, unreadable, not UTF-8, not JSON or not an ``expect`` (named).
    """
    path = Path(folder, name)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"{folder}: incomplete model folder (no {name})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelLoadError(f"{folder}: {name}: unreadable: {exc}") from None
    if not isinstance(doc, expect):
        raise ModelLoadError(f"{folder}: {name} must hold a JSON {'object' if expect is dict else expect.__name__}, "
                             f"not {type(doc).__name__}")
    return doc


def read_tensors(folder: str | Path, name: str) -> dict[str, np.ndarray]:
    """The arrays of the safetensors file ``folder/name``, as numpy.

    Raises:
        ModelLoadError: The file is missing, truncated or not safetensors (named).
    """
    from safetensors.numpy import load_file

    try:
        return load_file(str(Path(folder, name)))
    except FileNotFoundError:
        raise ModelLoadError(f"{folder}: incomplete model folder (no {name})") from None
    except Exception as exc:  # SafetensorError (truncated, bad header) is not an OSError or ValueError
        raise ModelLoadError(f"{folder}: {name}: unreadable weights: {type(exc).__name__}: {exc}") from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
