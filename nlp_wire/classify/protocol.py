"""Scores that made no choice on the stories they score: nested cross-validation and leave-one-publisher-out.

A gold set we also train on (``korea_dev``) stops predicting new copy once recipes are picked by its
cross-validation score. This module keeps every choice inside the training side of each split:

- :func:`outer_splits` makes the splits: grouped k-fold (every version of a story, and optionally every
  story of one day, on one side) or leave-one-publisher-out (a story id's prefix names its outlet).
- :func:`nested_cross_validate` scores a *selection procedure*: for every outer split it runs an inner
  grouped CV on the outer training stories only, picks the best candidate recipe (or the best weighted
  average of candidates) there, refits on the whole outer training side and predicts the outer test side.
  The pooled outer predictions are the published score; the choices made per fold are recorded.

Candidates are objects with ``fit_proba(train_idx, test_idx) -> probabilities`` over one gold set, so the
same code scores TF-IDF recipes, frozen-encoder probes or cached predictions of any model.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import re
from typing import Callable, Protocol, Sequence

import numpy as np

from .ensemble import apply_label_bias, input_settings
from .evaluate import score
from .publishers import PUBLISHERS, outlet_of, publisher_of, publisher_table

__all__ = ["PUBLISHERS", "publisher_of", "missing_encoders", "outer_splits", "choose", "nested_cross_validate", "publisher_table",
           "weight_grid", "Candidate", "RecipeCandidate", "ProbeCandidate", "load_protocol", "run_protocol",
           "build_candidates", "protocol_choice", "build_chosen", "unlabeled_texts", "allowed_labels",
           "protocol_setup", "protocol_outer"]

logger = logging.getLogger(__name__)

class Candidate(Protocol):
    """A training recipe scored on one gold set: fit on ``train_idx`` stories, return probabilities for ``test_idx``."""

    def fit_proba(self, train_idx: np.ndarray, test_idx: np.ndarray) -> np.ndarray: ...

    def fit_texts(self, train_idx: np.ndarray, texts: Sequence[str]) -> np.ndarray: ...


def _merge_groups(*keys: Sequence) -> np.ndarray:
    """Connected components of stories sharing any key (union-find): a story group and a day, say."""
    n = len(keys[0])
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for key in keys:
        first: dict = {}
        for i, k in enumerate(key):
            if k is None:
                continue
            if k in first:
                parent[find(i)] = find(first[k])
            else:
                first[k] = i
    return np.array([find(i) for i in range(n)])


def outer_splits(y: Sequence[int], groups: Sequence, scheme: str = "story", folds: int = 5, seed: int = 13,
                 ids: Sequence[str] | None = None, days: Sequence | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs in which no story group (or publisher) is on both sides.

    Args:
        y: Label index of every story.
        groups: Story group of every story (versions of one story share it).
        scheme: ``"story"``: stratified grouped k-fold; ``"publisher"``: one split per outlet of ``ids``
            (leave-one-publisher-out; :func:`~.publishers.outlet_of`: Korea Herald's two collections are one
            outlet, and outlets sharing a story group are held out together).
        folds: Folds for ``"story"``.
        seed: Shuffling seed for ``"story"``.
        ids: Story ids (needed for ``"publisher"``).
        days: Optional date of every story: with ``"story"``, all stories of one day stay on one side too,
            as new copy comes from other days.

    Raises:
        ValueError: Unknown scheme, missing ids, or fewer groups than folds.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(y)
    if scheme == "publisher":
        if ids is None:
            raise ValueError("leave-one-publisher-out needs the story ids")
        outlets = [outlet_of(i) for i in ids]
        # a story group carried by two outlets (none in korea_dev) holds both out together: never on both sides
        units = _merge_groups(outlets, list(groups))
        members: dict = {}
        for outlet, unit in zip(outlets, units):
            members.setdefault(unit, set()).add(outlet)
        held = np.array([" + ".join(sorted(members[u])) for u in units])
        return [(np.flatnonzero(held != p), np.flatnonzero(held == p)) for p in sorted(set(held))]
    if scheme != "story":
        raise ValueError(f"unknown split scheme {scheme!r}: use 'story' or 'publisher'")
    merged = _merge_groups(list(groups), list(days)) if days is not None else _merge_groups(list(groups))
    if len(set(merged)) < folds:
        raise ValueError(f"{len(set(merged))} groups cannot make {folds} folds")
    splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
    return [(trn, tst) for trn, tst in splitter.split(np.zeros(len(y)), y, merged)]


def weight_grid(n: int, step: float = 0.25, max_members: int | None = None) -> list[tuple[float, ...]]:
    """All weight vectors of ``n`` members on a simplex grid (non-negative, summing to 1).

    Args:
        n: Number of members.
        step: Grid step (``1 / step`` must be a whole number).
        max_members: At most this many non-zero weights (default: any number).

    Ordered by number of members, so that on equal scores a smaller average wins.
    """
    ticks = int(round(1 / step))
    if ticks < 1 or abs(ticks * step - 1) > 1e-9:
        raise ValueError(f"weight step {step} does not divide 1")
    limit = n if max_members is None else max_members
    out = []
    for members in range(1, min(n, limit) + 1):
        for chosen in itertools.combinations(range(n), members):
            for parts in itertools.product(range(1, ticks + 1), repeat=members):
                if sum(parts) == ticks:
                    w = [0.0] * n
                    for i, part in zip(chosen, parts):
                        w[i] = part / ticks
                    out.append(tuple(w))
    return out


def input_key(data_config) -> tuple:
    """The data settings that shape a model's input (:func:`~.ensemble.input_settings`) as a hashable key."""
    return tuple(sorted(input_settings(data_config).items()))


def buildable(members: Sequence, max_encoders: int | None = None) -> bool:
    """Whether candidates can be averaged into one shipped ensemble within an encoder budget.

    A candidate may say how it reads stories (``input_key``: the data settings that shape its model input)
    and which transformer pass it needs (``encoder_key``: None for none, equal keys for heads that share one
    frozen encoder); a candidate without them constrains nothing. Members must read stories alike (an
    ensemble gives every member the same input), and take at most ``max_encoders`` distinct passes.
    """
    inputs = {k for k in (getattr(m, "input_key", None) for m in members) if k is not None}
    passes = {k for k in (getattr(m, "encoder_key", None) for m in members) if k is not None}
    return len(inputs) <= 1 and (max_encoders is None or len(passes) <= max_encoders)


