"""The lead summarizer: a wire story's first sentences are its summary.

News is written as an inverted pyramid, so the lead is a strong baseline (Lead-3 is within a few
ROUGE points of the best extractive systems on CNN/DailyMail) and costs almost nothing.
"""

from __future__ import annotations

from itertools import islice

from ..story import Story
from .clean import prose_sentences

__all__ = ["LeadSummarizer"]


class LeadSummarizer:
    """The first ``sentences`` sentences of the story's prose, in document order.

    Reads only as far into the story as it needs. Datelines, tags, editors' notes, captions,
    bylines and related headlines are not prose (see :mod:`nlp_wire.summarize.clean`).

    Example:
        >>> LeadSummarizer()(story, 3)
        ['First sentence.', 'Second.', 'Third.']
    """

    name = "lead"

    def __call__(self, story: Story, sentences: int = 3) -> list[str]:
        """Summarize one story.

        Args:
            story: The story.
            sentences: How many sentences to return at most.

        Returns:
            Up to ``sentences`` sentences, in document order; ``[]`` when the story has no prose.
        """
        return list(islice(prose_sentences(story), sentences))

    def __repr__(self) -> str:
        return "LeadSummarizer()"
