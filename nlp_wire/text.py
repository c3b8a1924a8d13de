"""The one place where a story becomes model input text (same at training and prediction)."""

from __future__ import annotations

from typing import Any

from .story import HEADER_START_RE, Story, printable, split_tags

__all__ = ["as_story", "model_input"]


def as_story(item: Any, id: str = "text") -> Story:
    """A :class:`Story` from a story, a ``{headline, body}`` record, wire-format text or plain text.

    Plain text (no `` date`` header) and a record's body are read as the body of a wire story, one paragraph a
    line (:func:`~nlp_wire.story.parse_body`): a dateline, a byline, ``(END)`` and related-headline lists (after
    ``(END)``, or ``-`` lines after some prose) are set aside exactly as in a wire file, so a story pasted without
    its header gives the model the input its file would. A text of one line keeps it, byline-like or not.

    Args:
        item: What to read.
        id: Id for the story when ``item`` does not carry one (a record's own id wins).

    Raises:
        TypeError: For anything else.
    """
    if isinstance(item, Story):
        return item
    if isinstance(item, dict):
        return Story.from_record(item, id=id)  # the record's own id wins when it has one
    if not isinstance(item, str):
        raise TypeError(f"expected a Story, a string or a dict, got {type(item).__name__}")
    stripped = item.lstrip("\ufeff \t\r\n")
    if HEADER_START_RE.match(stripped):
        return Story.from_string(item, id=id)  # one story: a second one is refused by line, never dropped
    return Story.from_record({"body": stripped}, id=id)  # a body without a headline: one reading for both


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
    # a lone surrogate (a "\udcff" escape in JSON, a surrogateescape read) would stop the tokenizer's whole batch
    return printable(" ".join(words[:max_words]))
