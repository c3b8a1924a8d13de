"""``train(config, data, out)``: build the training data, fit a classifier, record the run."""

from __future__ import annotations

import json
import logging
import platform
import random
import time
from pathlib import Path

import numpy as np
import yaml

from ..config import TrainConfig
from ..dataset import group_split, load_examples, parse_data_spec, split_labels
from .accelerator import is_main_process
from .evaluate import evaluate

__all__ = ["train", "fit_classifier", "load_training_data", "scale_weights"]

logger = logging.getLogger(__name__)


def scale_weights(ds, weight: float):
    """The dataset with its ``weight`` column multiplied by ``weight``."""
    if weight == 1.0:
        return ds
    return ds.map(lambda b: {"weight": [w * weight for w in b["weight"]]}, batched=True)


def load_training_data(config: TrainConfig, data: list[str], *, text_field: str | None = None,
                       headline_field: str | None = None):
    """Concatenate every source (``path@weight``) into one dataset and split off validation by group.

    ``text_field`` / ``headline_field`` name where records keep their text and headline (see
    :func:`nlp_wire.dataset.load_examples`).
    """
    import datasets

    parts = []
    specs = list(data) + [f"{p}@{config.extra_weight}" for p in config.extra_data]
    if not specs:
        raise ValueError("no training data: give at least one --data source")
    for spec in specs:
        path, weight = parse_data_spec(spec)
        source, labels_file = split_labels(path)
        ds = scale_weights(load_examples(source, labels_file, config=config.data, text_field=text_field,
                                         headline_field=headline_field), weight)
        logger.info("data %s: %d examples (weight %g)", path, len(ds), weight)
        parts.append(ds)
    full = datasets.concatenate_datasets(parts)
    if config.data.val_size <= 0:
        return full, None
    idx = group_split([int(v) for v in full["label"]], list(full["group"]), {"validation": config.data.val_size},
                      config.data.seed)
    return full.select(idx["train"]), full.select(idx["validation"])


def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("nlp_wire", "scikit-learn", "numpy", "datasets", "torch", "transformers", "accelerate"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def fit_classifier(config: TrainConfig, train_ds, val_ds, out: Path, progress: bool = True):
    """Fit the classifier ``config.kind`` on a dataset (``text``, ``label``, ``weight``); save it to ``out/model``."""
    if config.kind == "baseline":
        from .baseline import TfidfClassifier

        model = TfidfClassifier.from_config(config.baseline, config.data)
        model.fit_from_config(train_ds["text"], train_ds["label"], np.asarray(train_ds["weight"]))
        if is_main_process():  # under accelerate launch every process fits it; one writes
            model.save_pretrained(Path(out) / "model")
        return model
    from .train_transformer import train_transformer

    return train_transformer(config, train_ds, val_ds, Path(out), progress=progress)


def evenly_spaced(items: list, limit: int | None) -> list:
    """``limit`` items spread evenly over ``items`` (first and last included), or all of them."""
    if limit is None or len(items) <= limit:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, limit).round().astype(int)]


def _teacher_proba(teacher, texts: list[str], batch_size: int, desc: str) -> np.ndarray:
    """``teacher``'s probabilities of ``texts``, with a progress bar that moves every batch (an ensemble teacher
    labels a few stories a second on CPU); the same probabilities as one call (see :func:`.base.proba_by_batch`)."""
    from tqdm.auto import tqdm

    from .base import proba_by_batch

    with tqdm(total=len(texts), desc=desc, unit=" stories", disable=not is_main_process()) as bar:
        return proba_by_batch(teacher, texts, batch_size, bar)


def teacher_labeled_data(config: TrainConfig, teacher, unlabeled: list[str], batch_size: int = 64,
                         limit: int | None = None, fields: dict | None = None):
    """Stories from unlabeled sources, each with ``teacher``'s probabilities as its soft label.

    Args:
        config: The student's config (its labels and input settings).
        teacher: A loaded classifier with the same ordered labels.
        unlabeled: Story sources (folders, wire files, JSONL), each optionally ``path@weight``; labels in
            them, if any, are ignored.
        batch_size: Teacher prediction batch size.
        limit: Most stories taken from each source, evenly spaced over it (:func:`evenly_spaced`).
        fields: ``text_field`` / ``headline_field`` for JSONL records (see :func:`nlp_wire.read_stories`).

    Returns:
        A dataset with the columns of :func:`load_training_data` plus ``soft_label``.

    Raises:
        ValueError: The teacher's labels differ from the config's, or a source has no stories.
    """
    import datasets

    from ..reader import read_stories
    from ..text import model_input

    labels = list(config.data.labels)
    if list(teacher.labels) != labels:
        raise ValueError(f"the teacher's labels {list(teacher.labels)} differ from the config's {labels}")
    parts = []
    for spec in unlabeled:
        path, weight = parse_data_spec(spec)
        stories = evenly_spaced(list(read_stories(path, **(fields or {}))), limit)
        if not stories:
            raise ValueError(f"{path}: no stories to label with the teacher")
        texts = [model_input(s, config.data.max_words, config.data.lead_paragraphs) for s in stories]
        proba = _teacher_proba(teacher, texts, batch_size, f"teacher labeling {Path(path).name}")
        logger.info("teacher labeled %d stories of %s (weight %g): %s", len(texts), path, weight,
                    dict(zip(labels, np.bincount(proba.argmax(1), minlength=len(labels)).tolist())))
        parts.append({"id": [s.id for s in stories], "group": [f"unlabeled:{s.id}" for s in stories], "text": texts,
                      "headline": [s.headline for s in stories], "label": proba.argmax(1).tolist(),
                      "source": [str(path)] * len(texts), "weight": [weight] * len(texts),
                      "soft_label": proba.astype(np.float32).tolist()})
    merged = {key: [v for part in parts for v in part[key]] for key in parts[0]}
    features = datasets.Features({
        "id": datasets.Value("string"), "group": datasets.Value("string"), "text": datasets.Value("string"),
        "headline": datasets.Value("string"), "label": datasets.ClassLabel(names=labels),
        "source": datasets.Value("string"), "weight": datasets.Value("float32"),
        "soft_label": datasets.Sequence(datasets.Value("float32"), length=len(labels))})
    return datasets.Dataset.from_dict(merged, features=features)


