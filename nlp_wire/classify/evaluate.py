"""Scoring a classifier: metrics JSON, a confusion-matrix PNG and the misclassified examples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from .base import WireClassifier, proba_by_batch
from .publishers import OTHER_PUBLISHERS, publisher_markdown, publisher_of, publisher_table

__all__ = ["score", "evaluate", "plot_confusion", "present_macro_f1", "external_scores", "macro_f1_interval"]


def score(y_true, y_pred, labels: list[str]) -> dict:
    """Accuracy, macro-F1, per-label precision/recall/F1/support and the confusion matrix."""
    idx = list(range(len(labels)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=idx, zero_division=0)
    cm = confusion_matrix(y_true, y_pred, labels=idx)
    confusions = [
        {"gold": labels[i], "predicted": labels[j], "count": int(cm[i, j])}
        for i in idx for j in idx if i != j and cm[i, j]
    ]
    return {
        "n": int(len(y_true)),
        "accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, labels=idx, average="macro", zero_division=0)), 4),
        "per_label": {
            labels[i]: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4), "f1": round(float(f[i]), 4),
                        "support": int(s[i])}
            for i in idx
        },
        "confusion_matrix": cm.tolist(),
        "worst_confusions": sorted(confusions, key=lambda c: -c["count"])[:10],
    }


def macro_f1_interval(y_true, y_pred, n_labels: int, groups=None, *, resamples: int = 2000, level: float = 0.95,
                      seed: int = 0) -> dict:
    """A percentile bootstrap interval of macro-F1: how far the score could move on another draw of stories like
    these (sampling noise only; copy unlike these, other days or outlets, can move it further).

    Whole groups are resampled (``groups``: the story group of each story, so that the versions of one story,
    ``(LEAD)``, ``(2nd LD)`` ..., come and go together); without groups, single stories. Macro-F1 is computed
    as :func:`score` does: over all ``n_labels`` labels, 0 for a label neither present nor predicted in the data;
    a resample that draws no story of a label the data has (nor predicts it) averages over the others.

    Args:
        y_true, y_pred: Label indices.
        n_labels: Number of labels.
        groups: Optional group key of every story.
        resamples: Bootstrap resamples.
        level: Coverage of the interval.
        seed: Seed of the resampling (the interval is deterministic).

    Returns:
        ``{"low", "high", "level", "resamples", "unit"}`` (``unit``: ``"story group"`` or ``"story"``, with
        ``"units"``: how many were resampled).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if len(y_true) == 0 or len(y_true) != len(y_pred):
        raise ValueError("macro_f1_interval needs as many predictions as gold labels, at least one")
    if not 0 < level < 1 or resamples < 1:
        raise ValueError("level must lie between 0 and 1, and resamples be >= 1")
    keys = np.arange(len(y_true)) if groups is None else np.unique(np.asarray(groups, dtype=object).astype(str),
                                                                   return_inverse=True)[1]
    n_units, k = int(keys.max()) + 1, n_labels
    # one confusion matrix per unit; a resample's confusion matrix is their sum weighted by how often each was drawn
    cells = np.zeros((n_units, k * k))
    np.add.at(cells, (keys, y_true * k + y_pred), 1)
    draws = np.random.default_rng(seed).multinomial(n_units, np.full(n_units, 1 / n_units), size=resamples)
    cm = (draws @ cells).reshape(resamples, k, k)
    tp = np.diagonal(cm, axis1=1, axis2=2)
    denominator = cm.sum(1) + cm.sum(2)  # (tp + fp) + (tp + fn)
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    # A label of the data that a resample happens to leave out entirely is not scored there (its 0 would be an
    # artifact of the draw); a label absent from the data itself counts 0 in every resample, as in the score.
    absent = np.bincount(y_true, minlength=k)[:k] + np.bincount(y_pred, minlength=k)[:k] == 0
    scored = (denominator > 0) | absent
    f1 = (f1 * scored).sum(1) / scored.sum(1)
    low, high = np.quantile(f1, [(1 - level) / 2, (1 + level) / 2])
    return {"low": round(float(low), 4), "high": round(float(high), 4), "level": level, "resamples": resamples,
            "unit": "story" if groups is None else "story group", "units": n_units}


