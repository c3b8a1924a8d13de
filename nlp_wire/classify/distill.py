"""The fast model learns the accurate one: distillation scored by the same protocol.

The accurate model (a weighted average of protocol candidates, see :mod:`.protocol`) labels unlabeled
in-domain stories with its probabilities; a small transformer (MiniLM) trains on those soft targets beside
the gold and sample stories. :func:`distill_cross_validate` scores that whole recipe on the outer splits
of a nested-CV run: in every split the teacher is the average that split's inner CV chose, refit on the
outer training stories only, so neither teacher nor student has seen the stories they are scored on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .evaluate import score
from .publishers import publisher_table

__all__ = ["teacher_proba", "soft_labeled", "distill_cross_validate"]

logger = logging.getLogger(__name__)


def teacher_proba(candidates: dict, weights: dict[str, float], train_idx: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """The weighted average of the chosen candidates, each fit on the ``train_idx`` gold stories, on ``texts``."""
    return sum(w * candidates[name].fit_texts(train_idx, texts) for name, w in weights.items())


def soft_labeled(texts: Sequence[str], proba: np.ndarray, labels: list[str], weight: float = 1.0, source: str = "teacher"):
    """A training dataset (the columns of ``load_training_data`` plus ``soft_label``) of teacher-labeled texts."""
    import datasets

    n = len(texts)
    features = datasets.Features({
        "id": datasets.Value("string"), "group": datasets.Value("string"), "text": datasets.Value("string"),
        "headline": datasets.Value("string"), "label": datasets.ClassLabel(names=labels),
        "source": datasets.Value("string"), "weight": datasets.Value("float32"),
        "soft_label": datasets.Sequence(datasets.Value("float32"), length=len(labels))})
    return datasets.Dataset.from_dict({
        "id": [f"{source}:{i}" for i in range(n)], "group": [f"{source}:{i}" for i in range(n)], "text": list(texts),
        "headline": [""] * n, "label": proba.argmax(1).tolist(), "source": [source] * n, "weight": [weight] * n,
        "soft_label": proba.astype(np.float32).tolist()}, features=features)


def _student_data(config, base_sources: list[str], gold, train_idx, gold_weight: float, pool, proba, pool_weight):
    import datasets

    from .train import _with_soft_labels, load_training_data, scale_weights

    parts = [scale_weights(gold.select(train_idx), gold_weight)]
    if base_sources:  # all of it: a student config's val_size would drop a part and validate on nothing
        whole = replace(config, data=replace(config.data, val_size=0.0, test_size=0.0))
        parts.insert(0, load_training_data(whole, base_sources)[0])
    labeled = datasets.concatenate_datasets(parts) if len(parts) > 1 else parts[0]
    labeled = labeled.select_columns([c for c in ("id", "group", "text", "headline", "label", "source", "weight")])
    return _with_soft_labels(labeled, soft_labeled(pool, proba, list(config.data.labels), pool_weight),
                             len(config.data.labels))


def _load_split(path: Path, key: str):
    """A finished split's ``(student, teacher, agreement)``, or None when there is none for ``key`` (another
    recipe, pool or split wrote it, or it cannot be read): that split is then run again."""
    try:
        with np.load(path) as saved:
            if "key" not in saved.files or str(saved["key"]) != key:
                logger.info("%s: from another recipe, pool or split; running the split again", path)
                return None
            return saved["student"], saved["teacher"], float(saved["agreement"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        logger.warning("%s: unreadable (%s); running the split again", path, exc)
        return None


def distill_cross_validate(spec: dict, nested: dict, student_config, base_sources: list[str], pool: Sequence[str],
                           work: str | Path, gold_weight: float = 3.0, pool_weight: float = 1.0,
                           progress: Callable[[str], None] | None = None) -> dict:
    """Score "distil the protocol's choice into ``student_config``" on the outer splits of ``nested``.

    Args:
        spec: The protocol (:func:`~.protocol.load_protocol`) whose candidates make the teacher.
        nested: A :func:`~.protocol.run_protocol` result: its ``setup`` gives the outer splits and its
            ``choices`` each split's teacher weights (chosen by that split's inner CV).
        student_config: The student's training config (a transformer).
        base_sources: Labeled sources the student always trains on (``path@weight``).
        pool: Unlabeled texts (model inputs) the teacher labels.
        work: Folder for each split's finished predictions, so an interrupted run resumes (a split is reused
            only for the same student recipe, pool, teacher choice and test stories).
        gold_weight: Weight of the outer training gold stories for the student.
        pool_weight: Weight of a teacher-labeled story.
        progress: Called with a line per outer split.

    Returns:
        :func:`~.evaluate.score` of the pooled outer predictions, ``publishers``, ``teacher`` (the teachers'
        own pooled outer score on the same splits) and ``agreement`` (student vs teacher labels on the pool).
    """
    from ..atomic import atomic_write
    from .ensemble import apply_label_bias
    from .protocol import protocol_outer, protocol_setup
    from .train import fit_classifier

    gold, labels, candidates, _ = protocol_setup(spec)
    y = np.asarray(gold["label"])
    ids = list(gold["id"])
    outer, _ = protocol_outer(spec, gold, nested["setup"]["scheme"])
    if len(outer) != len(nested["choices"]):
        raise ValueError(f"the nested run has {len(nested['choices'])} outer splits, this protocol makes {len(outer)}")
    for k, ((_, tst), choice) in enumerate(zip(outer, nested["choices"]), 1):
        if "test_ids" in choice and choice["test_ids"] != [ids[i] for i in tst]:  # recorded since 2026-12-06
            raise ValueError(f"outer split {k}: the nested run tested other stories than this protocol's split "
                             "(the protocol file or the gold set changed since the run)")
    # What a split's saved result depends on besides its own teacher choice and test stories (hashed once).
    recipe = hashlib.sha256("\n".join([json.dumps([asdict(student_config), base_sources, gold_weight, pool_weight],
                                                  sort_keys=True, default=str), *pool]).encode()).hexdigest()
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    proba = np.full((len(y), len(labels)), np.nan)
    teacher = np.full_like(proba, np.nan)
    agreement = []
    for k, ((trn, tst), choice) in enumerate(zip(outer, nested["choices"]), 1):
        done = work / f"split{k}.npz"
        # A split's result is reused only for the same student recipe, pool, teacher choice and test stories.
        key = hashlib.sha256("\n".join([recipe, json.dumps(choice.get("weights"), sort_keys=True),
                                        json.dumps(choice.get("bias", {}), sort_keys=True),
                                        *(ids[i] for i in tst)]).encode()).hexdigest()
        saved = _load_split(done, key)
        if saved is not None:
            proba[tst], teacher[tst], agree = saved
        else:
            weights = choice["weights"]
            bias = choice.get("bias", {})  # the split's decision rule
            pool_proba = apply_label_bias(teacher_proba(candidates, weights, trn, pool), bias, labels)
            teacher[tst] = apply_label_bias(teacher_proba(candidates, weights, trn, list(gold.select(tst)["text"])),
                                            bias, labels)
            train_ds = _student_data(student_config, base_sources, gold, trn, gold_weight, pool, pool_proba, pool_weight)
            model = fit_classifier(student_config, train_ds, None, work / f"split{k}_run", progress=False)
            proba[tst] = model._proba_texts(list(gold.select(tst)["text"]), student_config.training.eval_batch_size)
            agree = float((model._proba_texts(list(pool), student_config.training.eval_batch_size).argmax(1)
                           == pool_proba.argmax(1)).mean())
            with atomic_write(done, "wb") as fh:  # a crash mid-write leaves the last good file or none
                np.savez(fh, student=proba[tst], teacher=teacher[tst], agreement=agree, key=key)
        agreement.append(agree)
        if progress:
            progress(f"outer split {k}/{len(outer)}: student {score(y[tst], proba[tst].argmax(1), labels)['macro_f1']:.3f}, "
                     f"teacher {score(y[tst], teacher[tst].argmax(1), labels)['macro_f1']:.3f}, "
                     f"agreement on the pool {agree:.3f}")
    pred = proba.argmax(1)
    metrics = score(y, pred, labels)
    metrics["teacher"] = score(y, teacher.argmax(1), labels)
    metrics["agreement"] = [round(a, 4) for a in agreement]
    metrics["publishers"] = publisher_table(ids, y, pred, labels, list(gold["headline"]))
    metrics["misclassified"] = [{"id": ids[i], "gold": labels[y[i]], "predicted": labels[pred[i]],
                                 "headline": gold["headline"][i]} for i in np.flatnonzero(pred != y)]
    return metrics

