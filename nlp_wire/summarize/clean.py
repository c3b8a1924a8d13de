"""What is the story's prose: everything a summary may quote, and nothing else.

:class:`~nlp_wire.Story` parsing already sets aside the header tags, the dateline of the first
paragraph, the closing byline, ``(END)`` and the related-headline lists. What is left can still
hold text that is not prose, and this module removes it, lazily and in document order:

* editors' notes: ``(ATTN: UPDATES with ...)``, ``(EDS: ...)``, ``(CORRECTS ...)``;
* version and kind tags opening a paragraph: ``(LEAD)``, ``(2nd LD)``, ``[LEAD]``, ``[BEHIND THE NUMBERS]``,
  and bracketed bylines ``[Name, Outlet Reporter]``;
* datelines left after an editors' note, short ones (``SEJONG --``) and agency ones (``Boston (CNN)``);
* photo captions glued to the prose by their credit (``... campus (Samsung Electronics)Samsung is ...``)
  and credits standing after a sentence (``... on Dec. 21. (Yonhap)``);
* sluglines (``KOREA-US/DRILLS``), rule lines (``-----``), bylines (``By ...``, e-mail addresses),
  decks and subheads (short paragraphs that end without a full stop), an inline ``(END)``;
* boilerplate sentences: copyright notices, "This article was released as ...".

Text tokenized in the Penn Treebank style (``-lrb-``, ````, `` 's``, `` , ``) is turned back into
plain text first (see :func:`untokenize`).
"""

from __future__ import annotations

import re
from typing import Iterator

from ..story import DATELINE_RE, Story
from ..text import as_story
from .sentences import iter_sentences, split_sentences

__all__ = ["to_story", "prose_paragraphs", "prose_sentences", "clean_paragraph", "untokenize", "looks_tokenized"]

_AGENCIES = r"CNN|AP|AFP|Reuters|Yonhap|Xinhua|UPI|Kyodo|dpa|EFE|Bloomberg|KCNA|AAP|ANSA|Bernama|PTI|IANS|TASS|Sputnik"
# "(ATTN: UPDATES with ...)", "(EDS: ...)", "(CORRECTS headline)", one level of nested brackets allowed.
_EDITORS_NOTE_RE = re.compile(
    r"\(\s*(?:ATTN|EDS?|EDITORS?|EDITOR'S NOTE|CORRECTS?|CORRECTION|UPDATES?|ADDS|RECASTS|REFILES?|REPEATS|"
    r"CLARIFIES|WITHDRAWN|REPLACES|FIXES|CHANGES)\b[^()]*(?:\([^()]*\)[^()]*)*\)\s*"
)
# Tags and kickers opening a paragraph or sentence.
_LEADING_TAGS_RE = re.compile(
    r"^(?:\((?:LEAD|URGENT|\d+(?:st|nd|rd|th) LD|[A-Z][A-Za-z]+(?: [A-Z][A-Za-z]+){0,3}|News Focus|Yonhap Interview)"
    r"(?:, [^()]{1,30})?\)\s*|\[[^\[\]]{1,60}\]\s*)+"
)
_AGENCY_DATELINE_RE = re.compile(
    r"^(?:[A-Z][\w.'’ -]{0,40}(?:,\s*[A-Z][\w.'’ -]{0,30})?\s*)?\((?i:" + _AGENCIES + r")[^()]{0,20}\)\s*(?:--|—|–|-|:)?\s*"
)
# "SEJONG -- ", "WASHINGTON/SEOUL -- " (no date)
_SHORT_DATELINE_RE = re.compile(r"^[A-Z][A-Z.'/ -]{1,30}(?:,\s+[A-Z][A-Za-z.' ]{1,30})?\s+(?:--|—|–)\s+")
# A photo credit glued to the prose that follows: "(Samsung Electronics)Samsung", "(123rf)About".
_GLUED_CREDIT_RE = re.compile(r"\([^()]{1,70}\)(?=[A-Z“\"‘])")
# A short parenthesis standing alone after a sentence: a photo credit, "(Yonhap)", "(AP Photo/Name)".
# (Written to start with a literal "(" so the regex engine can skip ahead; the stop is checked after.)
_LONE_CREDIT_RE = re.compile(r"\([^()]{1,60}\)(?=\s+[A-Z“\"]|\s*$)")
_STOPS = '.!?"”’'
_MAX_CAPTION = 400
_MAX_SLUG = 60
_MAX_DATELINE = 120
_RULE_RE = re.compile(r"\s*(?:[-=_*~#]\s?){4,}\s*")
_HTML_TAG_RE = re.compile(r"</?[A-Za-z][^<>]{0,80}>")
_SLUG_RE = re.compile(r"^[A-Za-z0-9]+(?:[-/_.][A-Za-z0-9]+)+(?:,\s*\d+)?$")
_BYLINE_RE = re.compile(
    r"^(?:By\s*\.?\s*(?:[A-Z][\w.'’-]*\s*){0,5}(?:,\s*[A-Z][\w ]{0,40})?\.?"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+\.?"
    r"|\(?[\w.+-]+@[\w-]+(?:\.[\w-]+)+\)?)$"
)
_NOTICE_RE = re.compile(r"^(?:\(?Copyright\b|©|All rights reserved)", re.IGNORECASE)
_BOILERPLATE_RE = re.compile(
    r"^(?:All rights reserved|This (?:article|story|content|report) (?:was|is|has been) "
    r"(?:released|published|originally|first|provided|written|produced|translated|updated)|"
    r"(?:PUBLISHED|UPDATED|Last updated):|Click here|Read more:|Follow (?:us|him|her) on|Sign up|Subscribe)",
    re.IGNORECASE,
)
_BOILERPLATE_INITIALS = frozenset("ACFLPRSTUacflprstu")
_END_RE = re.compile(r"\s*\(END\)")
_TERMINAL_CHARS = ".!?\"”’)…:"

