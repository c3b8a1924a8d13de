"""``nlp-wire train {baseline,minilm} --config ... --data ... --out ... --set key=value``."""

from __future__ import annotations

import sys


def add_parser(sub):
    p = sub.add_parser("train", help="train a topic classifier and record the run")
    p.add_argument("kind", choices=["baseline", "minilm"])
    p.add_argument("--config", help="YAML config (default: configs/baseline.yaml or configs/minilm_cpu.yaml)")
    p.add_argument("--data", action="append", required=True,
                   help="labeled source: folder with labels.csv, or JSONL/CSV records; append @WEIGHT to weight it; repeatable")
    p.add_argument("--out", required=True, help="run folder (the model goes to OUT/model)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. training.lr=3e-5")
    return p


def default_config(kind: str):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "configs"
    path = root / ("baseline.yaml" if kind == "baseline" else "minilm_cpu.yaml")
    return str(path) if path.exists() else None


def run(args) -> int:
    from ..classify.train import train
    from ..config import TrainConfig, load_config

    config = load_config(TrainConfig, args.config or default_config(args.kind), [f"kind={args.kind}", *args.overrides])
    train(config, args.data, args.out)
    print(f"model: {args.out}/model  (metrics: {args.out}/metrics.json)", file=sys.stderr)
    return 0
