"""A sentence splitter for newswire English, with an explicit abbreviation list and no downloads.

General-purpose splitters break wire copy at "S. Korea", "U.S." and "No. 2", and need resources
(NLTK's punkt) that cannot be installed everywhere. This one is a single pass of a precompiled
regex over candidate full stops, deciding each with three rules:

* after a *strong* abbreviation ("Mr.", "Gen.", "No.", "vs.") a sentence never ends;
* after a *weak* one, which may also close a sentence ("U.S.", "Inc.", "a.m.", "Jan.", an initial
  such as "S."), it ends only when the next word is a common sentence opener ("The", "He", "But");
* a full stop glued to a capitalised word ("pandemic.Some 100") is a boundary: wire feeds that
  drop paragraph breaks leave exactly that.

Newlines are hard boundaries (one paragraph a line). The splitter is lazy, so a lead summary
reads only as far into a story as it needs.
"""

from __future__ import annotations

import re
from typing import Iterator

__all__ = ["split_sentences", "iter_sentences", "STRONG_ABBREVIATIONS", "WEAK_ABBREVIATIONS", "SENTENCE_STARTERS"]

# Titles and labels that are always followed by more of the same sentence.
STRONG_ABBREVIATIONS = frozenset(
    """
    Mr Mrs Ms Messrs Mmes Dr Drs Prof Rev Hon Fr Msgr Mme Mlle
    Gen Lt Col Maj Capt Cmdr Cdr Adm Brig Sgt Cpl Pvt Spc Ens Amb Pres Supt Insp Det Gov Sen Sens Rep Reps Atty
    Ste Mt Ft Nr Vol Vols Fig Figs
    vs v e.g i.e cf viz approx ca
    """.split()
)
# Abbreviations that also end sentences often ("... with the U.S. The two sides ...", "... Museum of Art. The
# ...", "... on Wall St. The ..."; "No. 1" and "Art. 3" still hold together). "Jun", "Jul",
# "Sat" and "Sun" are left out: they are Korean given names far more often than dates here.
WEAK_ABBREVIATIONS = frozenset(
    """
    Inc Co Cos Corp Corps Ltd Plc LLC Bros Assn Assoc Dept Div Univ Intl Natl Jr Sr etc al Esq
    St No Nos Art Arts Sec
    Jan Feb Mar Apr Aug Sep Sept Oct Nov Dec
    Mon Tue Tues Wed Thu Thur Thurs Fri
    Ave Blvd Rd Hwy Sq Pl
    mln bln tln pct yr yrs hr hrs min mins sec secs km kg lb lbs oz ft
    """.split()
)
# Words that often open a sentence and rarely follow a weak abbreviation inside one.
SENTENCE_STARTERS = frozenset(
    """
    A An The This That These Those There Here It Its He She His Her They Their Them We Our I You Your
    But And Or So Yet Nor Also Still Then Now Thus Hence Instead Meanwhile However Moreover Furthermore
    In On At As For From With Without By Of To Into Under Over After Before During Since Until Despite
    When While Where What Who Whom Whose Which Why How If Although Though Because Unless Once
    Some Many Most Several All Both Each Every Other Others Another Such No Not None Neither Either
    Last Earlier Later Previously Currently According Officials Police Experts Analysts
    """.split()
)

# A run of terminal punctuation, then any closing quotes or brackets.
_TERMINAL_RE = re.compile(r"[.!?…]+[\"'”’)\]]*")
_SPACES = " \t\f\v\u00a0\u2009\u202f"  # what separates words here, no-break spaces too
_SPACE_RE = re.compile(f"[{_SPACES}]+")
# A token of initials: "U.S", "N.K", "a.m", "Ph.D" (the final full stop is not part of the token).
_INITIALISM_RE = re.compile(r"^(?:[A-Za-z]{1,2}\.)+[A-Za-z]{1,2}$")
_OPENERS = "\"'“‘([«"
_SPEAKER_RE = re.compile(r"(?:[A-Z][\w'’.-]*\s+){1,3}(?:said|says|asked|asks|told|added|adds|wrote|shouted|replied|cried)\b")
_SPEAKER_CASELESS_RE = re.compile(_SPEAKER_RE.pattern.replace("(?:said", "(?i:said"))  # "She Asked", capitalised
_LEADING_JUNK = "\"'“‘([«"


_TOKEN_WINDOW = 128  # no abbreviation is this long: the search for a word's start never goes further back