def _with_soft_labels(labeled, soft, k: int):
    """Labeled examples (one-hot soft labels) followed by teacher-labeled ones, in one dataset."""
    import datasets

    onehot = np.eye(k, dtype=np.float32)[np.asarray(labeled["label"], dtype=np.int64)]
    labeled = labeled.select_columns([c for c in soft.column_names if c != "soft_label"])
    labeled = labeled.add_column("soft_label", onehot.tolist()).cast(soft.features)
    return datasets.concatenate_datasets([labeled, soft])


def train(config: TrainConfig, data: list[str], out: str | Path, teacher=None, unlabeled: list[str] | None = None,
          unlabeled_limit: int | None = None, teacher_name: str | None = None, text_field: str | None = None,
          headline_field: str | None = None):
    """Train the classifier ``config.kind`` on ``data`` and record the run in ``out``.

    Args:
        config: Resolved training configuration.
        data: Labeled sources (folders with labels.csv, JSONL/CSV records), each optionally ``path@weight``.
        out: Run folder; the model goes to ``out/model``.
        teacher: Distillation (transformers only): a loaded classifier whose probabilities on the
            ``unlabeled`` stories become soft training targets beside the labeled data (one-hot).
        unlabeled: Story sources for the teacher (``path@weight``).
        unlabeled_limit: Most stories the teacher labels per unlabeled source, evenly spaced.
        teacher_name: How the run record names the teacher (its folder, say).
        text_field: In JSONL/CSV records (labeled and unlabeled), the field holding the story's text;
            None: ``body``, else ``text``. Recorded in ``metrics.json`` when given.
        headline_field: In records, the field holding the headline; None: ``headline``.

    Returns:
        The trained classifier. Under ``accelerate launch`` every process trains and returns it; only
        the main process writes ``out``.
    """
    out = Path(out)
    main = is_main_process()
    if main:
        out.mkdir(parents=True, exist_ok=True)
    random.seed(config.seed)
    np.random.seed(config.seed)
    fields = {"text_field": text_field, "headline_field": headline_field}
    train_ds, val_ds = load_training_data(config, data, **fields)
    if unlabeled:
        if teacher is None or config.kind == "baseline":
            raise ValueError("unlabeled stories need a teacher and a transformer student")
        soft = teacher_labeled_data(config, teacher, unlabeled, config.training.eval_batch_size, unlabeled_limit,
                                    fields)
        train_ds = _with_soft_labels(train_ds, soft, len(config.data.labels))
    labels = list(config.data.labels)
    counts = {labels[i]: int(c) for i, c in zip(*np.unique(train_ds["label"], return_counts=True))}
    if len(counts) < 2:  # else scikit-learn's "the data contains only one class: np.int64(4)"
        raise ValueError(f"training needs examples of at least two labels; the data has "
                         f"{', '.join(f'{k} {v}' for k, v in counts.items()) or 'none'}")
    logger.info("training %s on %d examples %s", config.kind, len(train_ds), counts)
    if not main:
        return fit_classifier(config, train_ds, val_ds, out)
    (out / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
    (out / "labels.json").write_text(json.dumps({"labels": labels, "id2label": dict(enumerate(labels))}, indent=2))
    (out / "versions.json").write_text(json.dumps(_versions(), indent=2))

    start = time.perf_counter()
    model = fit_classifier(config, train_ds, val_ds, out)
    summary = {"kind": config.kind, "train_examples": len(train_ds), "train_counts": counts, "data": list(data),
               "workdir": str(Path.cwd()),  # what relative paths in data and unlabeled are relative to
               **({"record_fields": {k: v for k, v in fields.items() if v}} if text_field or headline_field else {}),
               **({"unlabeled": list(unlabeled), "unlabeled_limit": unlabeled_limit, "teacher": teacher_name or type(teacher).__name__}
                  if unlabeled else {}),
               "train_seconds": round(time.perf_counter() - start, 1),
               **({"run": model.run_info} if getattr(model, "run_info", None) else {})}
    if val_ds is not None and len(val_ds):
        summary["validation"] = evaluate(model, val_ds, out, name="validation")
        logger.info("validation macro-F1 %.4f", summary["validation"]["macro_f1"])
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return model
