"""Extractive summaries of wire stories, and the newswire sentence splitter they rest on.

>>> from nlp_wire import summarize
>>> summary = summarize(story, sentences=3)
>>> summary.sentences, summary.text

Every summarizer is a callable ``summarizer(story, sentences) -> list[str]`` returning sentences
in document order; :data:`SUMMARIZERS` maps config names to them (``lead`` is the default).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable
from typing import Any, Callable, NamedTuple

from ..checks import whole_number
from ..story import Story
from .clean import prose_sentences, to_story, untokenize
from .lead import LeadSummarizer
from .sentences import iter_sentences, split_sentences

__all__ = [
    "Summary",
    "Summarizer",
    "SUMMARIZERS",
    "get_summarizer",
    "summarize",
    "split_sentences",
    "iter_sentences",
    "prose_sentences",
    "to_story",
    "untokenize",
]

Summarizer = Callable[[Story, int], "list[str]"]

# Name (the config's ``method``) -> summarizer. Another strategy goes here once it is measured
# against lead with scripts/eval_summarizer.py.
SUMMARIZERS: dict[str, Summarizer] = {"lead": LeadSummarizer()}


class Summary(NamedTuple):
    """A summary: its sentences in document order, and the same joined as one text.

    Args:
        sentences: The summary's sentences.
        text: The sentences joined by single spaces.
    """

    sentences: list[str]
    text: str

    def __str__(self) -> str:
        return self.text


def get_summarizer(name: str = "lead") -> Summarizer:
    """The summarizer registered under ``name``.

    Raises:
        ValueError: For an unknown name (the message lists the known ones).
    """
    try:
        return SUMMARIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown summarizer {name!r}; known: {', '.join(sorted(SUMMARIZERS))}") from None


def cap_words(sentences: list[str], max_words: int | None) -> list[str]:
    """Keep whole sentences while they fit in ``max_words`` words; cut the first if it alone is longer."""
    if max_words is None:
        return sentences
    out: list[str] = []
    used = 0
    for sentence in sentences:
        words = sentence.split()
        if used + len(words) > max_words:
            if not out:
                out.append(" ".join(words[:max_words]) + " …")
            break
        out.append(sentence)
        used += len(words)
    return out


def summarize(
    story_or_text: Story | str | dict[str, Any],
    sentences: int = 3,
    max_words: int | None = None,
    method: str | Summarizer = "lead",
) -> Summary:
    """Summarize one story.

    Args:
        story_or_text: A :class:`~nlp_wire.Story`, wire-format text (`` date YYYY-MM-DD headline``
            first), plain text (one paragraph a line; a leading dateline is dropped) or a
            ``{headline, body}`` record.
        sentences: Sentences to keep at most (>= 1).
        max_words: Optional cap on the summary's words: whole sentences are kept while they fit,
            and a first sentence longer than the cap is cut (ending in "…").
        method: A name in :data:`SUMMARIZERS` or a summarizer callable.

    Returns:
        A :class:`Summary`; empty when the story has no prose.

    Raises:
        ValueError: For ``sentences < 1``, ``max_words < 1`` or an unknown method.
        WireFormatError: For wire-format text that cannot be parsed.
    """
    sentences = whole_number("sentences", sentences, 1)
    max_words = whole_number("max_words", max_words, 1, optional=True)
    summarizer = method if callable(method) else get_summarizer(method)
    chosen = summarizer(to_story(story_or_text), sentences)
    name = getattr(summarizer, "__name__", summarizer)
    if isinstance(chosen, (str, bytes)) or not isinstance(chosen, Iterable):  # a string would be read letter by letter
        raise TypeError(f"summarizer {name!r} returned {type(chosen).__name__}, not a list of sentences")
    chosen = list(chosen)
    odd = [s for s in chosen if not isinstance(s, str)]
    if odd:
        raise TypeError(f"summarizer {name!r} returned a sentence that is not a string: {odd[0]!r}")
    chosen = cap_words(chosen[:sentences], max_words)
    return Summary(chosen, " ".join(chosen))


class _CallableModule(types.ModuleType):
    """Lets ``nlp_wire.summarize(...)`` work whichever it is: the function or this package.

    ``nlp_wire`` exports the function lazily under the package's own name, and importing any
    ``nlp_wire.summarize.*`` module first makes ``nlp_wire.summarize`` the package instead.
    """

    def __call__(self, *args, **kwargs) -> Summary:
        return summarize(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
