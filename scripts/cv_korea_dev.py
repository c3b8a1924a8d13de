"""Grouped 5-fold CV of a training recipe on korea_dev (which the shipped models also train on).

    python scripts/cv_korea_dev.py --out bench/baseline_cv.json
    python scripts/cv_korea_dev.py --config configs/minilm_cpu.yaml --out bench/minilm_cv.json
    python scripts/cv_korea_dev.py --combine bench/minilm_cv.json bench/baseline_cv.json --out bench/ensemble_cv.json

Each fold trains the recipe from scratch on its base sources plus the other korea_dev folds (every
version of a story in one fold) and predicts its own fold. Base sources by default: public + sample
stories for the baseline, the sample stories for MiniLM (as the shipped models were trained).
``--combine`` scores the average of saved runs' out-of-fold probabilities: an ensemble of their recipes.
"""
import argparse
import json
import logging
from pathlib import Path

from nlp_wire.classify.crossval import combine_out_of_fold, cross_validate
from nlp_wire.config import TrainConfig, load_config

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
SAMPLES = "nlp_wire/sample_data/stories"
DEFAULT_DATA = {"baseline": [str(SHARED / "public" / "train.jsonl"), f"{SAMPLES}@3"], "minilm": [SAMPLES]}
DEFAULT_GOLD = {"baseline": f"{SHARED / 'korea_dev'}@10", "minilm": f"{SHARED / 'korea_dev'}@3"}

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/baseline.yaml")
    ap.add_argument("--data", action="append", help="base training sources (path@weight)")
    ap.add_argument("--gold", help="gold source path@weight (default: korea_dev, weight by kind)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--combine", nargs="+", metavar="RUN.json", help="average saved runs instead of training")
    ap.add_argument("--weights", nargs="+", type=float, help="one weight per --combine run (default: equal)")
    ap.add_argument("--out", help="JSON to write (default: bench/CONFIG-STEM_cv.json, e.g. bench/baseline_cv.json)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.combine:
        runs = [json.loads(Path(path).read_text()) for path in args.combine]
        metrics = combine_out_of_fold(runs, args.weights)
        metrics["setup"] = {"combined": args.combine, "weights": args.weights, "runs": [run["setup"] for run in runs]}
    else:
        config = load_config(TrainConfig, args.config, args.overrides)
        data = args.data or DEFAULT_DATA[config.kind]
        gold = args.gold or DEFAULT_GOLD[config.kind]
        metrics = cross_validate(config, data, gold, args.folds)
        metrics["setup"] = {"config": args.config, "data": data, "gold": gold, "folds": args.folds,
                            "overrides": args.overrides}
    # the default follows the config (or the combination): a MiniLM run never overwrites the baseline's published file
    args.out = args.out or ("bench/combined_cv.json" if args.combine else f"bench/{Path(args.config).stem}_cv.json")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps({"macro_f1": metrics["macro_f1"], "f1": {k: v["f1"] for k, v in metrics["per_label"].items()},
                      "worst": metrics["worst_confusions"][:5]}))
