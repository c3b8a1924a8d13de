"""Grouped 5-fold CV of the baseline recipe on korea_dev (which the shipped model also trains on).

    python scripts/cv_korea_dev.py --out bench/baseline_cv.json
"""
import argparse
import json
import logging
from pathlib import Path

from nlp_wire.classify.crossval import cross_validate
from nlp_wire.config import TrainConfig, load_config

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/baseline.yaml")
    ap.add_argument("--data", action="append", help="base training sources (path@weight)")
    ap.add_argument("--gold", default=f"{SHARED / 'korea_dev'}@10")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--out", default="bench/baseline_cv.json")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data = args.data or [str(SHARED / "public" / "train.jsonl"), "nlp_wire/sample_data/stories@3"]
    metrics = cross_validate(load_config(TrainConfig, args.config, args.overrides), data, args.gold, args.folds)
    metrics["setup"] = {"config": args.config, "data": data, "gold": args.gold, "folds": args.folds, "overrides": args.overrides}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps({"macro_f1": metrics["macro_f1"], "f1": {k: v["f1"] for k, v in metrics["per_label"].items()},
                      "worst": metrics["worst_confusions"][:5]}))
