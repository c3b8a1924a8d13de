#!/usr/bin/env python
"""Files to labels on real-length wire copy, step by step, in one run; writes JSON.

    python scripts/bench_read.py --out bench/read.json
    python scripts/bench_read.py --copies 5 --repeat 1 --out /tmp/read.json

The data is korea_dev (``../shared/data/korea_dev``, 225 real-length stories) copied ``--copies``
times (45: 10,125 files) into a temporary folder; without ``../shared``, the bundled sample stories
copied to about as many files (much shorter stories: said in the JSON). Timed, each the best of
``--repeat`` passes after a warm-up:

* ``read_stories``: list, read, decode and parse every file, in one process; beside it the same files
  through the parser before issue 14 (``tests/data/story_before.py``, when the checkout has it);
* ``model_input`` on the parsed stories;
* the baseline (TF-IDF + logistic regression) predicting the parsed stories, in batches;
* files to labels end to end (``classify_paths``, what ``nlp-wire classify`` runs) with 1 and 2
  workers, model load not included (it is reported on its own).

Every step records wall seconds, stories/s and the CPU seconds it used (this process plus its
workers), so that a loaded machine shows as wall time well above CPU time. The CPU model and flags,
the load average before and after, and peak RSS (this process; the workers) are recorded: numbers
compare only within one run on one machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench_models import cpu  # scripts/ is on the path when this runs as a script

ROOT = Path(__file__).resolve().parents[1]
KOREA_DEV = ROOT.parent / "shared" / "data" / "korea_dev"
SAMPLES = ROOT / "nlp_wire" / "sample_data" / "stories"
OLD_PARSER = ROOT / "tests" / "data" / "story_before.py"
GOALS = {"read_stories": 15000, "files_to_labels_2_workers": 5000}


def _cpu_seconds() -> float:
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def timed(fn, n: int, repeat: int) -> dict:
    """Best wall time of ``repeat`` runs of ``fn`` (after a warm-up) over ``n`` stories, with its CPU time."""
    fn()
    best = None
    for _ in range(repeat):
        cpu0, wall0 = _cpu_seconds(), time.perf_counter()
        fn()
        wall, used = time.perf_counter() - wall0, _cpu_seconds() - cpu0
        if best is None or wall < best[0]:
            best = (wall, used)
    wall, used = best
    return {"seconds": round(wall, 3), "stories_per_s": round(n / wall, 1), "cpu_seconds": round(used, 3),
            "stories_per_cpu_s": round(n / used, 1) if used else None}


def make_copies(root: Path, copies: int) -> dict:
    if KOREA_DEV.exists():
        sources, name = sorted(KOREA_DEV.glob("*.txt")), "korea_dev"
    else:
        sources, name = sorted(SAMPLES.glob("*.txt")), "sample stories (no ../shared: much shorter than real copy)"
        copies = max(1, copies * 225 // len(sources))
    for i in range(copies):
        folder = root / f"c{i:03d}"
        folder.mkdir()
        for src in sources:
            shutil.copyfile(src, folder / src.name)
    sizes = sorted(src.stat().st_size for src in sources)
    return {"source": name, "files": len(sources) * copies, "copies": copies,
            "median_file_bytes": sizes[len(sizes) // 2], "total_mb": round(sum(sizes) * copies / 1e6, 1)}


def old_read(files: list[str]):
    """The files through the parser before issue 14 (None when the checkout does not have it)."""
    if not OLD_PARSER.exists():
        return None
    spec = importlib.util.spec_from_file_location("story_before", OLD_PARSER)
    module = importlib.util.module_from_spec(spec)
    sys.modules["story_before"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)

    def read() -> int:
        n = 0
        for f in files:
            with open(f, "rb") as fh:
                text = module.decode_wire_bytes(fh.read(), f)
            n += sum(1 for _ in module.parse_stories(text, id=Path(f).stem, path=f))
        return n

    return read


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=45, help="times korea_dev is copied (45: 10,125 files)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--model", default="baseline", help="the TF-IDF model timed (a name or a folder)")
    parser.add_argument("--out", default="bench/read.json")
    args = parser.parse_args(argv)

    import nlp_wire
    from nlp_wire.classify import load_classifier
    from nlp_wire.classify.stream import classify_paths
    from nlp_wire.text import model_input

    result: dict = {"machine": {"cpu": cpu(), "cores": os.cpu_count(), "load_average_before": os.getloadavg()},
                    "python": sys.version.split()[0], "nlp_wire": nlp_wire.__version__, "goals": GOALS}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        result["data"] = make_copies(folder, args.copies)
        stories = list(nlp_wire.read_stories(folder))
        n = len(stories)
        result["data"]["stories"] = n
        steps = {"read_stories": timed(lambda: sum(1 for _ in nlp_wire.read_stories(folder)), n, args.repeat)}
        old = old_read(sorted(str(p) for p in folder.rglob("*.txt")))
        if old is not None:
            steps["read_stories_before_issue_14"] = timed(old, n, args.repeat)
            steps["read_stories"]["speedup"] = round(
                steps["read_stories_before_issue_14"]["seconds"] / steps["read_stories"]["seconds"], 2)
        steps["model_input"] = timed(lambda: [model_input(s) for s in stories], n, args.repeat)

        start = time.perf_counter()
        model = load_classifier(args.model)
        result["model"] = {"name": args.model, "load_seconds": round(time.perf_counter() - start, 3)}

        def predict():
            for i in range(0, n, args.batch_size):
                model.predict(stories[i : i + args.batch_size], batch_size=args.batch_size)

        steps["baseline_predict_parsed"] = timed(predict, n, args.repeat)
        for workers in (1, 2):
            steps[f"files_to_labels_{workers}_worker{'s' * (workers > 1)}"] = timed(
                lambda: sum(1 for _ in classify_paths(model, folder, workers=workers, batch_size=args.batch_size)),
                n, args.repeat)
    result["steps"] = steps
    result["machine"]["load_average_after"] = os.getloadavg()
    result["peak_rss_mb"] = {
        "this_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "largest_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "note": "this process holds every parsed story of the run (for the per-step timings)",
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(steps, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
