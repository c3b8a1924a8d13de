#!/usr/bin/env python
"""Benchmark transformer classification speed: nlp_wire's MiniLM classifier vs a transformers pipeline.

    python scripts/bench_classify.py --out bench/classify.json                 # fresh MiniLM head
    python scripts/bench_classify.py --model runs/minilm/model --threads 2 --out /tmp/b.json

Both sides read the same inputs (the model input text of the package's sample stories) with the same
encoder weights, the same ``max_length`` and the same torch thread count. The pipeline runs a
stock ``AutoModelForSequenceClassification`` into which our encoder weights are copied (its pooler and
head cost about what our mean pooling and head cost). Each setting is run once to warm up, then timed over ``--repeat`` passes (best kept).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import sys
import time
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[1] / "nlp_wire" / "sample_data" / "stories"


def _best_rate(fn, n: int, repeat: int) -> float:
    fn()  # warm-up: first-call allocations and lazy initialisation
    best = min(_timed(fn) for _ in range(repeat))
    return round(n / best, 2)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a saved transformer model folder (default: a fresh head on MiniLM)")
    parser.add_argument("--stories", default=str(SAMPLES), help="folder of wire stories used as inputs")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads for both sides")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", default="bench/classify.json")
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers
    from transformers import AutoModelForSequenceClassification, pipeline

    from nlp_wire.classify.transformer import TransformerClassifier
    from nlp_wire.config import DEFAULT_LABELS, TransformerConfig
    from nlp_wire.reader import read_stories

    torch.set_num_threads(args.threads)
    if args.model:
        clf = TransformerClassifier.from_pretrained(args.model, device="cpu")
    else:
        clf = TransformerClassifier.from_base(TransformerConfig(), list(DEFAULT_LABELS), device="cpu")
    texts = clf.texts(read_stories(args.stories))
    max_length = clf.model_config.max_length
    # Same encoder weights on both sides: copy ours into a stock sequence-classification model.
    config = copy.deepcopy(clf.model.encoder.config)
    config.id2label, config.label2id = clf.id2label, clf.label2id
    hf_model = AutoModelForSequenceClassification.from_config(config).eval()
    hf_model.base_model.load_state_dict(clf.model.encoder.state_dict(), strict=True)
    pipe = pipeline("text-classification", model=hf_model, tokenizer=clf.tokenizer,
                    device=-1, top_k=None)

    results = []
    for bs in args.batch_sizes:
        ours = _best_rate(lambda: clf.predict_proba(texts, batch_size=bs), len(texts), args.repeat)
        theirs = _best_rate(lambda: pipe(texts, batch_size=bs, truncation=True, max_length=max_length),
                            len(texts), args.repeat)
        results.append({"batch_size": bs, "nlp_wire_stories_per_s": ours, "pipeline_stories_per_s": theirs,
                        "speedup": round(ours / theirs, 2)})
        print(json.dumps(results[-1]), flush=True)

    report = {
        "stories": len(texts), "max_length": max_length, "threads": args.threads,
        "model": str(args.model or "minilm (fresh head)"), "results": results,
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__},
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
