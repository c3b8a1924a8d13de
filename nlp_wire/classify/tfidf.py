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
    found: list[int] = []  # vocabulary index of every n-gram, -1 for those not in it
    indptr = [0]
    for doc in texts:
        tokens = pattern.findall(doc.lower() if vec.lowercase else doc)
        grams = tokens if min_n == 1 else []
        for n in range(max(2, min_n), max_n + 1):
            grams = grams + list(map(" ".join, zip(*(tokens[i:] for i in range(n)))))
        found.extend(map(lookup, grams, repeat(-1, len(grams))))
        indptr.append(len(found))
    # Drop the unknown n-grams in numpy rather than test each one in Python.
    found_arr = np.asarray(found, dtype=np.int64)
    known = found_arr >= 0
    kept = np.concatenate(([0], np.cumsum(known)))[np.asarray(indptr, dtype=np.int64)]
    indices = found_arr[known].astype(np.int32)
    dtype = vec.dtype
    X = sp.csr_matrix((np.ones(len(indices), dtype=dtype), indices, kept), shape=(len(indptr) - 1, len(vec.vocabulary_)))
    X.sum_duplicates()
    if vec.sublinear_tf:
        np.log(X.data, X.data)
        X.data += 1
    X = X @ sp.diags(np.asarray(vec.idf_, dtype=dtype))
    return normalize(X, norm=vec.norm, copy=False) if vec.norm else X.tocsr()