def check_fixed(fixed: dict, names: Sequence[str]) -> None:
    """Refuse ``fixed`` weights that are not positive numbers summing to 1 over candidates in ``names``.

    Raises:
        ValueError: Saying which rule failed.
    """
    if not isinstance(fixed, dict) or not fixed:
        raise ValueError(f"fixed must map candidates to weights, not {fixed!r}")
    unused = [str(n) for n in fixed if n not in names]
    if unused:
        raise ValueError(f"fixed names {', '.join(unused)}: not a candidate in use ({', '.join(names)})")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in fixed.values()):
        raise ValueError(f"fixed weights must be positive numbers, not {fixed}")
    if abs(sum(fixed.values()) - 1) > 1e-6:
        raise ValueError(f"fixed weights must sum to 1, not {sum(fixed.values()):g} ({fixed})")


def _macro_f1(y: np.ndarray, proba: np.ndarray, n_labels: int) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, proba.argmax(1), labels=list(range(n_labels)), average="macro", zero_division=0))


def _log_loss(y: np.ndarray, proba: np.ndarray, n_labels: int) -> float:
    """Mean negative log-probability of the gold label, with each label weighted by 1 / its frequency (so
    that, like macro-F1, the rare topics count as much as ``other``)."""
    counts = np.bincount(y, minlength=n_labels).astype(float)
    w = 1.0 / counts[y]
    return float(-(w * np.log(np.clip(proba[np.arange(len(y)), y], 1e-6, 1.0))).sum() / w.sum())


def bias_grid(spec: Sequence[float] | None) -> list[float]:
    """The log-multipliers ``[low, high, step]`` of a protocol's ``default_bias``, 0 first (it wins ties,
    then the smaller size)."""
    if not spec:
        return [0.0]
    low, high, step = (float(v) for v in spec)
    if not (step > 0 and low <= 0 <= high):
        raise ValueError(f"default_bias {list(spec)}: needs [low <= 0, high >= 0, step > 0]")
    n_low, n_high = int(round(-low / step)), int(round(high / step))
    return sorted({round(i * step, 6) for i in range(-n_low, n_high + 1)}, key=lambda b: (abs(b), b))


CRITERIA = {"macro_f1": lambda y, p, k: _macro_f1(y, p, k), "log_loss": lambda y, p, k: -_log_loss(y, p, k)}


