"""``TfidfVectorizer.transform`` for plain word n-grams, without scikit-learn's per-token Python loop.

scikit-learn's ``_count_vocab`` looks every n-gram up one at a time in Python, which is most of the
baseline's prediction time. Here tokens are found by the vectorizer's own regular expression, n-grams
are joined and looked up with ``map`` (C loops), and counts are summed by scipy; the result equals
``vectorizer.transform(texts)`` (a test checks it) for the word analyzer with default preprocessing.
"""

from __future__ import annotations

import re
from itertools import repeat
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

__all__ = ["supports_fast_transform", "word_tfidf"]


def supports_fast_transform(vec: TfidfVectorizer) -> bool:
    """Whether :func:`word_tfidf` reproduces ``vec.transform`` (word analyzer, nothing customised)."""
    return (vec.analyzer == "word" and vec.preprocessor is None and vec.tokenizer is None and vec.stop_words is None
            and vec.strip_accents is None and not vec.binary and vec.use_idf and vec.norm in ("l1", "l2", None)
            and hasattr(vec, "idf_") and vec.ngram_range[0] >= 1)


def word_tfidf(vec: TfidfVectorizer, texts: Sequence[str]) -> sp.csr_matrix:
    """TF-IDF rows of ``texts`` with a fitted word-analyzer ``vec`` (see :func:`supports_fast_transform`)."""
    pattern = re.compile(vec.token_pattern)
    min_n, max_n = vec.ngram_range
    lookup = vec.vocabulary_.get
    missing = repeat(-1)
    indices: list[int] = []  # every n-gram's column, -1 for those not in the vocabulary (dropped below)
    lengths: list[int] = []
    for doc in texts:
        tokens = pattern.findall(doc.lower() if vec.lowercase else doc)
        grams = tokens if min_n == 1 else []
        for n in range(max(2, min_n), max_n + 1):
            grams = grams + list(map(" ".join, zip(*(tokens[i:] for i in range(n)))))
        indices.extend(map(lookup, grams, missing))
        lengths.append(len(grams))
    columns = np.asarray(indices, dtype=np.int32)
    known = columns >= 0
    rows = np.repeat(np.arange(len(lengths)), lengths)[known]
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(lengths)), out=indptr[1:])
    indices = columns[known]
    dtype = vec.dtype
    X = sp.csr_matrix((np.ones(len(indices), dtype=dtype), indices, indptr), shape=(len(lengths), len(vec.vocabulary_)))
    X.sum_duplicates()
    if vec.sublinear_tf:
        np.log(X.data, X.data)
        X.data += 1
    X = X @ sp.diags(np.asarray(vec.idf_, dtype=dtype))
    return normalize(X, norm=vec.norm, copy=False) if vec.norm else X.tocsr()
