"""Grouped cross-validation on a gold set that is also used for training (e.g. ``korea_dev``).

Each fold trains on the base data plus the other folds of the gold set and predicts its own fold,
with every version of a story kept in one fold, so the gold set is scored on stories no model saw.
Either kind of classifier; a transformer fold can start from a general run and only adapt to the folds.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from ..config import TrainConfig
from ..dataset import load_examples, parse_data_spec
from .ensemble import normalize_weights
from .evaluate import score
from .train import fit_classifier, load_training_data, scale_weights

__all__ = ["cross_validate", "combine_out_of_fold"]

logger = logging.getLogger(__name__)


def cross_validate(config: TrainConfig, base_data: list[str], gold: str, folds: int = 5,
                   work_dir: str | Path | None = None) -> dict:
    """Score a training recipe (either kind) on ``gold`` (``path@weight``) by grouped k-fold.

    Args:
        config: Training config. For a transformer, ``model.name_or_path`` may be a classifier trained
            without the gold set (a general run): each fold then only continues its training.
        base_data: Sources always trained on (``path@weight`` each).
        gold: Gold labeled source; its weight applies to its training folds.
        folds: Number of folds.
        work_dir: Where fold models are written (default: a temporary folder, removed afterwards).

    Returns:
        :func:`~nlp_wire.classify.evaluate.score` metrics over all out-of-fold predictions, plus
        ``misclassified`` (id, gold, predicted, headline) and ``out_of_fold`` (id, gold, probability
        per label for every gold example), for comparing or combining recipes afterwards.
    """
    import datasets

    path, weight = parse_data_spec(gold)
    base = None
    if base_data:
        base, _ = load_training_data(replace(config, data=replace(config.data, val_size=0.0)), base_data)
    dev = load_examples(path, config=config.data, drop_duplicates=False)
    y = np.asarray(dev["label"])
    proba = np.zeros((len(y), len(config.data.labels)))
    splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=config.seed)
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        for k, (trn, tst) in enumerate(splitter.split(np.zeros(len(y)), y, dev["group"]), 1):
            fold = scale_weights(dev.select(trn), weight)
            train = fold if base is None else datasets.concatenate_datasets([base, fold])
            model = fit_classifier(config, train, None, Path(tmp) / f"fold{k}", progress=False)
            proba[tst] = model._proba_texts(dev.select(tst)["text"], config.training.eval_batch_size)
            logger.info("fold %d/%d done", k, folds)
    labels = list(config.data.labels)
    return _metrics(list(dev["id"]), y, proba, labels, list(dev["headline"]))


def combine_out_of_fold(runs: list[dict], weights: list[float] | None = None) -> dict:
    """Score the weighted average of several cross-validation runs' out-of-fold probabilities.

    Every story's probabilities in every run come from a model that never saw it, so their average is
    out-of-fold too: this measures an ensemble of the runs' recipes without training anything again.

    Args:
        runs: Results of :func:`cross_validate` on the same gold stories and labels (``out_of_fold`` kept).
        weights: One per run (default: equal).

    Raises:
        ValueError: A run lacks ``out_of_fold``, the weights are bad (see
            :func:`~nlp_wire.classify.ensemble.normalize_weights`), or the runs differ in stories, gold
            labels or label set.
    """
    if not runs or any("out_of_fold" not in run for run in runs):
        raise ValueError("every run needs its out_of_fold probabilities (rerun cross_validate)")
    share = normalize_weights(list(range(len(runs))), None if weights is None else dict(enumerate(weights)))
    first = {row["id"]: row for row in runs[0]["out_of_fold"]}
    labels = list(runs[0]["out_of_fold"][0]["scores"])
    ids = sorted(first)
    proba = np.zeros((len(ids), len(labels)))
    for k, run in enumerate(runs):
        rows = {row["id"]: row for row in run["out_of_fold"]}
        if sorted(rows) != ids or any(rows[i]["gold"] != first[i]["gold"] for i in ids):
            raise ValueError("the runs scored different stories or gold labels")
        if list(run["out_of_fold"][0]["scores"]) != labels:
            raise ValueError(f"the runs have different labels: {list(run['out_of_fold'][0]['scores'])} vs {labels}")
        proba += share[k] * np.array([[rows[i]["scores"][label] for label in labels] for i in ids])
    y = np.array([labels.index(first[i]["gold"]) for i in ids])
    headlines = {m["id"]: m.get("headline", "") for run in runs for m in run.get("misclassified", [])}
    return _metrics(ids, y, proba, labels, [headlines.get(i, "") for i in ids])


def _metrics(ids: list[str], y: np.ndarray, proba: np.ndarray, labels: list[str], headlines: list[str]) -> dict:
    pred = proba.argmax(1)
    metrics = score(y, pred, labels)
    metrics["misclassified"] = [
        {"id": ids[i], "gold": labels[y[i]], "predicted": labels[pred[i]], "headline": headlines[i]}
        for i in np.flatnonzero(pred != y)
    ]
    metrics["out_of_fold"] = [
        {"id": ids[i], "gold": labels[y[i]], "scores": dict(zip(labels, np.round(proba[i], 5).tolist()))}
        for i in range(len(y))
    ]
    return metrics