def choose(candidates: dict[str, Candidate], y: Sequence[int], groups: Sequence, labels: list[str],
           idx: np.ndarray | None = None, inner_folds: int = 4, seed: int = 13, days: Sequence | None = None,
           step: float = 0.25, max_members: int | None = 3, criterion: str = "macro_f1", repeats: int = 1,
           default_bias: Sequence[float] | None = None, default_label: int = -1,
           max_encoders: int | None = None, fixed: dict[str, float] | None = None) -> dict:
    """Pick the candidate, or weighted average of candidates, with the best grouped-CV macro-F1 on ``idx``.

    This is the selection step of :func:`nested_cross_validate`; run on every gold story, it makes the
    choice for the model that ships. Ties go to the earlier weight vector of :func:`weight_grid` (fewer,
    earlier-listed candidates).

    Args:
        candidates: Name -> recipe, in order of preference for ties.
        y: Gold label index of every story.
        groups: Story group of every story.
        labels: Label names.
        idx: The stories the choice may look at (default: all).
        inner_folds: Folds of the grouped CV.
        seed: Splitting seed.
        days: Optional dates, kept on one side too.
        step: Weight grid step.
        max_members: Most candidates in one average (1: pick a single candidate).
        criterion: What the choice maximises on the inner out-of-fold probabilities: ``"macro_f1"`` or
            ``"log_loss"`` (class-balanced log-loss, negated; smoother than macro-F1 on a few hundred
            stories, so fewer lucky weight vectors win).
        repeats: Inner CV runs with different splits (seeds ``seed``, ``seed + 1``, ...); the criterion is
            averaged over them.
        default_bias: Optional ``[low, high, step]``: once the weights are chosen, also choose the
            log-multiplier of ``default_label``'s probability (see :func:`~.ensemble.apply_label_bias`) that
            maximises the winner's inner macro-F1, averaged over repeats (0, then smaller sizes, win ties). Calibrated
            probabilities are the right thing to average; macro-F1 rewards calling a rare topic on less
            evidence than argmax needs.
        default_label: Index of the label that ``default_bias`` moves (``other``).
        max_encoders: Most transformer encoder passes one prediction may take (a speed budget: probes on
            one named frozen encoder share a pass, TF-IDF takes none); default: any number. Averages whose
            members read stories differently (``input_key``) are never considered: an ensemble cannot be
            built from them.
        fixed: Optional weights (name -> weight) that are the only vector considered: the procedure then
            makes no choice of members or weights (the inner CV still reports every candidate's score, and
            ``default_bias``, if set, is still chosen).

    Returns:
        ``weights`` (name -> weight, non-zero only), ``bias`` (label name -> log-multiplier, non-zero only),
        ``macro_f1`` (the winner's inner CV macro-F1 after the bias, averaged over repeats),
        ``macro_f1_unbiased`` (before it), ``criterion`` (its criterion value) and ``single`` (every
        candidate's own inner macro-F1).
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion {criterion!r}: use one of {', '.join(CRITERIA)}")
    y = np.asarray(y)
    groups = np.asarray(groups)
    idx = np.arange(len(y)) if idx is None else np.asarray(idx)
    names = list(candidates)
    if fixed:  # checked before any fit: a bad vector should not cost an inner CV
        check_fixed(fixed, names)
        if not buildable([candidates[n] for n in fixed], max_encoders):
            budget = "" if max_encoders is None else f", or take more than {max_encoders} encoder passes"
            raise ValueError(f"fixed weights {fixed}: these members read stories differently{budget}; "
                             f"no ensemble can be built from them")
    runs = []
    for r in range(repeats):
        inner = outer_splits(y[idx], groups[idx], "story", inner_folds, seed + r,
                             days=None if days is None else np.asarray(days)[idx])
        proba = {name: np.zeros((len(idx), len(labels))) for name in names}
        for itrn, itst in inner:
            for name in names:
                proba[name][itst] = candidates[name].fit_proba(idx[itrn], idx[itst])
        runs.append(np.stack([proba[name] for name in names]))  # candidates x stories x labels
    k, yi, crit = len(labels), y[idx], CRITERIA[criterion]

    def mean_of(f, w):
        return float(np.mean([f(yi, np.tensordot(np.array(w), stacked, 1), k) for stacked in runs]))

    if fixed:
        grid = [tuple(float(fixed.get(name, 0.0)) for name in names)]
    else:
        grid = [w for w in weight_grid(len(names), step, max_members)
                if buildable([candidates[n] for n, x in zip(names, w) if x], max_encoders)]
    scored = [(mean_of(crit, w), -i, w) for i, w in enumerate(grid)]
    best_value, _, best = max(scored)
    single = {name: round(float(np.mean([_macro_f1(yi, stacked[j], k) for stacked in runs])), 4)
              for j, name in enumerate(names)}
    averaged = [np.tensordot(np.array(best), stacked, 1) for stacked in runs]

    moved = labels[default_label]

    def biased_f1(b):
        return float(np.mean([_macro_f1(yi, apply_label_bias(p, {moved: b}, labels), k) for p in averaged]))

    biases = bias_grid(default_bias)
    bias_value = max(biases, key=lambda b: (biased_f1(b), -biases.index(b)))
    return {"weights": {name: w for name, w in zip(names, best) if w},
            "bias": {moved: bias_value} if bias_value else {},
            "macro_f1": round(biased_f1(bias_value), 4), "macro_f1_unbiased": round(mean_of(_macro_f1, best), 4),
            "criterion": round(best_value, 4), "single": single}


def nested_cross_validate(candidates: dict[str, Candidate], y: Sequence[int], groups: Sequence, labels: list[str],
                          outer: list[tuple[np.ndarray, np.ndarray]], inner_folds: int = 4, seed: int = 13,
                          days: Sequence | None = None, step: float = 0.25, max_members: int | None = 3,
                          progress: Callable[[str], None] | None = None, criterion: str = "macro_f1",
                          repeats: int = 1, default_bias: Sequence[float] | None = None,
                          default_label: int = -1, max_encoders: int | None = None,
                          fixed: dict[str, float] | None = None) -> dict:
    """Score the procedure "pick the best candidate (or weighted average) by inner CV" on outer splits.

    Within each outer split, :func:`choose` looks only at the outer training stories; the winner's members
    are refit on the whole outer training side and predict the outer test stories, which no choice has
    seen. The pooled outer predictions are the procedure's score.

    Args:
        candidates: Name -> recipe (see :class:`Candidate`), in order of preference for ties.
        y: Gold label index of every story.
        groups: Story group of every story.
        labels: Label names (column order of the probabilities).
        outer: Outer splits from :func:`outer_splits`.
        inner_folds: Folds of the inner grouped CV.
        seed: Inner splitting seed.
        days: Optional dates, kept on one side in the inner splits too.
        step: Weight grid step.
        max_members: Most candidates in one average (1: pick a single candidate).
        progress: Called with a line after each outer split.
        criterion: See :func:`choose`.
        repeats: See :func:`choose`.
        default_bias: See :func:`choose`; the bias chosen inside applies to that split's outer predictions.
        default_label: See :func:`choose`.
        max_encoders: See :func:`choose`.
        fixed: See :func:`choose` (then this is plain grouped CV of one fixed recipe).

    Returns:
        :func:`~nlp_wire.classify.evaluate.score` metrics of the pooled outer predictions, plus ``choices``
        (per outer split: chosen weights and bias, inner macro-F1 of the winner and of every candidate, outer test
        size and score), ``out_of_fold`` probabilities and, per candidate, the pooled outer score it would
        have had if always chosen (``per_candidate``: for reference only; picking the best of these would be
        a choice made on the outer stories).
    """
    y = np.asarray(y)
    names = list(candidates)
    proba = np.full((len(y), len(labels)), np.nan)
    single = {name: np.full((len(y), len(labels)), np.nan) for name in names}
    choices = []
    for k, (trn, tst) in enumerate(outer, 1):
        chosen = choose(candidates, y, groups, labels, trn, inner_folds=inner_folds, seed=seed, days=days, step=step,
                        max_members=max_members, criterion=criterion, repeats=repeats, default_bias=default_bias,
                        default_label=default_label, max_encoders=max_encoders, fixed=fixed)
        for name in names:
            single[name][tst] = candidates[name].fit_proba(trn, tst)
        averaged = sum(w * single[name][tst] for name, w in chosen["weights"].items())
        proba[tst] = apply_label_bias(averaged, chosen["bias"], labels)
        choices.append({"fold": k, "n_test": int(len(tst)), "weights": chosen["weights"], "bias": chosen["bias"],
                        "inner_macro_f1": chosen["macro_f1"], "inner_single": chosen["single"],
                        "outer_macro_f1_unbiased": round(_macro_f1(y[tst], averaged, len(labels)), 4),
                        "outer_macro_f1": round(_macro_f1(y[tst], proba[tst], len(labels)), 4)})
        if progress:
            progress(f"outer split {k}/{len(outer)}: chose {chosen['weights']} bias {choices[-1]['bias']} "
                     f"(inner {chosen['macro_f1']:.3f}), "
                     f"outer {choices[-1]['outer_macro_f1']:.3f}")
    covered = ~np.isnan(proba[:, 0])
    metrics = score(y[covered], proba[covered].argmax(1), labels)
    metrics["choices"] = choices
    metrics["per_candidate"] = {name: round(_macro_f1(y[covered], single[name][covered], len(labels)), 4)
                                for name in names}
    metrics["out_of_fold"] = proba
    return metrics


class RecipeCandidate:
    """A training config fit from scratch for every split on ``base`` + the split's gold training stories.

    Any kind (``fit_classifier``); a TF-IDF baseline fits in seconds, a fine-tuned transformer in minutes.

    Args:
        config: The recipe.
        base: Dataset always trained on (``load_training_data`` columns), or None.
        gold: The gold dataset the splits index.
        gold_weight: Weight of the gold training stories.
    """

    def __init__(self, config, base, gold, gold_weight: float = 1.0):
        self.config = config
        self.base = base
        self.gold = gold
        self.gold_weight = gold_weight

    @property
    def input_key(self) -> tuple:
        """How it reads stories (see :func:`buildable`)."""
        return input_key(self.config.data)

    @property
    def encoder_key(self):
        """None for TF-IDF; a fine-tuned transformer takes a pass of its own."""
        return None if self.config.kind == "baseline" else ("recipe", id(self))

    def _train_set(self, train_idx: np.ndarray):
        import datasets

        from .train import scale_weights

        fold = scale_weights(self.gold.select(train_idx), self.gold_weight)
        return fold if self.base is None else datasets.concatenate_datasets([self.base, fold])

    def fit_proba(self, train_idx: np.ndarray, test_idx: np.ndarray) -> np.ndarray:
        import tempfile
        from pathlib import Path

        from .train import fit_classifier

        with tempfile.TemporaryDirectory() as tmp:
            model = fit_classifier(self.config, self._train_set(train_idx), None, Path(tmp), progress=False)
        return model._proba_texts(self.gold.select(test_idx)["text"], self.config.training.eval_batch_size)

    def fit_texts(self, train_idx: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """Fit on the ``train_idx`` gold stories (and the base data); probabilities of any ``texts``."""
        import tempfile
        from pathlib import Path

        from .train import fit_classifier

        with tempfile.TemporaryDirectory() as tmp:
            model = fit_classifier(self.config, self._train_set(train_idx), None, Path(tmp), progress=False)
        return model._proba_texts(list(texts), self.config.training.eval_batch_size)

    def save_model(self, train_idx: np.ndarray, folder) -> None:
        """Fit on ``train_idx`` (all gold stories for the shipped model) and write a model folder."""
        import shutil
        import tempfile
        from pathlib import Path

        from .train import fit_classifier

        with tempfile.TemporaryDirectory(dir=Path(folder).parent) as tmp:
            fit_classifier(self.config, self._train_set(train_idx), None, Path(tmp), progress=True)
            shutil.move(str(Path(tmp) / "model"), str(folder))


_FEATURES: dict[tuple, dict[str, np.ndarray]] = {}  # (encoder, max_length, pooling) -> text hash -> features


def _encoder_identity(name_or_path: str) -> str:
    """What the feature cache knows an encoder by: a named encoder's name (its weights are checked against
    a pinned package or SHA-256), else the folder with the start of its weights' SHA-256, so that an encoder
    retrained into the same folder never reads the features of the old one."""
    from pathlib import Path

    from .encoders import ENCODERS

    path = Path(name_or_path) / "model.safetensors"
    if name_or_path in ENCODERS or not path.is_file():
        return name_or_path
    stat = path.stat()
    return f"{name_or_path}@{_file_sha256(str(path), stat.st_size, stat.st_mtime_ns)[:12]}"


@functools.lru_cache(maxsize=None)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file, computed once per (path, size, modification time)."""
    from pathlib import Path

    from .encoders import _sha256

    return _sha256(Path(path))


