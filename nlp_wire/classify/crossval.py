"""Grouped cross-validation on a gold set that is also used for training (e.g. ``korea_dev``).

Each fold trains on the base data plus the other folds of the gold set and predicts its own fold,
with every version of a story kept in one fold, so the gold set is scored on stories no model saw.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from ..config import TrainConfig
from ..dataset import load_examples
from .evaluate import score
from .train import load_training_data, parse_data_spec, scale_weights

__all__ = ["cross_validate"]

logger = logging.getLogger(__name__)


def cross_validate(config: TrainConfig, base_data: list[str], gold: str, folds: int = 5) -> dict:
    """Score the baseline recipe on ``gold`` (``path@weight``) by grouped k-fold.

    Args:
        config: Baseline training config (``kind: baseline``).
        base_data: Sources always trained on (``path@weight`` each).
        gold: Gold labeled source; its weight applies to its training folds.
        folds: Number of folds.

    Returns:
        :func:`~nlp_wire.classify.evaluate.score` metrics over all out-of-fold predictions, plus
        ``misclassified`` (id, gold, predicted, headline).
    """
    import datasets

    from .baseline import TfidfClassifier

    if config.kind != "baseline":
        raise ValueError("cross_validate trains the baseline recipe; use kind: baseline")
    path, weight = parse_data_spec(gold)
    base, _ = load_training_data(replace(config, data=replace(config.data, val_size=0.0)), base_data)
    dev = load_examples(path, config=config.data, drop_duplicates=False)
    y = np.asarray(dev["label"])
    pred = np.zeros_like(y)
    splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=config.seed)
    for k, (trn, tst) in enumerate(splitter.split(np.zeros(len(y)), y, dev["group"]), 1):
        fold = scale_weights(dev.select(trn), weight)
        train = datasets.concatenate_datasets([base, fold])
        model = TfidfClassifier.from_config(config.baseline, config.data)
        model.fit(train["text"], train["label"], sample_weight=np.asarray(train["weight"]))
        pred[tst] = model._proba_texts(dev.select(tst)["text"], 0).argmax(1)
        logger.info("fold %d/%d done", k, folds)
    labels = list(config.data.labels)
    metrics = score(y, pred, labels)
    metrics["misclassified"] = [
        {"id": dev["id"][i], "gold": labels[y[i]], "predicted": labels[pred[i]], "headline": dev["headline"][i]}
        for i in np.flatnonzero(pred != y)
    ]
    return metrics
