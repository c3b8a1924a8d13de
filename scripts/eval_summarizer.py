#!/usr/bin/env python
"""Score the summarizers with ROUGE on CNN/DailyMail, and check first sentences against headlines.

    python scripts/eval_summarizer.py                       # lead vs naive Lead-3, headline check
    python scripts/eval_summarizer.py --out bench/summarize_eval.json

Defaults point at ../shared/data (cnndm_test443.jsonl and korea_dev/).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from nlp_wire.summarize.evaluate import score_cnndm, score_headlines

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cnndm", default=str(DATA / "summarization" / "cnndm_test443.jsonl"), help="CNN/DM JSONL")
    p.add_argument("--headlines", default=str(DATA / "korea_dev"), help="folder of wire stories with headlines")
    p.add_argument("--methods", default="lead,naive", help="comma-separated summarizer names ('naive': careless Lead-3)")
    p.add_argument("--sentences", type=int, default=3)
    p.add_argument("--limit", type=int, default=None, help="score only the first N articles")
    p.add_argument("--out", default=None, help="also write the results as JSON here")
    args = p.parse_args(argv)

    results: dict = {"cnndm": [], "headlines": []}
    for method in args.methods.split(","):
        if Path(args.cnndm).exists():
            t = time.perf_counter()
            row = score_cnndm(args.cnndm, method, args.sentences, args.limit)
            row["seconds"] = round(time.perf_counter() - t, 2)
            results["cnndm"].append(row)
            print(f"cnndm {method:>6}: n={row['n']} R1 {row['rouge1']:.2f}  R2 {row['rouge2']:.2f}  RLsum {row['rougeLsum']:.2f}")
        if Path(args.headlines).exists():
            row = score_headlines(args.headlines, method)
            results["headlines"].append(row)
            raw = row["raw_first_line"]
            print(
                f"first sentence vs headline {method:>6}: n={row['n']} R1 {row['rouge1']:.2f} R2 {row['rouge2']:.2f} "
                f"RL {row['rougeL']:.2f}, with dateline/tag residue {row['with_residue']}, empty {row['empty']} "
                f"(raw first line: R1 {raw['rouge1']:.2f} R2 {raw['rouge2']:.2f} RL {raw['rougeL']:.2f}, "
                f"residue {raw['with_residue']})"
            )
    if not results["cnndm"] and not results["headlines"]:
        print(f"no data found at {args.cnndm} or {args.headlines}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
