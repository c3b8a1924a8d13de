"""Score summarizers with ROUGE the way published CNN/DailyMail numbers are scored.

The convention (``summarization/SOURCES.md`` in the shared data): Google's ``rouge-score``, F1,
Porter stemming, ROUGE-L as ``rougeLsum`` over the summary's sentences joined by newlines, against
the original highlights (the first reference). Scores are means over articles, times 100.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

from ..reader import read_stories
from ..story import Story, WireFormatError
from . import get_summarizer, split_sentences, to_story, untokenize
from .clean import looks_tokenized

__all__ = ["score_cnndm", "score_headlines", "naive_lead"]

_NAIVE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+")
# What a clean first sentence must not carry: datelines, tags, notes, bylines.
_RESIDUE_RE = re.compile(r"\((?:Yonhap|LEAD|ATTN|\d+(?:st|nd|rd|th) LD|URGENT)\b|^[A-Z]{3,}[A-Z ,./]* --|\s--\s*$|@\w+\.|^\[|^\(")


def naive_lead(story: Story, sentences: int = 3) -> list[str]:
    """A careless Lead-N, for comparison: the body split at every full stop, nothing cleaned."""
    return _NAIVE_SPLIT_RE.split(story.body.replace("\n", " ").strip())[:sentences] if story.body.strip() else []


def _scorer(types: list[str]):
    from rouge_score import rouge_scorer  # heavy: load on use

    return rouge_scorer.RougeScorer(types, use_stemmer=True)


def _read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise WireFormatError(f"invalid JSON: {exc.msg}", path, line_no) from None


def _mean(scores: list[dict], types: list[str]) -> dict[str, float]:
    return {t: round(100 * sum(s[t].fmeasure for s in scores) / max(1, len(scores)), 2) for t in types}


def score_cnndm(
    path: str | Path, method: str = "lead", sentences: int = 3, limit: int | None = None
) -> dict:
    """ROUGE-1/2/Lsum F1 of a summarizer on a CNN/DailyMail JSONL (``article``, ``references``).

    Articles and references may be Penn-Treebank tokenized; both are turned back into plain text
    before splitting into sentences (ROUGE's own tokenizer ignores the difference otherwise).

    Args:
        path: The JSONL file.
        method: A summarizer name, or ``"naive"`` for :func:`naive_lead`.
        sentences: Sentences per summary.
        limit: Score only the first ``limit`` articles.

    Returns:
        ``{"n", "method", "sentences", "rouge1", "rouge2", "rougeLsum"}`` (means, times 100).
    """
    types = ["rouge1", "rouge2", "rougeLsum"]
    scorer = _scorer(types)
    summarizer = naive_lead if method == "naive" else get_summarizer(method)
    scores = []
    for i, row in enumerate(_read_jsonl(Path(path))):
        if limit is not None and i >= limit:
            break
        reference = row["references"][0]
        if looks_tokenized(reference):
            reference = untokenize(reference)
        story = to_story(row["article"], id=str(row.get("id", i)))
        predicted = summarizer(story, sentences)
        scores.append(scorer.score("\n".join(split_sentences(reference)), "\n".join(predicted)))
    return {"n": len(scores), "method": method, "sentences": sentences, **_mean(scores, types)}


def score_headlines(path: str | Path, method: str = "lead") -> dict:
    """How well each story's first summary sentence matches its headline (ROUGE-1/2/L F1).

    A check that datelines, tags and notes are stripped: a lead that starts with
    ``SEOUL, March 31 (Yonhap) --`` or ``(LEAD)`` scores lower and is counted in ``with_residue``.
    The same is scored for the first sentence of each story's raw first line, for comparison.

    Args:
        path: A folder (or file) of wire stories with headlines.
        method: A summarizer name, or ``"naive"``.

    Returns:
        ``{"n", "empty", "with_residue", "rouge1", "rouge2", "rougeL", "raw_first_line": {...}}``.
    """
    types = ["rouge1", "rouge2", "rougeL"]
    scorer = _scorer(types)
    summarizer = naive_lead if method == "naive" else get_summarizer(method)
    ours, raw = [], []
    empty = residue = raw_residue = 0
    for story in read_stories(path):
        if not story.headline:
            continue
        first = (summarizer(story, 1) or [""])[0]
        empty += not first
        residue += bool(first and _RESIDUE_RE.search(first))
        raw_first = (split_sentences(_raw_first_line(story)) or [""])[0]
        raw_residue += bool(raw_first and _RESIDUE_RE.search(raw_first))
        ours.append(scorer.score(story.headline, first))
        raw.append(scorer.score(story.headline, raw_first))
    return {
        "n": len(ours),
        "method": method,
        "empty": empty,
        "with_residue": residue,
        **_mean(ours, types),
        "raw_first_line": {"with_residue": raw_residue, **_mean(raw, types)},
    }


def _raw_first_line(story: Story) -> str:
    """The line after the header, as it stands in the file (dateline, tags and all)."""
    if story.path:
        lines = Path(story.path).read_text(encoding="utf-8", errors="replace").splitlines()
        start = story.line  # the header's 1-based number is the 0-based index of the line after it
        return next((ln for ln in lines[start:] if ln.strip()), "")
    return story.to_text().splitlines()[1] if story.paragraphs else ""