# Penn Treebank tokenization, as in CNN/DailyMail releases.
_PTB_BRACKETS = {"-lrb-": "(", "-rrb-": ")", "-lsb-": "[", "-rsb-": "]", "-lcb-": "{", "-rcb-": "}"}
_PTB_BRACKET_RE = re.compile(r"-(?:lrb|rrb|lsb|rsb|lcb|rcb)-", re.IGNORECASE)
_PTB_RULES = [
    (re.compile(r"``\s*"), '"'),
    (re.compile(r"\s*''"), '"'),
    (re.compile(r"\s+(n't|'s|'re|'ve|'ll|'d|'m)\b", re.IGNORECASE), r"\1"),
    (re.compile(r"\s+([.,;:!?%)\]}])"), r"\1"),
    (re.compile(r"([(\[{$£€])\s+"), r"\1"),
]


def looks_tokenized(text: str) -> bool:
    """Whether ``text`` looks Penn-Treebank tokenized (``word , word``, ``-lrb-``)."""
    return text.count(" , ") + text.count(" . ") >= 3 or "-lrb-" in text or "-LRB-" in text


def untokenize(text: str) -> str:
    """Undo Penn Treebank tokenization: ``-lrb-`` to ``(``, ````x''`` to ``"x"``, ``word , word`` to ``word, word``.

    Args:
        text: Tokenized text (plain text passes through almost unchanged).
    """
    text = _PTB_BRACKET_RE.sub(lambda m: _PTB_BRACKETS[m.group(0).lower()], text)
    for pattern, repl in _PTB_RULES:
        text = pattern.sub(repl, text)
    return text


to_story = as_story  # one reading of a story for classifying and summarizing (see nlp_wire.text.as_story)


def _drop_glued_captions(text: str) -> str:
    """Remove captions that end in a credit glued to the next sentence, from the caption's start."""
    pos = 0
    while True:
        m = _GLUED_CREDIT_RE.search(text, pos)
        if not m:
            return text
        # The caption is the last sentence before the credit; a long one is prose, not a caption.
        window_start = max(0, m.start() - _MAX_CAPTION)
        window = text[window_start:m.start()]
        sentences = split_sentences(window)
        start = m.start()
        if sentences and (window_start == 0 or len(sentences) > 1):
            start = window_start + window.rfind(sentences[-1])
        text = text[:start] + text[m.end():]
        pos = start


