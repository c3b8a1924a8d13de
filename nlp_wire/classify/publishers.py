"""Which outlet a story came from, and an error table by outlet.

The gold sets' story ids name their source by prefix (see ``../shared/data/README.md``): ``k001_...``
Yonhap, ``k044_...`` Korea Herald, ``h2020...`` Korea Herald's 2020 collection, and so on. Scores by
outlet show whether a model learned a topic or one outlet's house style.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

__all__ = ["PUBLISHERS", "OTHER_PUBLISHERS", "publisher_of", "outlet_of", "publisher_table", "publisher_markdown"]

# A story id's prefix names its source (see ../shared/data/README.md); the few others share one group.
PUBLISHERS = {"k001": "Yonhap", "k044": "Korea Herald", "k640": "JoongAng Daily", "k009": "Maeil Business",
              "k056": "KBS", "h": "Korea Herald 2020"}
OTHER_PUBLISHERS = "other outlets"


def publisher_of(story_id: str) -> str:
    """The outlet a story id names: ``k001_...`` -> ``"Yonhap"``, ``h2020...`` -> ``"Korea Herald 2020"``.

    Ids with another ``kNNN`` prefix, or none we know, map to ``"other outlets"``.
    """
    m = re.match(r"(k\d{3})_", story_id)
    if m:
        return PUBLISHERS.get(m.group(1), OTHER_PUBLISHERS)
    if re.match(r"h\d", story_id):
        return PUBLISHERS["h"]
    return OTHER_PUBLISHERS


# Sources that are one newsroom: held out together by leave-one-publisher-out, so that a held-out outlet's house
# style is never on the training side (the tables still show each source).
SAME_OUTLET = {"Korea Herald 2020": "Korea Herald"}


def outlet_of(story_id: str) -> str:
    """The newsroom a story id names: :func:`publisher_of`, with Korea Herald's 2020 collection as Korea Herald."""
    source = publisher_of(story_id)
    return SAME_OUTLET.get(source, source)


def publisher_table(ids: Sequence[str], y: Sequence[int], pred: Sequence[int], labels: list[str],
                    headlines: Sequence[str] | None = None, max_errors: int = 3) -> list[dict]:
    """Per publisher: stories, accuracy, macro-F1 over the labels its gold stories carry, and its errors.

    Macro-F1 over the labels a publisher actually has keeps a one-label outlet (all ``other``) from
    scoring a meaningless 0.2; accuracy is the steadier number for small groups.
    """
    from sklearn.metrics import f1_score

    ids = list(ids)
    y = np.asarray(y)
    pred = np.asarray(pred)
    pubs = np.array([publisher_of(i) for i in ids])
    rows = []
    for pub in sorted(set(pubs), key=lambda p: -int((pubs == p).sum())):
        at = np.flatnonzero(pubs == pub)
        present = sorted(set(y[at].tolist()))
        errors = [i for i in at if pred[i] != y[i]]
        rows.append({
            "publisher": pub, "n": int(len(at)),
            "accuracy": round(float((pred[at] == y[at]).mean()), 4),
            "macro_f1_present": round(float(f1_score(y[at], pred[at], labels=present, average="macro",
                                                     zero_division=0)), 4),
            "labels": {labels[j]: int((y[at] == j).sum()) for j in present},
            "errors": len(errors),
            "examples": [{"id": ids[i], "gold": labels[y[i]], "predicted": labels[pred[i]],
                          **({"headline": headlines[i]} if headlines is not None else {})}
                         for i in errors[:max_errors]],
        })
    return rows


def publisher_markdown(rows: list[dict], examples: bool = True) -> str:
    """:func:`publisher_table` rows as a short Markdown table; with ``examples``, a column naming errors by headline
    where known (left out of what a terminal shows: a dev set's errors are not for reading in passing)."""
    head = "| publisher | stories | accuracy | macro-F1 (its labels) | errors |"
    lines = [head + (" e.g. |" if examples else ""), "|---|---|---|---|---|" + ("---|" if examples else "")]
    for r in rows:
        line = f"| {r['publisher']} | {r['n']} | {r['accuracy']:.3f} | {r['macro_f1_present']:.3f} | {r['errors']} |"
        if examples:
            ex = "; ".join(f"{e.get('headline') or e['id']} ({e['gold']} -> {e['predicted']})" for e in r["examples"][:2])
            line += f" {ex.replace('|', '/')} |"
        lines.append(line)
    return "\n".join(lines) + "\n"
