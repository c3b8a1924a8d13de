"""nlp_wire: read English news-wire stories, turn them into labeled datasets, classify and summarize them.

>>> import nlp_wire
>>> stories = nlp_wire.read_stories("folder/")          # streaming Story objects
>>> ds = nlp_wire.load_examples("folder/", split=True)  # datasets.DatasetDict
>>> clf = nlp_wire.load_classifier()                     # shipped default model
>>> clf.predict(["SEOUL, May 1 (Yonhap) -- ..."])
>>> nlp_wire.summarize(story, sentences=3)
"""

from importlib import import_module

from .reader import Corpus, ReadReport, read_stories
from .story import Dateline, Story, WireFormatError

__version__ = "0.1.0"

# Heavy parts (datasets, torch, scikit-learn) load on first use, not at import.
_LAZY = {
    "load_examples": "nlp_wire.dataset",
    "model_input": "nlp_wire.text",
    "TopicRules": "nlp_wire.weak_labels",
    "load_classifier": "nlp_wire.classify",
    "Prediction": "nlp_wire.classify",
    "summarize": "nlp_wire.summarize",
    "split_sentences": "nlp_wire.summarize",
}

__all__ = ["Corpus", "Dateline", "ReadReport", "Story", "WireFormatError", "read_stories", "__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        module = import_module(_LAZY[name])
        # nlp_wire.summarize: always the package, which is callable (summarize(story, ...)), whether or not a
        # nlp_wire.summarize.* module was imported first (that import makes the package the attribute anyway)
        value = module if module.__name__ == f"{__name__}.{name}" else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nlp_wire' has no attribute {name!r}")
