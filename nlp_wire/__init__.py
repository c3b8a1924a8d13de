"""nlp_wire: read English news-wire stories, turn them into labeled datasets, classify and summarize them."""

from .reader import Corpus, ReadReport, read_stories
from .story import Dateline, Story, WireFormatError

__version__ = "0.1.0"

__all__ = ["Corpus", "Dateline", "ReadReport", "Story", "WireFormatError", "read_stories", "__version__"]
