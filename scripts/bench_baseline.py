"""Baseline speed from files to labels: read N wire files, build inputs, predict; writes JSON.

    python scripts/bench_baseline.py --n 10000 --out bench/classify_baseline.json

The folder is made from copies of the bundled sample stories. Timed end to end (reading, parsing,
model input, TF-IDF, logistic regression) in one process, after loading the shipped default model.
"""
import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from itertools import islice
from pathlib import Path

from multiprocessing import get_context

import nlp_wire
from nlp_wire.classify import load_classifier
from nlp_wire.classify.baseline import TfidfClassifier  # noqa: F401  (import cost kept out of load time)

SAMPLES = Path(nlp_wire.__file__).parent / "sample_data" / "stories"


def make_folder(root: Path, n: int) -> Path:
    sources = sorted(SAMPLES.glob("*.txt"))
    for i in range(n):
        sub = root / f"d{i // 1000:03d}"
        sub.mkdir(exist_ok=True)
        shutil.copyfile(sources[i % len(sources)], sub / f"s{i:07d}.txt")
    return root


def _label_files(job) -> int:
    model, files, batch_size = job
    clf = load_classifier(model)
    n = 0
    stories = nlp_wire.read_stories(files)
    while batch := list(islice(stories, batch_size)):
        n += len(clf.predict(batch))
    return n


def run_parallel(model, folder: Path, workers: int, batch_size: int) -> tuple[int, float]:
    """Shard the files over ``workers`` processes, each with its own copy of the model."""
    files = sorted(folder.rglob("*.txt"))
    shards = [files[i::workers] for i in range(workers)]
    with get_context("fork").Pool(workers) as pool:
        t = time.perf_counter()
        n = sum(pool.map(_label_files, [(model, shard, batch_size) for shard in shards]))
        return n, time.perf_counter() - t


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--model", default=None, help="model folder (default: the shipped baseline)")
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--out", default="bench/classify_baseline.json")
    args = ap.parse_args()
    t0 = time.perf_counter()
    clf = load_classifier(args.model)
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_folder(Path(tmp), args.n)
        best = None
        for _ in range(2):  # second pass has warm file caches, like a folder just written
            t = time.perf_counter()
            n = 0
            stories = nlp_wire.read_stories(folder)
            while batch := list(islice(stories, args.batch_size)):
                n += len(clf.predict(batch))
            elapsed = time.perf_counter() - t
            best = elapsed if best is None else min(best, elapsed)
        n2, t2 = run_parallel(args.model, folder, 2, args.batch_size)
    result = {
        "two_processes": {"stories": n2, "seconds": round(t2, 3), "stories_per_s": round(n2 / t2, 1),
                          "note": "includes each worker loading the model"},
        "stories": n, "seconds": round(best, 3), "stories_per_s": round(n / best, 1), "model_load_s": round(load_s, 3),
        "batch_size": args.batch_size, "processes": 1, "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "goal_stories_per_s": 5000,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
