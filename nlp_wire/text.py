"""The one place where a story becomes model input text (same at training and prediction)."""

from __future__ import annotations

from typing import Any

from .story import HEADER_START_RE, Story, _split_dateline, clean_line, parse_stories, split_tags

__all__ = ["as_story", "model_input"]


def as_story(item: Any, id: str = "text") -> Story:
    """Accept a :class:`Story`, a wire-format string, plain text, or a ``{headline, body}`` dict.

    Plain text (no `` date`` header) becomes a story with no headline whose lines are paragraphs;
    a leading dateline is split off as in a wire file.
    """
    if isinstance(item, Story):
        return item
    if isinstance(item, dict):
        return Story.from_record(item, id=id)  # the record's own id wins when it has one
    if not isinstance(item, str):
        raise TypeError(f"expected a Story, a string or a dict, got {type(item).__name__}")
    stripped = item.lstrip("\ufeff \t\r\n")
    if HEADER_START_RE.match(stripped):
        return next(parse_stories(item, id=id))
    lines = [clean_line(ln) for ln in item.replace("\r", "\n").split("\n")]
    paragraphs = [ln for ln in lines if ln]
    dateline, paragraphs = _split_dateline(paragraphs)
    return Story(id=id, date=None, headline="", tags=[], dateline=dateline, paragraphs=paragraphs)


def model_input(story: Story | str | dict, max_words: int = 96, lead_paragraphs: int = 2) -> str:
    """Headline plus lead, capped at ``max_words`` words: what every classifier reads.

    Tags, the dateline, the byline and related headlines are left out: they carry the agency's
    house style, not the topic.

    Args:
        story: A story, or anything :func:`as_story` accepts.
        max_words: Word cap on the result.
        lead_paragraphs: Leading paragraphs to use after the headline.
    """
    story = as_story(story)
    _, headline = split_tags(story.headline)
    if headline and headline[-1].isalnum():
        headline += "."  # keep the headline a sentence of its own for the tokenizer
    parts = [headline] if headline else []
    parts += story.paragraphs[:lead_paragraphs]
    words = " ".join(parts).split(None, max_words)  # no list of every word of a long lead
    return " ".join(words[:max_words])
