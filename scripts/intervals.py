"""Bootstrap intervals of the published nested-CV scores: how much of a score is the draw of 225 stories.

    python scripts/intervals.py                 # bench/intervals.json, from the protocol runs' out-of-fold answers
    python scripts/report_tables.py             # then the README shows them beside the scores

Each run's out-of-fold answers (``out_of_fold`` in ``bench/protocol[_fast]_{story,day,publisher}.json``) are
resampled by whole story groups, 2,000 times with seed 0 (:func:`nlp_wire.classify.evaluate.macro_f1_interval`).
Nothing is refit and no choice is made: the interval reads the answers the run already gave. It measures
sampling noise only; that new copy scored 0.015-0.05 below the story-grouped column (models/README.md) is a shift
it does not contain. Needs ../shared (the gold stories' groups) beside the repository.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from nlp_wire.classify.evaluate import macro_f1_interval
from nlp_wire.classify.protocol import protocol_gold
from nlp_wire.dataset import parse_data_spec

RUNS = [f"protocol{kind}_{scheme}.json" for kind in ("", "_fast") for scheme in ("story", "day", "publisher")]


def interval(run: dict, resamples: int, seed: int) -> dict:
    setup = run["setup"]
    spec = {k: v for k, v in setup.items() if k != "scheme"}
    gold, data_config = protocol_gold(spec)
    labels = list(data_config.labels)
    group = dict(zip(gold["id"], gold["group"]))
    rows = run["out_of_fold"]
    y = np.array([labels.index(r["gold"]) for r in rows])
    pred = np.array([int(np.argmax([r["scores"][label] for label in labels])) for r in rows])
    ci = macro_f1_interval(y, pred, len(labels), [group[r["id"]] for r in rows], resamples=resamples, seed=seed)
    recomputed = float(f1_score(y, pred, labels=list(range(len(labels))), average="macro", zero_division=0))
    if abs(recomputed - run["macro_f1"]) > 5e-4:  # the answers must be the ones the run scored
        raise SystemExit(f"out-of-fold answers give macro-F1 {recomputed:.4f}, the run says {run['macro_f1']}")
    return {"macro_f1": run["macro_f1"], **ci}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", nargs="+", default=RUNS, help="bench files with out_of_fold (default: %(default)s)")
    p.add_argument("--resamples", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="bench/intervals.json")
    args = p.parse_args()
    out = {}
    for name in args.runs:
        run = json.loads(Path("bench", name).read_text(encoding="utf-8"))
        gold = parse_data_spec(run["setup"]["gold"])[0]
        if not Path(gold).exists():
            print(f"{gold}: not found (../shared beside the repository?)", file=sys.stderr)
            return 2
        out[name] = interval(run, args.resamples, args.seed)
        ci = out[name]
        print(f"{name}: macro-F1 {ci['macro_f1']:.3f}, {ci['level']:.0%} interval {ci['low']:.3f}-{ci['high']:.3f} "
              f"({ci['units']} story groups)")
    Path(args.out).write_text(json.dumps({"command": "python scripts/intervals.py", **out}, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
