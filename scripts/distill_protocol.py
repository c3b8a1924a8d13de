"""Score the distilled `minilm` recipe (the protocol's choice in each split, distilled into MiniLM) on its outer splits.

    python scripts/protocol.py --scheme story                 # first: the nested run whose choices teach
    python scripts/distill_protocol.py --nested bench/protocol_story_v2.json --out bench/distill_story.json

In every outer split the teacher is the weighted average that split's inner CV chose, refit on the outer
training stories only; it labels the unlabeled pool, and the student (configs/minilm_distill_cpu.yaml)
trains on those soft labels beside the sample stories and the outer training gold stories, then predicts
the outer test stories. Each finished split is kept under --work, so a rerun resumes.
"""
import argparse
import json
import logging
import time
from pathlib import Path

from nlp_wire.classify.distill import distill_cross_validate
from nlp_wire.classify.protocol import unlabeled_texts, load_protocol
from nlp_wire.config import TrainConfig, load_config
from nlp_wire.device import cpu_info

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--protocol", default="configs/protocol.yaml")
    ap.add_argument("--nested", required=True, help="the nested run whose choices teach (minilm's: bench/protocol_story_v2.json)")
    ap.add_argument("--config", default="configs/minilm_distill_cpu.yaml", help="the student's recipe")
    ap.add_argument("--data", action="append", help="labeled sources the student always trains on "
                                                    "(default: nlp_wire/sample_data/stories)")
    ap.add_argument("--gold-weight", type=float, default=3.0)
    ap.add_argument("--unlabeled", action="append", help="default: ../shared/data/korea_herald_1517/stories.jsonl")
    ap.add_argument("--unlabeled-limit", type=int, default=2000)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--work", help="folder for finished splits (default .cache/distill_<nested name>)")
    ap.add_argument("--out", required=True, help="JSON to write (the published one: bench/distill_story.json)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    spec = load_protocol(args.protocol)
    nested = json.loads(Path(args.nested).read_text())
    config = load_config(TrainConfig, args.config, args.overrides)
    data = args.data or ["nlp_wire/sample_data/stories"]
    unlabeled = args.unlabeled or ["../shared/data/korea_herald_1517/stories.jsonl"]
    pool = unlabeled_texts(config, unlabeled, args.unlabeled_limit)
    start = time.perf_counter()
    metrics = distill_cross_validate(spec, nested, config, data, pool, args.work or f".cache/distill_{Path(args.nested).stem}",
                                     args.gold_weight, progress=print)
    metrics["setup"] = {"nested": args.nested, "config": args.config, "data": data, "gold_weight": args.gold_weight,
                        "unlabeled": unlabeled, "unlabeled_limit": args.unlabeled_limit, "overrides": args.overrides,
                        "scheme": nested["setup"]["scheme"], "seconds": round(time.perf_counter() - start, 1),
                        "cpu": cpu_info()["model"]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(metrics, indent=1) + "\n")
    print(json.dumps({"student_macro_f1": metrics["macro_f1"], "teacher_macro_f1": metrics["teacher"]["macro_f1"],
                      "f1": {k: v["f1"] for k, v in metrics["per_label"].items()}, "out": args.out}))