def _token_before(text: str, end: int) -> str:
    """The word that ends at ``end`` (where the terminal punctuation starts), without openers. Looked for within
    ``_TOKEN_WINDOW`` characters, so that a paragraph without tabs (or spaces) is split in linear time: searching
    back to its start at every full stop made an 8 MB paragraph take a minute."""
    lo = max(0, end - _TOKEN_WINDOW)
    start = max(max(text.rfind(space, lo, end) for space in _SPACES), lo - 1) + 1
    return text[start:end].lstrip(_LEADING_JUNK)


# In a paragraph without capitals every word arrives capitalised (see _capitalized), so "and" after "u.s." looks
# like a sentence opener: there a weak abbreviation or an ellipsis ends a sentence only before these words, which
# seldom go on one (a ?/! ends one before any word but a speaker's "she asked").
CASELESS_STARTERS = frozenset(
    """
    The This These Those There It Its He She His Her They Their We Our I You Your However Meanwhile
    """.split()
)
# What follows a full stop inside a web address or file name, not a new sentence ("naver.com", "report.pdf").
_WEB_SUFFIXES = frozenset("""
    com net org edu gov mil int info biz kr jp cn uk us co io ai tv me html htm php asp aspx pdf jpg jpeg png gif
    txt csv json xml js py zip doc docx xls xlsx ppt pptx mp3 mp4
    """.split())
# Lower-case words that are abbreviations only before a number ("no. 2", "art. 3"): "said no. talks" ends there.
_NUMBERED_LOWER = frozenset("no nos art arts sec fig figs vol vols".split())
_STRONG_LOWER = frozenset(a.lower() for a in STRONG_ABBREVIATIONS)
_WEAK_LOWER = frozenset(a.lower() for a in WEAK_ABBREVIATIONS)


def _abbreviation_kind(token: str, caseless: bool = False) -> str | None:
    """``"strong"``, ``"weak"`` or None for the word before a full stop (``caseless``: in a paragraph read through
    :func:`_capitalized`, where "vs" and "etc" arrive as "Vs" and "Etc")."""
    if not token:
        return None
    if token in STRONG_ABBREVIATIONS:
        return "strong"
    if token in WEAK_ABBREVIATIONS:
        return "weak"
    if caseless:  # not in cased text, where "Min." and "Ca." are names as often as abbreviations
        if token.lower() in _STRONG_LOWER:
            return "strong"
        if token.lower() in _WEAK_LOWER:
            return "weak"
    if len(token) == 1 and token.isalpha():
        # An initial ("S. Korea", "John F. Kennedy"); lower-case single letters are list labels.
        return "weak" if token.isupper() else None
    if "." in token and _INITIALISM_RE.match(token):
        return "strong" if token in STRONG_ABBREVIATIONS else "weak"
    return None


def _next_word(text: str, pos: int) -> str:
    end = pos
    n = len(text)
    while end < n and (text[end].isalnum() or text[end] in "'’-"):
        end += 1
    return text[pos:end]


