#!/usr/bin/env python
"""Which of our own sample stories share a 12-word run with publisher text in ../shared, and which run.

    python scripts/check_sample_text.py nlp_wire/sample_data/stories_defs/*.txt

Publisher text may train and evaluate models but must never be copied into the repository. This lists
every sample story sharing a run of 12 words (lower-cased, punctuation dropped) with korea_dev, the seeds,
the public corpus or the Korea Herald 2015-17 corpus, with the shared run, for a person to judge: stock
phrases ("up to five years in prison or a fine of up to ...", "margin of error of plus or minus ...")
are expected; a shared sentence is not.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
N = 12


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def runs(ws: list[str]) -> set[str]:
    return {" ".join(ws[i:i + N]) for i in range(len(ws) - N + 1)}


def publisher_texts(shared: Path):
    for f in sorted((shared / "data" / "korea_dev").glob("*.txt")) + sorted((shared / "seeds").glob("*.txt")):
        yield str(f.relative_to(shared)), f.read_text(encoding="utf-8", errors="replace")
    for jf in (shared / "data" / "public" / "train.jsonl", shared / "data" / "korea_herald_1517" / "stories.jsonl"):
        with open(jf, encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                yield r["id"], f"{r.get('headline') or ''} {r.get('body') or ''}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--shared", type=Path, default=SHARED)
    args = ap.parse_args()
    mine = {f: runs(words(f.read_text(encoding="utf-8"))) for f in args.files}
    every = set().union(*mine.values())
    found: dict[Path, dict[str, str]] = {}
    for where, text in publisher_texts(args.shared):
        shared = runs(words(text)) & every
        for f, own in mine.items():
            for run in own & shared:
                found.setdefault(f, {}).setdefault(run, where)
    for f, hits in sorted(found.items()):
        for run, where in sorted(hits.items()):
            print(f"{f}: '{run}' (also in {where})")
    print(f"{len(mine)} files; {len(found)} share a {N}-word run with publisher text")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
