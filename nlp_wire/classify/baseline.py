"""The TF-IDF + logistic regression baseline, saved as JSON + safetensors (opening it runs no code)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from safetensors.numpy import save_file
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from ..atomic import umask_mode
from ..config import BaselineConfig, ConfigError, DataConfig
from .tfidf import supports_fast_transform, word_tfidf
from .base import (ModelLoadError, WireClassifier, card_section, read_json_file, read_model_card, read_tensors,
                   write_model_card)

__all__ = ["TfidfClassifier"]

WEIGHTS = "baseline.safetensors"
VOCAB = "vocabulary.json"


# What a saved vectorizer may say, value by value: anything else (``input="filename"`` would make predict
# open paths; a hand-written token_pattern can take exponential time) is refused at load.
_VECTORIZER_ALLOWED = {
    "analyzer": {"word", "char", "char_wb"}, "binary": {False, True}, "decode_error": {"strict"},
    "encoding": {"utf-8"}, "input": {"content"}, "lowercase": {True, False}, "norm": {"l2", "l1", None},
    "preprocessor": {None}, "smooth_idf": {True, False}, "stop_words": {None}, "strip_accents": {None},
    "sublinear_tf": {True, False}, "token_pattern": {r"(?u)\b\w\w+\b", None}, "tokenizer": {None},
    "use_idf": {True}, "vocabulary": {None},  # every saved vectorizer has its idf_ (set at load)
}


def _tensor(folder: Path, tensors: dict, key: str, shape: tuple | None, kind: str) -> np.ndarray:
    """``tensors[key]``, checked for its shape and kind (``"f"``: finite floats, ``"i"``: integers)."""
    if key not in tensors:
        raise ModelLoadError(f"{folder}: {WEIGHTS}: no {key} tensor")
    value = tensors[key]
    if (shape is not None and value.shape != shape) or value.dtype.kind != kind:
        raise ModelLoadError(f"{folder}: {WEIGHTS}: {key} is {value.dtype}{list(value.shape)}, expected "
                             f"{'float' if kind == 'f' else 'int'}{list(shape) if shape else ''}")
    if kind == "f" and not np.isfinite(value).all():
        raise ModelLoadError(f"{folder}: {WEIGHTS}: {key} holds NaN or infinite values")
    return value


def _checked_vectorizer_params(folder: Path, name: str, params) -> dict:
    """The saved TF-IDF vectorizer parameters, each checked against an allow-list (see above)."""
    if not isinstance(params, dict):
        raise ModelLoadError(f"{folder}: {VOCAB}: {name}.params must be a mapping")
    out = {}
    for key, value in params.items():
        where = f"{folder}: {VOCAB}: {name}.params.{key}"
        if key == "ngram_range":
            if (not isinstance(value, list) or len(value) != 2 or not all(type(v) is int for v in value)
                    or not 1 <= value[0] <= value[1] <= 10):
                raise ModelLoadError(f"{where} must be [low, high] with 1 <= low <= high <= 10, not {value!r}")
            value = tuple(value)
        elif key in ("min_df", "max_df", "max_features"):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise ModelLoadError(f"{where} must be a non-negative number, not {value!r}")
        elif key not in _VECTORIZER_ALLOWED or isinstance(value, (list, dict)) or value not in _VECTORIZER_ALLOWED[key]:
            raise ModelLoadError(f"{where}: {value!r} is not an accepted value" if key in _VECTORIZER_ALLOWED
                                 else f"{where}: unknown parameter")
        out[key] = value
    if out.get("analyzer", "word") == "word" and "token_pattern" in out and out["token_pattern"] is None:
        raise ModelLoadError(f"{folder}: {VOCAB}: {name}.params.token_pattern: a word analyzer needs its pattern")
    return out


class TfidfClassifier(ClassifierMixin, BaseEstimator, WireClassifier):
    """Word (and optional character) TF-IDF features into a class-weighted logistic regression.

    Follows scikit-learn's contract: ``fit(texts, y)`` returns self, learned state ends in ``_``,
    ``classes_`` are the label names, ``predict`` answers label strings (:class:`~nlp_wire.classify.base.Prediction`
    is a ``str`` with its scores), so ``clone``, ``cross_val_score(..., scoring="f1_macro")`` and ``GridSearchCV``
    work; ``pipeline_`` is a ``Pipeline([("features", FeatureUnion), ("clf", LogisticRegression)])``.

    Args:
        labels: Ordered label names; ``y`` may hold names or indices into it.
        word_ngram_range: Word n-gram range.
        char_ngram_range: ``char_wb`` n-gram range; ``(0, 0)`` for none.
        min_df: Minimum document frequency of a term.
        max_features: Cap on each vocabulary.
        sublinear_tf: Use 1 + log(tf).
        C: Inverse regularization strength.
        class_weight: ``"balanced"`` or None.
        max_iter: Solver iterations.
        data_config: How stories become text (kept with the model).
        threshold: Optional confidence threshold for :meth:`predict`.
    """

    def __init__(self, labels=("diplomacy", "covid", "crime", "entertainment", "other"), word_ngram_range=(1, 2),
                 char_ngram_range=(0, 0), min_df=2, max_features=100_000, sublinear_tf=True, C=10.0,
                 class_weight="balanced", max_iter=2000, data_config=None, threshold=None):
        self.labels = labels
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.data_config = data_config
        self.threshold = threshold

    @classmethod
    def from_config(cls, cfg: BaselineConfig, data: DataConfig) -> "TfidfClassifier":
        return cls(labels=list(data.labels), word_ngram_range=tuple(cfg.word_ngram_range),
                   char_ngram_range=tuple(cfg.char_ngram_range), min_df=cfg.min_df, max_features=cfg.max_features,
                   sublinear_tf=cfg.sublinear_tf, C=cfg.C, class_weight=cfg.class_weight, max_iter=cfg.max_iter,
                   data_config=data)

    # -- scikit-learn ------------------------------------------------------------------------
    def _vectorizers(self) -> list[tuple[str, TfidfVectorizer]]:
        vecs = [("word", TfidfVectorizer(ngram_range=tuple(self.word_ngram_range), min_df=self.min_df,
                                         max_features=self.max_features, sublinear_tf=self.sublinear_tf,
                                         dtype=np.float32))]
        if self.char_ngram_range and self.char_ngram_range[1] > 0:
            vecs.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngram_range),
                                                 min_df=self.min_df, max_features=self.max_features,
                                                 sublinear_tf=self.sublinear_tf, dtype=np.float32)))
        return vecs

    def _encode(self, y) -> np.ndarray:
        labels = list(self.labels)
        y = list(y)
        names = [isinstance(v, str) for v in y]  # numpy str_ too
        if any(names) and not all(names):
            i = names.index(not names[0])
            raise ValueError(f"y mixes label names and indices (item 0 is {y[0]!r}, item {i} {y[i]!r}); give one kind")
        if y and isinstance(y[0], str):
            unknown = sorted(set(y) - set(labels))
            if unknown:
                raise ValueError(f"labels not in the label set {labels}: {unknown}")
            return np.array([labels.index(v) for v in y])
        y = np.asarray(y)
        if y.size and (y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= len(labels)):
            raise ValueError(f"y holds label names of {labels} or their indices 0..{len(labels) - 1}, "
                             f"not {sorted(set(y.tolist()))[:10]}")
        return y.astype(int)

    def fit(self, X, y, sample_weight=None):
        """Fit on stories (read as :meth:`predict` reads them: Story objects, wire strings, plain text or records)
        and labels (names or indices). Model-input texts, as :func:`nlp_wire.load_examples` gives them, read as
        themselves, so ``fit(X, y)`` then ``predict(X)`` or ``score(X, y)`` read ``X`` the same way."""
        self.input_config  # a label set without the default label fails here, not at the first predict
        self.loaded_from, self.trained_on = None, ()  # refit: the records of the folder it was loaded from no longer apply
        clf = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter)
        self.pipeline_ = Pipeline([("features", FeatureUnion(self._vectorizers())), ("clf", clf)])
        y = self._encode(y)
        if len(set(y.tolist())) < 2:  # scikit-learn would name the class by its index
            present = sorted({self.labels[i] for i in y.tolist()})
            raise ValueError(f"fit needs stories of at least two labels (classes); y holds {present[0] if present else 'none'!r}"
                             f" only ({len(y):,} stories)")
        self.pipeline_.fit(self.texts(X), y, clf__sample_weight=sample_weight)
        self.classes_ = np.asarray(self.labels)
        return self

    def fit_from_config(self, X, y, sample_weight=None) -> "TfidfClassifier":
        """:meth:`fit` for a run built from a config (``nlp-wire train baseline``): scikit-learn's refusal of the
        settings ("max_df corresponds to < documents than min_df") names the ``baseline.*`` keys and the story
        count, and a solver that stops short says so in one line, naming ``baseline.max_iter``.

        Raises:
            ValueError: The settings do not fit the training stories (the message names the keys to change).
        """
        import logging
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            try:
                self.fit(X, y, sample_weight=sample_weight)
            except ValueError as exc:
                if "df" not in str(exc) and "vocabulary" not in str(exc):
                    raise
                raise ValueError(f"the baseline settings do not fit the {len(y):,} training stories: {exc} "
                                 f"(baseline.min_df={self.min_df}, baseline.max_features={self.max_features})") from None
        for w in caught:
            if issubclass(w.category, ConvergenceWarning):
                logging.getLogger(__name__).warning("the logistic regression stopped at baseline.max_iter=%d "
                                                    "iterations before converging; raise it for a settled model",
                                                    self.max_iter)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return self

    @property
    def input_config(self) -> DataConfig:
        """``data_config``, or when it is None the default settings over ``labels`` (derived on each call, so
        that ``fit`` leaves its hyperparameters as given, as scikit-learn's ``clone`` expects)."""
        if self.data_config is not None:
            return self.data_config
        try:
            return DataConfig(labels=list(self.labels))
        except ConfigError as exc:  # the default label of a DataConfig is not among the labels given
            raise ConfigError(f"{exc}: include it in labels, or pass data_config=DataConfig(labels=..., "
                              "default_label=...) naming the label answered below the threshold") from None

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy of :meth:`predict`'s labels; ``y`` holds names or indices (scikit-learn's ``score`` takes
        names only)."""
        from sklearn.metrics import accuracy_score

        gold = [self.labels[i] for i in self._encode(y)]
        return float(accuracy_score(gold, [p.label for p in self.predict(X)], sample_weight=sample_weight))

    def _check_fitted(self) -> None:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "pipeline_")  # NotFittedError, not an AttributeError on pipeline_

    def _features(self, texts: list[str]):
        """The pipeline's feature rows; plain word TF-IDF goes through :func:`word_tfidf` (same values, faster)."""
        blocks = [word_tfidf(vec, texts) if supports_fast_transform(vec) else vec.transform(texts)
                  for _, vec in self.pipeline_.named_steps["features"].transformer_list]
        return blocks[0] if len(blocks) == 1 else sp.hstack(blocks, format="csr")

    def _proba_texts(self, texts, batch_size):
        self._check_fitted()
        proba = self.pipeline_.named_steps["clf"].predict_proba(self._features(list(texts)))
        # Columns follow the label order even if a label was absent from the training data.
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        out[:, self.pipeline_.named_steps["clf"].classes_] = proba
        return out

    # -- persistence ---------------------------------------------------------------------------
    def save_pretrained(self, folder: str | Path) -> None:
        """Save as ``vocabulary.json`` + ``baseline.safetensors`` + the model card (no pickle)."""
        self._check_fitted()  # before the folder is made: an unfitted model leaves nothing behind
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        union: FeatureUnion = self.pipeline_.named_steps["features"]
        clf: LogisticRegression = self.pipeline_.named_steps["clf"]
        vocab, tensors = {}, {}
        for name, vec in union.transformer_list:
            terms = [""] * len(vec.vocabulary_)
            for term, idx in vec.vocabulary_.items():
                terms[idx] = term
            vocab[name] = {"terms": terms, "params": {k: v for k, v in vec.get_params().items() if k != "dtype"}}
            tensors[f"{name}.idf"] = vec.idf_.astype(np.float32)
        tensors["clf.coef"] = clf.coef_.astype(np.float32)
        tensors["clf.intercept"] = clf.intercept_.astype(np.float32)
        tensors["clf.classes"] = clf.classes_.astype(np.int64)
        (folder / VOCAB).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        # safetensors writes raw buffers: Fortran-ordered arrays (lbfgs coef_) must be made C-contiguous.
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(folder / WEIGHTS))
        umask_mode(folder / WEIGHTS)
        params = {k: v for k, v in self.get_params().items() if k not in ("labels", "data_config", "threshold")}
        write_model_card(folder, "baseline", self.labels, self.input_config, params=params, threshold=self.threshold)
        self._write_training_record(folder)

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> "TfidfClassifier":
        """Load a folder written by :meth:`save_pretrained`.

        Raises:
            ModelLoadError: Missing or inconsistent files, naming the folder.
        """
        folder = Path(folder)
        card = read_model_card(folder)
        if card["kind"] != "baseline":
            raise ModelLoadError(f"{folder}: a {card['kind']!r} model, not a baseline")
        labels = list(card["labels"])
        params = card_section(folder, card, "params", BaselineConfig)
        model = cls(labels=labels, data_config=card_section(folder, card, "data", DataConfig),
                    threshold=card.get("threshold"),
                    **{k: tuple(v) if isinstance(v, list) else v for k, v in asdict(params).items()
                       if k in card.get("params", {})})
        vocab = read_json_file(folder, VOCAB)
        tensors = read_tensors(folder, WEIGHTS)
        if not vocab:
            raise ModelLoadError(f"{folder}: {VOCAB} holds no vocabulary")
        vecs = []
        for name, spec in vocab.items():
            if not isinstance(spec, dict):
                raise ModelLoadError(f"{folder}: {VOCAB}: {name} must be a mapping of terms and params")
            p = _checked_vectorizer_params(folder, name, spec.get("params"))
            terms = spec.get("terms")
            if (not isinstance(terms, list) or not terms or not all(isinstance(t, str) for t in terms)
                    or len(set(terms)) != len(terms)):
                raise ModelLoadError(f"{folder}: {VOCAB}: {name}.terms must be a non-empty list of distinct strings")
            vec = TfidfVectorizer(**p, dtype=np.float32)
            vec.vocabulary_ = {t: i for i, t in enumerate(terms)}
            vec.idf_ = _tensor(folder, tensors, f"{name}.idf", (len(terms),), "f")
            vecs.append((name, vec))
        n_features = sum(len(v.vocabulary_) for _, v in vecs)
        classes = _tensor(folder, tensors, "clf.classes", None, "i")
        if (classes.ndim != 1 or not 2 <= len(classes) <= len(labels) or len(set(classes.tolist())) != len(classes)
                or not ((0 <= classes) & (classes < len(labels))).all()):
            raise ModelLoadError(f"{folder}: {WEIGHTS}: clf.classes must be distinct indices into the "
                                 f"{len(labels)} labels, not {classes.tolist()[:10]}")
        n_rows = 1 if len(classes) == 2 else len(classes)  # a binary logistic regression has one row
        clf = LogisticRegression()
        clf.coef_ = _tensor(folder, tensors, "clf.coef", (n_rows, n_features), "f")
        clf.intercept_ = _tensor(folder, tensors, "clf.intercept", (n_rows,), "f")
        clf.classes_ = classes
        clf.n_features_in_ = n_features
        model.pipeline_ = Pipeline([("features", FeatureUnion(vecs)), ("clf", clf)])
        model.classes_ = np.asarray(model.labels)
        return model