def _is_boundary(text: str, start: int, end: int, caseless: bool = False) -> bool:
    """Whether the terminal punctuation at ``text[start:end]`` ends a sentence (``caseless``: ``text`` is a
    paragraph without capitals read through :func:`_capitalized`)."""
    n = len(text)
    if end >= n:
        return True
    stop = text[start]
    after = text[end]
    single_stop = stop == "." and text[start:end].rstrip("\"'”’)]") == "."
    token = _token_before(text, start) if single_stop else ""
    kind = _abbreviation_kind(token, caseless) if single_stop else None
    numbered = caseless and kind is not None and token.lower() in _NUMBERED_LOWER
    if numbered:
        kind = None  # a plain word, except that it holds before a number
    if after in " \t\u00a0\u2009\u202f":
        m = _SPACE_RE.match(text, end)
        pos = m.end() if m else end
        if pos >= n:
            return True
        nxt = text[pos]
        if nxt.islower():
            return False
        if nxt.isdigit():
            # "No. 2", "Jan. 5", "U.S. $5" continue; "... in 2019. 2020 was ..." does not.
            return kind is None and not numbered
        if nxt.isupper():
            if caseless and kind is None and stop not in "?!" and not single_stop:  # an ellipsis: "hoping... but"
                return _next_word(text, pos) in CASELESS_STARTERS
            if kind is None:
                # '"Help!" Kim said.' goes on: a quoted question or cry, then its speaker.
                speaker = _SPEAKER_CASELESS_RE if caseless else _SPEAKER_RE
                return not (stop in "?!" and end - start > 1 and speaker.match(text, pos))
            if kind == "strong":
                return False
            return _next_word(text, pos) in (CASELESS_STARTERS if caseless else SENTENCE_STARTERS)
        if nxt in _OPENERS:
            return kind != "strong"
        return False
    # No space after the stop: only a glued capitalised word ("pandemic.Some", "said.“We")
    # counts, and never after initials ("S.Korea", "U.S.Army") or a title ("Dr.Kim").
    if kind == "strong" or (kind == "weak" and (len(token) == 1 or "." in token)):
        return False
    if start == 0 or not (text[start - 1].isalnum() or text[start - 1] in ")%”\"'’"):
        return False
    if caseless:  # "said.three boats": a glued word after a plain one, as a glued capital in cased text (not
        # "naver.com", "www.example", "u.s.army", "no.2")
        nxt_word = _next_word(text, end).lower()
        rest = text[end:end + _TOKEN_WINDOW].split(None, 1)[0]  # the rest of this run of characters
        return (kind is None and single_stop and len(token) > 2 and token.isalpha() and token.lower() != "www"
                and len(nxt_word) > 1 and nxt_word.isalpha() and nxt_word not in _WEB_SUFFIXES
                and not any(c in rest for c in "@/\\"))  # "kim.lee@yna.co.kr", "site.kr/news"
    if after in "“‘\"([":
        return end + 1 < n and text[end + 1].isupper()
    if not after.isupper() or end + 1 >= n:
        return False
    if text[end + 1].islower():
        return True
    # "....”MC Mong", "decades.US magazine": a closing quote, or a plain lower-case word, before it.
    closed = end - start > 1
    return text[end + 1].isalpha() and (closed or (len(token) > 2 and token.isalpha() and token.islower()))


def _capitalized(para: str) -> str:
    """A paragraph with no capital letter, as the rules can read it: each word's first letter capitalised after a
    space or an opener (not after a full stop: "naver.com" stays one word), one character for one. Case no longer
    tells a name from an opener, so :func:`_is_boundary` reads it with ``caseless`` rules."""
    out, prev = [], " "
    for c in para:
        up = c.upper()
        out.append(up if (prev in _SPACES or prev in _OPENERS) and len(up) == 1 else c)
        prev = c
    return "".join(out)


def iter_sentences(text: str) -> Iterator[str]:
    """Yield the sentences of ``text`` one at a time, stripped, in order.

    A paragraph with no capital letter (lower-cased copy) is split as if each word were capitalised, with
    narrower rules where case was the clue: "mr." holds; "no." holds before a number only; a weak abbreviation
    ("u.s.", "a.m.") or an ellipsis ends a sentence only before a pronoun or "the" (``CASELESS_STARTERS``); a
    ?/! ends one unless a speaker follows ("she asked"); a full stop glued to a word ends one unless it is part of
    a web address, a file name or an e-mail address. Lower-cased CNN/DailyMail articles keep 92 % of their
    paragraphs' cased cuts exactly, and their Lead-3 ROUGE equals the cased text's to 0.01.

    Args:
        text: Any text; newlines separate paragraphs and always end a sentence.
    """
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        caseless = not any(c.isupper() for c in para)
        rules = _capitalized(para) if caseless else para  # same length, same offsets
        begin = 0
        for m in _TERMINAL_RE.finditer(para):
            if m.group().startswith(("…", "..")) and not para[begin:m.start()].strip(_SPACES + _OPENERS):
                continue  # "… or maybe", '"...What a miracle."': a leading ellipsis opens its sentence
            if _is_boundary(rules, m.start(), m.end(), caseless):
                sentence = para[begin:m.end()].strip()
                if sentence:
                    yield sentence
                begin = m.end()
        rest = para[begin:].strip()
        if rest:
            yield rest


def split_sentences(text: str) -> list[str]:
    """Split newswire text into sentences.

    Handles "S. Korea", "N.K.", "U.S.", "U.N.", "Jan. 5", "No. 2", "a.m.", titles ("Rep.", "Gen.",
    "Dr."), company suffixes ("Inc.", "Co."), initials, decimals ("3.5 percent"), ellipses, quotes
    that close after the full stop, and full stops with no space after them ("pandemic.Some").

    Args:
        text: Any text; newlines separate paragraphs and always end a sentence.

    Returns:
        The sentences, stripped, in order; ``[]`` for empty or blank text.

    Example:
        >>> split_sentences("S. Korea and the U.S. met. Talks resume Jan. 5.")
        ['S. Korea and the U.S. met.', 'Talks resume Jan. 5.']
    """
    return list(iter_sentences(text))