def _shipped_name(name_or_path: str) -> str | None:
    """The name of the shipped model (``models/NAME``) a folder path points at, when heads may name it as their
    encoder (:func:`~.encoders.shipped_encoder`); else None."""
    from pathlib import Path

    from .encoders import shipped_encoder

    name = Path(name_or_path).name
    folder = shipped_encoder(name)
    return name if folder is not None and Path(name_or_path).resolve() == folder.resolve() else None


def _stored_in_float16(name_or_path: str) -> bool:
    """Whether a local model folder's ``model.safetensors`` holds float16 weights (saving it in float16 again
    loses nothing)."""
    from pathlib import Path

    from safetensors import safe_open

    path = Path(name_or_path) / "model.safetensors"
    if not path.is_file():
        return False
    with safe_open(str(path), framework="pt") as fh:
        return any(str(fh.get_slice(key).get_dtype()) == "F16" for key in fh.keys())


def _text_key(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _feature_cache(key: tuple, folder) -> dict[str, np.ndarray]:
    """The in-memory feature table of one encoder setting, filled from ``folder`` the first time it is used."""
    if key not in _FEATURES:
        table = _FEATURES[key] = {}
        if folder is not None:
            path = _feature_file(key, folder)
            if path.exists():
                with np.load(path) as npz:
                    table.update(zip(npz["keys"].tolist(), npz["features"]))
                logger.info("%s: %d cached feature rows", path, len(table))
    return _FEATURES[key]


def _feature_file(key: tuple, folder):
    from pathlib import Path

    name = "_".join(re.sub(r"[^A-Za-z0-9.-]+", "-", str(part)).strip("-") for part in key)
    return Path(folder) / f"{name}.npz"


def _save_feature_cache(key: tuple, folder) -> None:
    """Write the table, keeping rows another run (two schemes at once) wrote since this one read the file."""
    from ..atomic import atomic_write, file_lock

    table = _FEATURES[key]
    path = _feature_file(key, folder)
    with file_lock(path.with_name(path.name + ".lock")):  # no lock on Windows: the merge still keeps most rows
        if path.exists():
            with np.load(path) as npz:
                for k, row in zip(npz["keys"].tolist(), npz["features"]):
                    table.setdefault(k, row)
        with atomic_write(path, "wb") as fh:
            np.savez(fh, keys=np.array(list(table)), features=np.stack(list(table.values())))


PRIORS = ("train", "gold")  # what a probe's scores follow: the training data's class mix, or the gold stories'


def gold_prior_shift(y: np.ndarray, w: np.ndarray, gold_y: np.ndarray, k: int) -> np.ndarray:
    """Logit offsets moving scores that follow the weighted training mix of ``y`` (weights ``w``) to the
    class mix of ``gold_y`` (the label-shift correction of Saerens et al., 2002, with the target prior
    counted on in-domain gold stories). A class absent from either side keeps its score."""
    train = np.bincount(y, weights=w, minlength=k) / max(float(np.sum(w)), 1e-12)
    gold = np.bincount(gold_y, minlength=k) / max(len(gold_y), 1)
    ok = (train > 0) & (gold > 0)
    return np.where(ok, np.log(np.where(ok, gold, 1.0)) - np.log(np.where(ok, train, 1.0)), 0.0)


class ProbeCandidate:
    """A frozen-encoder linear probe (``training.freeze_encoder``) whose features are computed once.

    Fitting is the trainer's own probe: class weights ``** balance_power`` times source weights, a logistic
    regression of ``probe_C``, and the ``restore_prior`` shift, so a score here is the score of the model
    ``nlp-wire train`` makes from the same config and data.

    With ``unlabeled`` stories it self-trains once: the probe fit on the split's training stories labels
    them, those it gives at least ``threshold`` probability join the training data at ``unlabeled_weight``,
    and the probe is fit again. Only the split's training stories decide the pseudo-labels. With
    ``allowed`` (one row of allowed labels per unlabeled story, from its publisher section: see
    :func:`allowed_labels`) a story's pseudo-label is the teacher's most probable *allowed* label, its
    probability renormalized over the allowed labels before the threshold.

    Args:
        config: A transformer config with ``training.freeze_encoder`` (its probe settings are used).
        base: Dataset always trained on, or None.
        gold: The gold dataset the splits index.
        gold_weight: Weight of the gold training stories.
        unlabeled: Texts for self-training, or None.
        threshold: Least teacher probability for a pseudo-label.
        unlabeled_weight: Weight of a pseudo-labeled story.
        feature_cache: Folder keeping encoder features between runs (keyed by a hash of each text), or None.
        allowed: Boolean array, unlabeled stories x labels: the labels each may take, or None (all).
        prior: ``"train"``: scores follow the class mix of the weighted training data (``restore_prior``);
            ``"gold"``: they follow the class mix of the split's gold training stories instead (the
            outlets' own mix; the sample stories and other sources are far more even across labels).
    """

    def __init__(self, config, base, gold, gold_weight: float = 1.0, unlabeled: Sequence[str] | None = None,
                 threshold: float = 0.9, unlabeled_weight: float = 0.5, feature_cache=None,
                 allowed: np.ndarray | None = None, prior: str = "train"):
        if prior not in PRIORS:
            raise ValueError(f"prior must be 'train' or 'gold', not {prior!r}")
        self.prior = prior
        if allowed is not None and (unlabeled is None or np.shape(allowed) != (len(unlabeled), len(config.data.labels))):
            raise ValueError("allowed needs one row per unlabeled story and one column per label")
        self.allowed = None if allowed is None else np.asarray(allowed, bool)
        self.config = config
        self.base = base
        self.gold = gold
        self.gold_weight = gold_weight
        self.unlabeled = unlabeled
        self.threshold = threshold
        self.unlabeled_weight = unlabeled_weight
        self.feature_cache = feature_cache

    @property
    def input_key(self) -> tuple:
        """How it reads stories (see :func:`buildable`)."""
        return input_key(self.config.data)

    @property
    def encoder_key(self) -> tuple:
        """Heads on one named frozen encoder (``minilm``, ``mpnet``) share its pass in a shipped ensemble, as
        :func:`~.ensemble.shared_encoder_groups` groups them; an encoder from a local folder counts as a pass
        of its own (conservative: heads on one shipped fine-tuned encoder would also share it once built)."""
        from .encoders import ENCODERS

        m = self.config.model
        return (m.name_or_path, m.max_length, m.pooling) if m.name_or_path in ENCODERS else ("own", id(self))

    def _encode(self, texts: list[str]) -> np.ndarray:
        from .transformer import TransformerClassifier

        m = self.config.model
        key = (_encoder_identity(m.name_or_path), m.max_length, m.pooling)
        cache = _feature_cache(key, self.feature_cache)
        keys = [_text_key(t) for t in texts]
        todo = {k: t for k, t in zip(keys, texts) if k not in cache}
        if todo:
            clf = TransformerClassifier.from_base(m, list(self.config.data.labels), self.config.data,
                                                  device=self.config.device)
            width = clf.model.head.in_features
            order = sorted(todo)
            rows = clf.map_batches([todo[k] for k in order], self.config.training.eval_batch_size,
                                   lambda inputs: clf.model.pool(**inputs), width,
                                   progress=f"features ({m.name_or_path})")
            cache.update(zip(order, np.asarray(rows, np.float32)))
            if self.feature_cache is not None:
                _save_feature_cache(key, self.feature_cache)
        if not keys:
            return np.zeros((0, 0), np.float32)
        return np.stack([cache[k] for k in keys]).astype(np.float32)

    def features(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Pooled encoder features of ``base``, ``gold`` and ``unlabeled`` (computed on the first call; texts
        another candidate or an earlier run with the same encoder settings encoded are not encoded again)."""
        if not hasattr(self, "features_"):
            xg = self._encode(list(self.gold["text"]))
            xb = self._encode(list(self.base["text"])) if self.base is not None else np.zeros((0, xg.shape[1]), np.float32)
            xu = self._encode(list(self.unlabeled)) if self.unlabeled else None
            self.features_ = (xb, xg, xu)
        return self.features_

    def _fit(self, X, y, w, gold_y=None):
        from .train_transformer import _class_weights, _prior_shift, fit_probe

        tc = self.config.training
        k = len(self.config.data.labels)
        class_w = _class_weights(y, k, tc.balance_power)
        weight, bias = fit_probe(X, y, class_w[y] * w, tc.probe_C, k)
        restore = tc.restore_prior and tc.balance != "none"
        shift = _prior_shift(class_w) if restore else np.zeros(k)
        if self.prior == "gold" and gold_y is not None and len(gold_y):
            # the mix the scores follow: the weighted data's once class weights are undone, else the class-weighted one
            shift = shift + gold_prior_shift(y, w if restore else class_w[y] * w, gold_y, k)
        return weight, bias + shift

    @staticmethod
    def _proba(X, head) -> np.ndarray:
        logits = X @ head[0].T + head[1]
        logits -= logits.max(1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(1, keepdims=True)

    def fit_proba(self, train_idx: np.ndarray, test_idx: np.ndarray) -> np.ndarray:
        return self._proba(self.features()[1][test_idx], self._head(train_idx))

    def fit_texts(self, train_idx: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """Fit on the ``train_idx`` gold stories (and the base data); probabilities of any ``texts``."""
        return self._proba(self._encode(list(texts)), self._head(train_idx))

    def save_model(self, train_idx: np.ndarray, folder) -> None:
        """Fit the head on ``train_idx`` (all gold stories for the shipped model) and write a model folder;
        a named encoder (``mpnet``, ``minilm``) or a shipped fine-tuned one (``models/minilm_sample_ft``) is
        referenced, not copied (see ``save_pretrained``); an encoder from any other folder is copied, in
        float16 when that folder stores float16 weights (half the size, and exact)."""
        import torch

        from .encoders import ENCODERS
        from .transformer import TransformerClassifier

        weight, bias = self._head(train_idx)
        m = self.config.model
        clf = TransformerClassifier.from_base(m, list(self.config.data.labels), self.config.data, device="cpu")
        with torch.no_grad():
            clf.model.head.weight.copy_(torch.as_tensor(weight))
            clf.model.head.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))
        named = m.name_or_path if m.name_or_path in ENCODERS else _shipped_name(m.name_or_path)
        clf.save_pretrained(folder, half=not named and _stored_in_float16(m.name_or_path), base_encoder=named)

    def _head(self, train_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xb, xg, xu = self.features()
        yb = np.asarray(self.base["label"], dtype=np.int64) if self.base is not None else np.zeros(0, np.int64)
        wb = np.asarray(self.base["weight"], dtype=np.float64) if self.base is not None else np.zeros(0)
        yg = np.asarray(self.gold["label"], dtype=np.int64)
        wg = np.asarray(self.gold["weight"], dtype=np.float64) * self.gold_weight
        X = np.vstack([xb, xg[train_idx]])
        y = np.concatenate([yb, yg[train_idx]])
        w = np.concatenate([wb, wg[train_idx]])
        gold_y = yg[train_idx]
        head = self._fit(X, y, w, gold_y)
        if xu is not None:
            pu = self._proba(xu, head)
            if self.allowed is not None:
                pu = pu * self.allowed
                pu = pu / np.maximum(pu.sum(1, keepdims=True), 1e-12)
            keep = pu.max(1) >= self.threshold
            X = np.vstack([X, xu[keep]])
            y = np.concatenate([y, pu[keep].argmax(1)])
            w = np.concatenate([w, np.full(int(keep.sum()), self.unlabeled_weight)])
            head = self._fit(X, y, w, gold_y)
        return head


PROTOCOL_KEYS = {"gold": str, "folds": int, "inner_folds": int, "seed": int, "max_members": int, "step": float,
                 "criterion": str, "repeats": int, "feature_cache": str, "default_bias": list, "inner_days": bool,
                 "max_encoders": int, "candidates": dict, "use": list, "fixed": dict}
CANDIDATE_KEYS = {"config": str, "data": list, "gold_weight": float, "set": list, "unlabeled": list,
                  "unlabeled_limit": int, "threshold": float, "unlabeled_weight": float, "allowed_labels": str, "prior": str}


def missing_encoders(spec: dict) -> list[str]:
    """``"candidate: reason"`` for each candidate in use whose encoder cannot be loaded (a fine-tuned encoder
    folder not built yet, an optional encoder not installed): checked before minutes of feature work."""
    from ..config import TrainConfig, load_config
    from .base import ModelLoadError
    from .encoders import resolve_base_model

    missing = []
    for name, cand in spec["candidates"].items():
        config = load_config(TrainConfig, cand["config"], cand.get("set", []))
        if config.kind == "baseline":
            continue
        try:
            resolve_base_model(config.model.name_or_path)
        except ModelLoadError as exc:
            missing.append(f"{name}: {exc}")
    return missing


def load_protocol(path) -> dict:
    """Read and check a protocol file (see ``configs/protocol.yaml``): unknown keys are refused by name.

    Every candidate in the file is checked; with ``use: [names]`` the returned spec keeps only those, in
    that order (a round's candidates; the others stay in the file as the record of earlier rounds). With
    ``fixed: {name: weight}`` the procedure makes no choice of members or weights (see :func:`choose`).

    Raises:
        ConfigError: Unreadable file, unknown or mistyped key, no candidates, ``use`` naming a non-candidate,
            ``fixed`` weights that are not positive, do not sum to 1 or name a candidate not in use (``fixed``
            replaces the weight grid, so ``step`` and ``max_members`` do not apply to it; whether its members
            can be built into one ensemble is checked when the candidates exist, in :func:`choose`).
    """
    from ..config import ConfigError, read_yaml_mapping

    spec = read_yaml_mapping(path, "protocol")
    for key, value in spec.items():
        if key not in PROTOCOL_KEYS:
            raise ConfigError(f"{path}: unknown key {key!r} (known: {', '.join(PROTOCOL_KEYS)})")
        if not isinstance(value, PROTOCOL_KEYS[key]) and not (PROTOCOL_KEYS[key] is float and isinstance(value, int)):
            raise ConfigError(f"{path}: {key} must be a {PROTOCOL_KEYS[key].__name__}")
    if "gold" not in spec or not spec.get("candidates"):
        raise ConfigError(f"{path}: a protocol needs 'gold' and at least one of 'candidates'")
    if "default_bias" in spec:
        bias = spec["default_bias"]
        if len(bias) != 3 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bias):
            raise ConfigError(f"{path}: default_bias must be [low, high, step], three numbers, not {bias}")
        try:
            bias_grid(bias)
        except ValueError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    for name, cand in spec["candidates"].items():
        if not isinstance(cand, dict) or "config" not in cand:
            raise ConfigError(f"{path}: candidates.{name} needs a 'config'")
        for key, value in cand.items():
            if key not in CANDIDATE_KEYS:
                raise ConfigError(f"{path}: unknown key candidates.{name}.{key} (known: {', '.join(CANDIDATE_KEYS)})")
            if not isinstance(value, CANDIDATE_KEYS[key]) and not (CANDIDATE_KEYS[key] is float and isinstance(value, int)):
                raise ConfigError(f"{path}: candidates.{name}.{key} must be a {CANDIDATE_KEYS[key].__name__}")
        if cand.get("prior", "train") not in PRIORS:
            raise ConfigError(f"{path}: candidates.{name}.prior must be 'train' or 'gold', not {cand['prior']!r}")
    if "use" in spec:
        unknown = [n for n in spec["use"] if n not in spec["candidates"]]
        if unknown or not spec["use"] or len(set(spec["use"])) != len(spec["use"]):
            raise ConfigError(f"{path}: use must name candidates, each once; not candidates: "
                              f"{', '.join(map(str, unknown)) or '(none)'}")
        # The candidates a round considers; the others stay in the file as the record of earlier rounds.
        spec["candidates"] = {name: spec["candidates"][name] for name in spec["use"]}
    if "fixed" in spec:
        try:
            check_fixed(spec["fixed"], list(spec["candidates"]))
        except ValueError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        spec["fixed"] = {name: float(w) for name, w in spec["fixed"].items()}
    return spec


def unlabeled_texts(config, sources: list[str], limit: int | None) -> list[str]:
    """Model inputs of unlabeled stories: every story of each source, or ``limit`` of them evenly spaced
    (the stories ``nlp-wire train --unlabeled SOURCE --unlabeled-limit LIMIT`` gives a teacher)."""
    from ..text import model_input

    return [model_input(s, config.data.max_words, config.data.lead_paragraphs)
            for s, _ in _unlabeled_stories(sources, limit)]


def _unlabeled_stories(sources: list[str], limit: int | None, field: str | None = None) -> list[tuple]:
    """``(story, record[field] or None)`` for the unlabeled stories of each source, ``limit`` of them evenly
    spaced per source. A JSONL record and its story are read together, so a field always belongs to its
    own story (bad lines skipped and logged, as :func:`~nlp_wire.reader.read_stories` does)."""
    from ..dataset import parse_data_spec
    from ..reader import iter_record_stories, read_stories
    from .train import evenly_spaced

    out = []
    for src in sources:
        path = parse_data_spec(src)[0]
        if str(path).lower().endswith(".jsonl"):
            pairs = [(story, record.get(field) if field else None)
                     for record, story in iter_record_stories(path, lambda err: logger.warning("skipped %s", err))]
        else:
            pairs = [(story, None) for story in read_stories(path)]
        out.extend(evenly_spaced(pairs, limit))
    return out


def allowed_labels(path, labels: list[str], sources: list[str], limit: int | None) -> np.ndarray:
    """Which labels each unlabeled story may take, from a field of its JSONL record (a publisher's section).

    ``path`` is a YAML mapping (see ``configs/kh_sections.yaml``): ``field`` (the record field, e.g.
    ``category``), ``default`` (the labels of a story whose field is missing or not listed, and of every
    story of a source that is not JSONL) and ``sections`` (field value -> list of labels). Rows follow
    :func:`unlabeled_texts` of the same sources and limit.

    Raises:
        ConfigError: An unreadable file, a missing key, or a label that is not one of ``labels``.
    """
    from ..config import ConfigError, read_yaml_mapping

    spec = read_yaml_mapping(path, "allowed labels")
    field, default, sections = spec.get("field"), spec.get("default"), spec.get("sections")
    if not isinstance(field, str) or not isinstance(default, list) or not isinstance(sections, dict):
        raise ConfigError(f"{path}: needs 'field' (a string), 'default' (a list of labels) and 'sections' (a mapping)")
    for name, allowed in [("default", default), *((f"sections.{k}", v) for k, v in sections.items())]:
        if not isinstance(allowed, list) or not allowed or any(a not in labels for a in allowed):
            raise ConfigError(f"{path}: {name} must be a non-empty list of labels from {', '.join(labels)}")
    rows = []
    for _, value in _unlabeled_stories(sources, limit, field):
        names = sections.get(value, default) if isinstance(value, str) else default
        rows.append([label in names for label in labels])
    return np.array(rows, bool).reshape(-1, len(labels))


def build_candidates(spec: dict, gold, gold_weight: float = 1.0, gold_config=None) -> dict[str, Candidate]:
    """The candidates of a protocol: a :class:`ProbeCandidate` for a frozen-encoder config, else a
    :class:`RecipeCandidate`, each with its base data loaded once.

    Args:
        spec: From :func:`load_protocol`.
        gold: The gold dataset.
        gold_weight: Weight of gold training stories where a candidate sets no ``gold_weight``.
        gold_config: The data settings ``gold`` was read with, if known: candidates reading stories the same
            way use it as it is; the others get the gold stories read their way.

    Raises:
        ConfigError: ``unlabeled`` stories on a candidate that is not a frozen-encoder probe.
    """
    from dataclasses import replace

    from ..config import ConfigError, TrainConfig, load_config
    from .train import load_training_data

    out = {}
    golds: dict[tuple, object] = {input_key(gold_config): gold} if gold_config is not None else {}
    for name, cand in spec["candidates"].items():
        config = load_config(TrainConfig, cand["config"], cand.get("set", []))
        config = replace(config, data=replace(config.data, val_size=0.0))
        base = load_training_data(config, cand["data"])[0] if cand.get("data") else None
        weight = float(cand.get("gold_weight", gold_weight))
        if cand.get("prior", "train") != "train" and (config.kind == "baseline" or not config.training.freeze_encoder):
            raise ConfigError(f"candidates.{name}: prior: {cand['prior']} is a frozen-encoder probe setting")
        if cand.get("allowed_labels") and not cand.get("unlabeled"):
            raise ConfigError(f"candidates.{name}: allowed_labels restricts the pseudo-labels of 'unlabeled' "
                              "stories; it has none")
        if cand.get("unlabeled") and (config.kind == "baseline" or not config.training.freeze_encoder):
            raise ConfigError(f"candidates.{name}: self-training on unlabeled stories needs a frozen-encoder "
                              "probe (training.freeze_encoder: true)")
        gold_texts = _gold_as_read(spec, gold, config.data, golds)
        if config.kind != "baseline" and config.training.freeze_encoder:
            unlabeled = (unlabeled_texts(config, cand["unlabeled"], cand.get("unlabeled_limit"))
                         if cand.get("unlabeled") else None)
            allowed = (allowed_labels(cand["allowed_labels"], list(config.data.labels), cand["unlabeled"],
                                      cand.get("unlabeled_limit"))
                       if unlabeled and cand.get("allowed_labels") else None)
            out[name] = ProbeCandidate(config, base, gold_texts, weight, unlabeled, float(cand.get("threshold", 0.9)),
                                       float(cand.get("unlabeled_weight", 0.5)), spec.get("feature_cache"), allowed,
                                       cand.get("prior", "train"))
        else:
            out[name] = RecipeCandidate(config, base, gold_texts, weight)
    return out


def _gold_as_read(spec: dict, gold, data_config, cache: dict):
    """The gold stories as a candidate reads them: its data settings (words, lead paragraphs) make the model
    inputs of its gold stories as they make those of its training data. Same stories, order and labels as
    ``gold``; loaded once per distinct setting.

    Raises:
        ValueError: The reloaded gold set differs from ``gold`` in ids or labels.
    """
    from ..dataset import load_examples, parse_data_spec

    key = input_key(data_config)
    if key not in cache:
        texts = load_examples(parse_data_spec(spec["gold"])[0], config=data_config, drop_duplicates=False)
        if gold is not None and (list(texts["id"]) != list(gold["id"]) or list(texts["label"]) != list(gold["label"])):
            raise ValueError(f"{spec['gold']}: read with {dict(key)} it gives other stories or labels")
        cache[key] = texts
    return cache[key]


def protocol_gold(spec: dict):
    """A protocol's gold set as its runs read it (every story kept, with its ``group``), and the data config."""
    from ..config import TrainConfig, load_config
    from ..dataset import load_examples, parse_data_spec

    first = next(iter(spec["candidates"].values()))
    data_config = load_config(TrainConfig, first["config"], first.get("set", [])).data
    return load_examples(parse_data_spec(spec["gold"])[0], config=data_config, drop_duplicates=False), data_config


def protocol_setup(spec: dict):
    """The gold set, its labels, the built candidates of a protocol and the default label's index."""
    from ..dataset import parse_data_spec

    gold, data_config = protocol_gold(spec)
    labels = list(data_config.labels)
    gold_weight = parse_data_spec(spec["gold"])[1]
    return gold, labels, build_candidates(spec, gold, gold_weight, data_config), labels.index(data_config.default_label)


def _days(spec: dict, ids: list[str]) -> list:
    """The date of every gold story (from its dateline), for day-grouped splits.

    Raises:
        ValueError: A gold story without a date.
    """
    from ..reader import read_stories
    from ..dataset import parse_data_spec

    path = parse_data_spec(spec["gold"])[0]
    dates = {s.id: s.date for s in read_stories(path)}
    missing = [i for i in ids if dates.get(i) is None]
    if missing:
        raise ValueError(f"{path}: day-grouped splits need a date on every story; none for {', '.join(missing[:5])}")
    return [dates[i] for i in ids]


CHOICE_KEYS = ("inner_folds", "seed", "step", "max_members", "criterion", "repeats", "default_bias", "max_encoders",
               "fixed")  # the protocol-file keys that are keyword arguments of choose and nested_cross_validate


def _choice_settings(spec: dict, default_label: int) -> dict:
    """The keyword arguments :func:`choose` and :func:`nested_cross_validate` take from a protocol file: the
    keys it sets (a key it leaves out keeps those functions' default, written once, in their signatures)."""
    return {"default_label": default_label, **{key: spec[key] for key in CHOICE_KEYS if key in spec}}


def protocol_choice(spec: dict) -> dict:
    """The protocol's choice on every gold story (what the shipped model is built from): :func:`choose`'s
    result with ``setup``. Its ``macro_f1`` is the inner CV score of the winner, a selected maximum, not a
    score to publish."""
    gold, labels, candidates, default = protocol_setup(spec)
    days = _days(spec, list(gold["id"])) if spec.get("inner_days") else None
    chosen = choose(candidates, gold["label"], gold["group"], labels, None, days=days, **_choice_settings(spec, default))
    chosen["setup"] = {k: v for k, v in spec.items()}
    return chosen


def build_chosen(spec: dict, weights: dict[str, float], out, folders: dict[str, str] | None = None) -> dict[str, str]:
    """Fit every chosen candidate on all gold stories into its own model folder ``out/NAME``.

    Linking several members as one ensemble is :func:`~nlp_wire.classify.ensemble.link_ensemble`'s job.

    Args:
        spec: From :func:`load_protocol`.
        weights: The choice (candidate name -> weight), e.g. from :func:`protocol_choice`.
        out: Parent folder of the member folders. An existing member folder is reused when its
            ``protocol.json`` records the same recipe fit on the same gold stories (two procedures
            sharing a member: the fast default and the accurate ensemble); any other is refused.
        folders: Folder name of a member where it differs from the candidate's name.

    Returns:
        Member folder -> weight.

    Raises:
        ValueError: A name that is not a candidate of ``spec``.
        FileExistsError: A member folder exists and holds something else.
    """
    from pathlib import Path

    unknown = sorted(set(weights) - set(spec["candidates"]))
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not a candidate of this protocol ({', '.join(spec['candidates'])})")
    chosen = {**spec, "candidates": {name: spec["candidates"][name] for name in weights}}
    gold, _, candidates, _ = protocol_setup(chosen)
    members = {}
    for name, weight in weights.items():
        folder = Path(out) / (folders or {}).get(name, name)
        if folder.exists():
            if not _same_member(folder, spec["candidates"][name], spec["gold"], len(gold)):
                raise FileExistsError(f"{folder}: exists and holds another model; remove it to rebuild this member")
            members[str(folder)] = weight
            continue
        folder.parent.mkdir(parents=True, exist_ok=True)
        candidates[name].save_model(np.arange(len(gold)), folder)
        record = {"candidate": name, "recipe": spec["candidates"][name], "gold": spec["gold"], "gold_stories": len(gold),
                  "workdir": str(Path.cwd()),  # what the relative paths of recipe and gold are relative to
                  "chosen_weights": weights, "rebuild": "python scripts/protocol.py --choose && "
                                                        "python scripts/build_accurate.py"}
        (folder / "protocol.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        members[str(folder)] = weight
    return members


def _same_member(folder, recipe: dict, gold: str, n_gold: int) -> bool:
    """Whether ``folder`` is ``recipe`` fit on these gold stories (its ``protocol.json`` says so)."""
    try:
        record = json.loads((folder / "protocol.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return record.get("recipe") == recipe and record.get("gold") == gold and record.get("gold_stories") == n_gold


def protocol_outer(spec: dict, gold, scheme: str) -> tuple[list, list | None]:
    """A protocol run's outer splits over its gold stories (:func:`protocol_setup`'s) and the stories' days (None
    unless the scheme or ``inner_days`` keeps days apart): what :func:`run_protocol` and a later run on its
    splits (:func:`~.distill.distill_cross_validate`) both use."""
    y = np.asarray(gold["label"])
    ids = list(gold["id"])
    days = _days(spec, ids) if scheme == "day" or spec.get("inner_days") else None
    outer = outer_splits(y, gold["group"], "story" if scheme == "day" else scheme, spec.get("folds", 5),
                         spec.get("seed", 13), ids=ids, days=days if scheme == "day" else None)
    return outer, days


def run_protocol(spec: dict, scheme: str = "story", progress: Callable[[str], None] | None = None) -> dict:
    """Run a protocol file's selection procedure under nested CV on its gold set.

    Args:
        spec: From :func:`load_protocol`.
        scheme: Outer splits: ``"story"`` (grouped k-fold), ``"day"`` (grouped k-fold with every story of
            one day on one side, inner folds too: new copy comes from other days) or ``"publisher"``
            (leave-one-publisher-out; the inner choice uses grouped folds of the other publishers' stories).
            With ``inner_days: true`` in the protocol, the inner folds of every scheme (and of
            :func:`protocol_choice`) keep each day on one side, whatever the outer splits do.
        progress: Called with a line per outer split.

    Returns:
        :func:`nested_cross_validate`'s metrics with ``publishers`` (:func:`publisher_table`), ``out_of_fold``
        as JSON rows, ``misclassified`` and ``setup``.
    """
    gold, labels, candidates, default = protocol_setup(spec)
    y = np.asarray(gold["label"])
    ids = list(gold["id"])
    outer, days = protocol_outer(spec, gold, scheme)
    metrics = nested_cross_validate(candidates, y, gold["group"], labels, outer, days=days, progress=progress,
                                    **_choice_settings(spec, default))
    for choice, (_, tst) in zip(metrics["choices"], outer):  # what a later run on these splits checks it has
        choice["test_ids"] = [ids[i] for i in tst]
    proba = metrics.pop("out_of_fold")
    pred = proba.argmax(1)
    headlines = list(gold["headline"])
    metrics["publishers"] = publisher_table(ids, y, pred, labels, headlines)
    metrics["misclassified"] = [{"id": ids[i], "gold": labels[y[i]], "predicted": labels[pred[i]],
                                 "headline": headlines[i]} for i in np.flatnonzero(pred != y)]
    metrics["out_of_fold"] = [{"id": i, "gold": labels[g], "scores": dict(zip(labels, np.round(p, 5).tolist()))}
                              for i, g, p in zip(ids, y, proba)]
    metrics["setup"] = {"scheme": scheme, **{k: v for k, v in spec.items() if k != "candidates"},
                        "candidates": spec["candidates"]}
    return metrics