def _drop_lone_credits(text: str) -> str:
    """Remove short parentheses that stand right after a sentence's end (with the space before them)."""
    parts, pos = [], 0
    for m in _LONE_CREDIT_RE.finditer(text):
        before = text[pos:m.start()].rstrip()
        if before and before[-1] in _STOPS:
            parts.append(before)
            pos = m.end()
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


def clean_paragraph(text: str) -> str:
    """One paragraph without editors' notes, tags, captions, credits and markup (may become empty)."""
    if _NOTICE_RE.match(text):
        return ""
    if "<" in text:
        text = _HTML_TAG_RE.sub(" ", text)
    if "(" in text:
        if "(END)" in text:
            text = _END_RE.split(text, 1)[0]
        text = _EDITORS_NOTE_RE.sub("", text)
    text = _LEADING_TAGS_RE.sub("", text.strip())
    if "(" in text:
        text = _drop_glued_captions(text)
        text = _drop_lone_credits(text)
    return text.strip()


_OPENERS = "\"'\u201c\u2018("  # quotes and a bracket that may open a sentence


def _strip_opening(text: str, headline: str) -> str:
    """The first paragraph without a dateline, or a slug and the headline repeated before the prose."""
    head = text[:_MAX_DATELINE]
    if "(" in head or "-" in head or "—" in head or "–" in head:  # every dateline has one
        m = DATELINE_RE.match(text) or _SHORT_DATELINE_RE.match(text) or _AGENCY_DATELINE_RE.match(text)
        if m:
            return text[m.end():].strip()
    if headline:
        at = text.find(headline, 0, _MAX_SLUG + len(headline))
        end = at + len(headline)
        if at >= 0 and not text[end:end + 1].isalnum():  # the whole headline, not a word's start ("missile|s")
            rest = text[end:].strip()
            # the headline repeated as a line of its own, not the start of the lead's first sentence ("Exports
            # rise for third month on strong chip demand, ..."): what follows starts a sentence, or nothing does
            if not rest or rest[0].isupper() or rest[0].isdigit() or rest[0] in _OPENERS:
                return rest
    return text


def _is_byline(text: str) -> bool:
    return (text[:2] == "By" or "@" in text) and _BYLINE_RE.match(text) is not None


def _is_prose_paragraph(text: str) -> bool:
    if (" " not in text and _SLUG_RE.match(text)) or _is_byline(text):
        return False
    # A deck or subhead: short and without a closing full stop.
    return text[-1] in _TERMINAL_CHARS or len(text) > 250


def prose_paragraphs(story: Story) -> Iterator[str]:
    """Yield the story's prose paragraphs, cleaned, in order (lazily).

    A story whose paragraphs are all decks, tables or lists without full stops yields them as
    they are, so that nothing with text in it ends up with an empty summary.

    Args:
        story: The story.
    """
    first = True
    held: list[str] = []  # non-prose paragraphs, the fallback when nothing else is found
    found = False
    for raw in story.paragraphs:
        stop = "(END)" in raw
        parts = _RULE_RE.split(raw) if ("---" in raw or "===" in raw or "***" in raw or "___" in raw) else [raw]
        for part in parts:
            text = clean_paragraph(part)
            if first and text:
                text = _strip_opening(text, story.headline)
            if not text:
                continue
            first = False
            if _is_prose_paragraph(text):
                found = True
                yield text
            elif not found:
                held.append(text)
        if stop:
            break
    if not found:
        for text in held:
            if not _SLUG_RE.match(text) and not _is_byline(text):
                yield text


def prose_sentences(story: Story) -> Iterator[str]:
    """Yield the sentences of the story's prose in order (lazily), boilerplate left out.

    Args:
        story: The story.
    """
    for para in prose_paragraphs(story):
        if looks_tokenized(para):
            para = untokenize(para)
        for sentence in iter_sentences(para):
            if "[" in sentence or sentence[0] == "(":
                sentence = _LEADING_TAGS_RE.sub("", sentence)
                if not sentence:
                    continue
            if (sentence[0] in _BOILERPLATE_INITIALS and _BOILERPLATE_RE.match(sentence)) or _is_byline(sentence):
                continue
            if sentence[0] == "(" and sentence[-1] == ")":  # a lone credit or aside
                continue
            yield sentence