def plot_confusion(cm, labels: list[str], path: str | Path, title: str = "") -> None:
    """Write a confusion-matrix heat map (rows gold, columns predicted) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 2, 1.1 * len(labels) + 1.5))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def evaluate(model: WireClassifier, dataset, out: str | Path | None = None, batch_size: int = 64, name: str = "eval",
             progress: bool = True) -> dict:
    """Score ``model`` on a labeled ``datasets.Dataset`` (columns ``text``, ``label``, ``id``).

    Args:
        model: A loaded classifier.
        dataset: Labeled examples whose ClassLabel names match the model's labels.
        out: Folder for ``{name}_metrics.json`` (with ``macro_f1_interval``: a 95 % bootstrap interval over story
            groups, see :func:`macro_f1_interval`), ``{name}_confusion.png``, ``{name}_misclassified.jsonl`` and,
            when the story ids name at least two known outlets, ``{name}_publishers.md`` (the ``publishers``
            entry of the metrics: accuracy and errors by outlet).
        batch_size: Prediction batch size.
        name: File-name prefix.
        progress: Show a progress bar on a terminal, moving with every batch.

    Raises:
        ValueError: The data's labels differ from the model's, there is no example, or ``batch_size`` < 1.
    """
    from tqdm.auto import tqdm

    if not hasattr(dataset, "features"):  # a DatasetDict (load_examples(split=True)): which split?
        raise TypeError(f"evaluate takes one split of a DatasetDict, e.g. dataset[{next(iter(dataset), 'test')!r}]")
    names = dataset.features["label"].names
    if list(names) != list(model.labels):
        raise ValueError(f"the data's labels {names} differ from the model's {model.labels}")
    if len(dataset) == 0:
        raise ValueError("no labeled examples to evaluate")
    texts = list(dataset["text"])
    if out is not None:  # a bad folder fails now, not after minutes of predictions
        Path(out).mkdir(parents=True, exist_ok=True)
    with tqdm(total=len(texts), desc=f"predicting ({name})", unit=" stories", disable=None if progress else True) as bar:
        proba = proba_by_batch(model, texts, batch_size, bar)
    pred = model.decide(proba)  # the answers predict() gives, threshold included
    gold = np.asarray(dataset["label"])
    metrics = score(gold, pred, list(model.labels))
    groups = list(dataset["group"]) if "group" in dataset.column_names else None
    metrics["macro_f1_interval"] = macro_f1_interval(gold, pred, len(model.labels), groups)
    if model.threshold is not None:
        metrics["threshold"] = model.threshold
    ids = list(dataset["id"]) if "id" in dataset.column_names else []
    if len({publisher_of(i) for i in ids} - {OTHER_PUBLISHERS}) >= 2:
        headlines = list(dataset["headline"]) if "headline" in dataset.column_names else None
        metrics["publishers"] = publisher_table(ids, gold, pred, list(model.labels), headlines)
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        plot_confusion(metrics["confusion_matrix"], list(model.labels), out / f"{name}_confusion.png",
                       f"{name}: macro-F1 {metrics['macro_f1']:.3f}")
        if "publishers" in metrics:
            (out / f"{name}_publishers.md").write_text(publisher_markdown(metrics["publishers"]), encoding="utf-8")
        with open(out / f"{name}_misclassified.jsonl", "w", encoding="utf-8") as fh:
            ids = ids or list(dataset["id"])  # read once above when the data has ids
            for i in np.flatnonzero(pred != gold):
                fh.write(json.dumps({"id": ids[i], "gold": names[gold[i]], "predicted": names[pred[i]],
                                     "score": round(float(proba[i, pred[i]]), 4), "text": texts[i][:300]},
                                    ensure_ascii=False) + "\n")
    return metrics


def present_macro_f1(metrics: dict, min_support: int) -> tuple[float, list[str]]:
    """Macro-F1 over the labels with at least ``min_support`` gold stories in ``metrics`` (a :func:`score`
    result), and those labels: on a set without some topics (no covid in 2015-17 copy), the usual macro-F1
    averages in zeros and a handful of stories of a rare topic swings it."""
    kept = [label for label, m in metrics["per_label"].items() if m["support"] >= min_support]
    if not kept:
        raise ValueError(f"no label has {min_support} or more gold stories")
    return round(float(np.mean([metrics["per_label"][label]["f1"] for label in kept])), 4), kept


def external_scores(names: list[str], data: str, min_support: int = 30, batch_size: int = 32,
                    progress: bool = True) -> dict:
    """Score shipped models on a labeled set none of them chose anything on: an out-of-protocol check.

    Args:
        names: Shipped model names or folders (see ``nlp-wire models``).
        data: Labeled data (``RECORDS::LABELS.csv``, a folder with labels.csv, ...) as ``nlp-wire evaluate``
            reads it.
        min_support: Labels with fewer gold stories are reported but left out of ``macro_f1_present``.
        batch_size: Prediction batch size.
        progress: Progress bars.

    Returns:
        Per model: :func:`score` metrics plus ``macro_f1_present`` and ``labels_scored``; or, for a model
        whose records say it trained on ``data``'s stories (labeled, or unlabeled for a teacher or
        self-training: :func:`~.catalog.seen_sources`), ``{"skipped": ...}`` (its score would not be a check).
    """
    from ..dataset import load_examples, split_labels
    from . import load_classifier
    from .catalog import seen_sources

    source, labels_file = split_labels(data)
    out = {}
    for name in names:
        seen = seen_sources(name, data)
        if seen:
            out[name] = {"skipped": f"trained on {seen[0]}"}
            continue
        model = load_classifier(name)
        ds = load_examples(source, labels_file, config=model.input_config, drop_duplicates=False)
        metrics = evaluate(model, ds, batch_size=batch_size, name=name, progress=progress)
        metrics["macro_f1_present"], metrics["labels_scored"] = present_macro_f1(metrics, min_support)
        out[name] = metrics
    return out
