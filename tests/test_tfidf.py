"""The fast word TF-IDF transform equals scikit-learn's."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from nlp_wire.classify.tfidf import supports_fast_transform, word_tfidf

DOCS = [
    "Seoul and Tokyo agree to resume talks on the export curbs",
    "Police arrest a man over the Gangnam robbery; the man denies it",
    "K-pop group tops the chart again, again and again",
    "",
    "a b c",  # one-letter tokens are not tokens
    "Virus cases rise: 1,200 new COVID-19 infections, officials say",
]
NEW = ["Tokyo talks resume again", "new infections rise in Seoul", "nothing known here zzz", "", "the the the"]


@pytest.mark.parametrize("params", [
    {"ngram_range": (1, 2), "sublinear_tf": True},
    {"ngram_range": (1, 1), "sublinear_tf": False},
    {"ngram_range": (2, 3), "sublinear_tf": True, "norm": "l1"},
    {"ngram_range": (1, 2), "lowercase": False, "norm": None},
])
def test_word_tfidf_equals_sklearn(params):
    vec = TfidfVectorizer(dtype=np.float32, **params).fit(DOCS)
    assert supports_fast_transform(vec)
    for docs in (DOCS, NEW):
        ours, theirs = word_tfidf(vec, docs), vec.transform(docs)
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype == np.float32  # not float64: twice the memory
        np.testing.assert_allclose(ours.toarray(), theirs.toarray(), rtol=1e-5, atol=1e-7)


def test_customised_vectorizers_take_the_slow_path():
    assert not supports_fast_transform(TfidfVectorizer(analyzer="char_wb").fit(DOCS))
    assert not supports_fast_transform(TfidfVectorizer(stop_words="english").fit(DOCS))
    assert not supports_fast_transform(TfidfVectorizer(binary=True).fit(DOCS))
    assert not supports_fast_transform(TfidfVectorizer(strip_accents="unicode").fit(DOCS))  # word_tfidf keeps accents
