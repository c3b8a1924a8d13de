"""Score shipped models on labeled stories outside the protocol: a check no choice was made on.

    python scripts/external_check.py        # the models of bench/external_kh1517.json on the Korea Herald
                                            # 2015-17 stories we labeled (about 25 min on 2 cores)
    python scripts/external_check.py --models fast --data DATA --out bench/external_other.json

The default set is the 1,200 Korea Herald 2015-17 National-section stories labeled from LABELS.md in round 3
(nlp_wire/sample_data/kh1517_labels.csv; the text stays in ../shared). No shipped recipe chose anything on
them, and a model whose records say it trained on them, labeled or unlabeled, is skipped. Other copy than korea_dev and the
acceptance set: older (no covid; 8 entertainment stories), one outlet, half of it `other` (korea_dev: 72 %).
"""
import argparse
import json
import sys
import time
from pathlib import Path

from nlp_wire.classify.evaluate import external_scores
from nlp_wire.dataset import split_labels
from nlp_wire.device import cpu_info

KH = "../shared/data/korea_herald_1517/stories.jsonl::nlp_wire/sample_data/kh1517_labels.csv"
# fast is minilm_ft_defs3 alone; ensemble averages it with mpnet_ft_defs3, scored alone too. minilm (distilled on
# these stories' unlabeled text) and tfidf_ann (trained on their labels) are listed to show they are skipped.
MODELS = ["fast", "ensemble", "mpnet_ft_defs3", "baseline", "minilm_probe", "minilm", "tfidf_ann"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=MODELS, help="shipped names or folders (default: %(default)s)")
    p.add_argument("--data", default=KH, help="labeled data as nlp-wire evaluate reads it (default: %(default)s)")
    p.add_argument("--min-support", type=int, default=30, help="labels with fewer gold stories stay out of "
                   "macro_f1_present (default 30)")
    p.add_argument("--out", default="bench/external_kh1517.json")
    args = p.parse_args()
    records = split_labels(args.data)[0]
    if not Path(records).exists():
        print(f"{records}: not found (../shared beside the repository?)", file=sys.stderr)
        return 2
    start = time.time()
    models = external_scores(args.models, args.data, args.min_support)
    out = {"what": "shipped models on labeled stories no recipe chose anything on (scripts/external_check.py)",
           "data": args.data, "min_support": args.min_support,
           "command": "python scripts/external_check.py " + " ".join(sys.argv[1:]),
           "cpu": cpu_info()["model"], "seconds": round(time.time() - start, 1), "models": models}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    for name, m in models.items():
        shown = m.get("skipped") or (f"macro-F1 over {', '.join(m['labels_scored'])}: {m['macro_f1_present']:.3f}, "
                                     f"accuracy {m['accuracy']:.3f}")
        print(f"{name}: {shown}")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
