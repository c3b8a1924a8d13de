"""Weak topic labels from weighted keyword and pattern rules (``configs/topics.yaml``).

Each topic has weighted words/phrases and regular expressions. A story's score for a topic is the
sum of the weights of the distinct rules that match, per field (headline, lead), times the field's
weight. The best topic wins when it reaches ``min_score`` and leads the runner-up by ``margin``;
a story no topic reaches ``other_below`` is ``other``; anything in between abstains (``None``), and so does
a story without words.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from .checks import whole_number
from .config import read_yaml_mapping
from .story import Story, split_tags

__all__ = ["TopicRules", "WeakLabel", "default_rules_path"]

_WORD = re.compile(r"\w")


def default_rules_path() -> Path:
    """The shipped ``configs/topics.yaml``."""
    from .resources import config_path

    return config_path("topics.yaml")


@dataclass(frozen=True)
class WeakLabel:
    """A rule decision: ``label`` is None when the rules abstain."""

    label: str | None
    confidence: float
    scores: dict[str, float]


TOPIC_KEYS = ("words", "patterns")  # what a topic of the rules file holds


class TopicRules:
    """Weighted keyword rules over headline and lead.

    Args:
        topics: ``{topic: {"words": {phrase: weight}, "patterns": {regex: weight}}}``.
        fields: Weight of each field (``headline``, ``lead``).
        min_score: Score a topic needs to be chosen (> 0).
        margin: Lead over the runner-up below which the rules abstain.
        other_below: When every topic scores below this, the story is ``other_label`` (> 0).
        other_label: The catch-all label.
        lead_words: Words of the lead that are looked at.
    """

    def __init__(self, topics: dict, fields: dict | None = None, min_score: float = 2.0, margin: float = 1.0,
                 other_below: float = 1.0, other_label: str = "other", lead_words: int = 60):
        self.topics = topics
        self.fields = fields or {"headline": 2.0, "lead": 1.0}
        self.min_score = min_score
        self.margin = margin
        self.other_below = other_below
        self.other_label = other_label
        self.lead_words = lead_words
        self._check_settings()
        self._compiled = {t: self._compile(spec or {}, t) for t, spec in topics.items()}

    def _check_settings(self) -> None:
        if not isinstance(self.fields, dict):
            raise ValueError(f"fields must map headline/lead to weights, not {self.fields!r}")
        unknown = sorted(set(self.fields) - {"headline", "lead"})
        if unknown:  # only these two fields are read: another name would score 0 in silence
            raise ValueError(f"fields: unknown field {unknown[0]!r} (known: headline, lead)")
        numbers = {"min_score": self.min_score, "margin": self.margin, "other_below": self.other_below,
                   **{f"fields.{k}": v for k, v in self.fields.items()}}
        for name, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number, not {value!r}")
        for name in ("min_score", "other_below"):  # each divides a score in the confidence of __call__
            if not numbers[name] > 0:  # not a NaN either
                raise ValueError(f"{name} must be > 0, not {numbers[name]!r}")
        self.lead_words = whole_number("lead_words", self.lead_words, 1)

    @staticmethod
    def _compile(spec: dict, topic: str) -> list[tuple[re.Pattern, float]]:
        if not isinstance(spec, dict):
            raise ValueError(f"topic {topic!r} must map 'words' and 'patterns' to weights")
        unknown = sorted(set(spec) - set(TOPIC_KEYS))
        if unknown:  # a misspelt key ('word', 'regex') would leave the topic without rules, in silence
            raise ValueError(f"topic {topic!r}: unknown key {unknown[0]!r} (known: {', '.join(TOPIC_KEYS)})")
        rules = []
        for kind in TOPIC_KEYS:
            entries = spec.get(kind) or {}
            if not isinstance(entries, dict):
                raise ValueError(f"topic {topic!r}: {kind} must map each entry to a weight")
            for entry, weight in entries.items():
                if isinstance(weight, bool) or not isinstance(weight, (int, float)):
                    raise ValueError(f"topic {topic!r}: the weight of {entry!r} must be a number, not {weight!r}")
                if kind == "words":
                    words = re.escape(str(entry).lower()).replace(r"\ ", r"\s+")
                    rules.append((re.compile(rf"(?<![\w-]){words}(?![\w-])"), float(weight)))
                    continue
                try:
                    rules.append((re.compile(entry, re.IGNORECASE), float(weight)))
                except re.error as exc:
                    raise ValueError(f"topic {topic!r}: bad pattern {entry!r}: {exc}") from None
        return rules

    @classmethod
    def from_yaml(cls, path: str | Path | None = None) -> "TopicRules":
        """Load rules from YAML (default: :func:`default_rules_path`).

        Raises:
            ValueError: Naming the file (and line or entry) when it cannot be read, is not valid
                YAML, or holds unknown keys, bad patterns or weights that are not numbers.
        """
        path = Path(path) if path is not None else default_rules_path()
        spec = read_yaml_mapping(path, "topic rules")
        known = {"topics", "fields", "min_score", "margin", "other_below", "other_label", "lead_words"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"{path}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(known))})")
        if not isinstance(spec.get("topics"), dict) or not spec["topics"]:
            raise ValueError(f"{path}: 'topics' must map each topic to its words and patterns")
        try:
            return cls(**spec)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    @property
    def labels(self) -> list[str]:
        return list(self.topics) + ([self.other_label] if self.other_label not in self.topics else [])

    def _field_texts(self, story: Story) -> dict[str, str]:
        _, headline = split_tags(story.headline)
        lead = " ".join(" ".join(story.paragraphs[:2]).split(None, self.lead_words)[: self.lead_words])  # no list of all words
        return {"headline": headline.lower(), "lead": lead.lower()}

    def scores(self, story: Story) -> dict[str, float]:
        """Score of every topic for one story."""
        texts = self._field_texts(story)
        out = {}
        for topic, rules in self._compiled.items():
            total = 0.0
            for name, text in texts.items():
                weight = self.fields.get(name, 0.0)
                if weight and text:
                    total += weight * sum(w for rx, w in rules if rx.search(text))
            out[topic] = total
        return out

    def __call__(self, story: Story | str | dict) -> WeakLabel:
        """Label one story (a Story, wire text, plain text or a record, as ``predict`` takes), or abstain (always
        for a story without words: no rule can speak for it)."""
        if not isinstance(story, Story):
            from .text import as_story

            story = as_story(story)
        scores = self.scores(story)
        if not _WORD.search(story.headline) and not any(_WORD.search(p) for p in story.paragraphs):
            return WeakLabel(None, 0.0, scores)
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        best, best_score = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if best_score < self.other_below:
            return WeakLabel(self.other_label, round(1.0 - 0.5 * best_score / self.other_below, 3), scores)
        lead = best_score - max(second, 0.0)
        if best_score >= self.min_score and lead >= self.margin:
            return WeakLabel(best, round(1.0 - math.exp(-lead / self.min_score), 3), scores)
        return WeakLabel(None, 0.0, scores)


LABELS_CSV_HEADER = ("id", "label", "confidence")


def label_rows(stories, rules: TopicRules):
    """Yield the ``labels.csv`` rows ``(id, label or "", confidence)`` of weak-labeled stories."""
    for story in stories:
        weak = rules(story)
        yield story.id, weak.label or "", f"{weak.confidence:.3f}"
