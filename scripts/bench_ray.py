#!/usr/bin/env python
"""Stories/s of the local engines and of the Ray engine on the same files, in one run; writes JSON.

    python scripts/bench_ray.py --copies 100 --out bench/ray.json

The data: ``--copies`` copies of ``../shared/data/korea_dev`` (real wire copy), or of the bundled
sample stories when ``../shared`` is absent (the JSON says which). Timed, each on the same folder:

* classify, local engine: what ``nlp-wire classify baseline FOLDER --out OUT`` does (its workers: one process
  per core for the baseline), with the shipped TF-IDF baseline (``MODEL``), so that the engines, not a
  transformer, set the pace (the default model has been a transformer since round 9);
* summarize, local engine: ``summarize_folder(workers=2)`` to JSONL;
* Ray start-up: ``ray.init`` of a local Ray with 2 CPUs (``ray_engine.connect``), a fixed cost paid
  once per job (or never, on a running cluster);
* classify and summarize on that Ray (``classify_to_file`` / ``summarize_to_file``), each run whole:
  listing on the driver, actor start-up and model load, reading, predicting, shards and the merge.

Every engine first runs once on one copy (not timed: imports and file cache), then on one copy, then
on the whole folder, so that a job's fixed cost (model load, Ray's actors and
pipeline set-up) and its marginal rate beyond it, ``(N - n) / (T - t)``, are both reported.

The Ray outputs are checked to hold the same records as the local ones. Peak RSS is the driver's
(Ray's workers are separate processes, started by Ray, not counted there).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from importlib.resources import files
from pathlib import Path

from nlp_wire.device import cpu_info

ROOT = Path(__file__).resolve().parents[1]
KOREA_DEV = ROOT.parent / "shared" / "data" / "korea_dev"


def _make_folder(root: Path, copies: int) -> tuple[Path, str]:
    source = KOREA_DEV if KOREA_DEV.is_dir() else Path(str(files("nlp_wire") / "sample_data" / "stories"))
    stories = sorted(source.glob("*.txt"))
    for c in range(copies):
        sub = root / f"copy{c:03d}"
        sub.mkdir(parents=True)
        for path in stories:
            shutil.copyfile(path, sub / path.name)
    return root, ("korea_dev" if source == KOREA_DEV else "bundled sample stories (../shared absent)")


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


MODEL = "baseline"  # classify's model in every timing: thousands of stories/s, so the engine is what is timed

def _classify_local(folder: Path, out: Path) -> int:
    """The local engine, as ``nlp-wire classify MODEL FOLDER --out OUT`` runs it (one process per core for the
    baseline), so that its output is byte for byte what the Ray engine must write."""
    from nlp_wire.classify.files import classify_to_file

    return classify_to_file(MODEL, [folder], out).stories


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100, help="copies of korea_dev (225 stories each)")
    parser.add_argument("--num-cpus", type=int, default=2, help="CPUs of the local Ray")
    parser.add_argument("--out", default="bench/ray.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.pop("RAY_ADDRESS", None)  # this measures a local Ray on this machine

    from nlp_wire.engines import ray_engine
    from nlp_wire.summarize.batch import summarize_folder

    result: dict = {"machine": {"cpu": cpu_info(), "python": platform.python_version(),
                                "load_average_at_start": os.getloadavg()},
                    "note": "one run on a shared machine; other jobs were running: compare engines within this file"}
    with tempfile.TemporaryDirectory(prefix="bench_ray_") as tmp:
        tmp = Path(tmp)
        folder, data = _make_folder(tmp / "in", args.copies)
        n_files = sum(1 for _ in folder.rglob("*.txt"))
        result["data"] = {"source": data, "copies": args.copies, "files": n_files}
        result["classify_model"] = MODEL

        small = folder / "copy000"  # one copy: the fixed cost of a job shows against the whole folder

        def classify_local(src, out):
            return _classify_local(src, out), out

        def summarize_local(src, out):
            report = summarize_folder(src, out, workers=2, progress=False)
            return report.done + report.skipped, out

        def classify_ray(src, out):
            return ray_engine.classify_to_file(MODEL, [src], out, progress=False).done, out

        def summarize_ray(src, out):
            report = ray_engine.summarize_to_file(src, out, progress=False)
            return report.done + report.skipped, out

        def measure(name, run):
            run(small, tmp / f"{name}_warmup.jsonl")  # imports, file cache, first-call set-up: not timed
            (n_small, _), t_small = _timed(lambda: run(small, tmp / f"{name}_small.jsonl"))
            (n, out), t = _timed(lambda: run(folder, tmp / f"{name}.jsonl"))
            result[name] = {"stories": n, "seconds": round(t, 2), "stories_per_s": round(n / t),
                            "one_copy": {"stories": n_small, "seconds": round(t_small, 2)},
                            # the rate beyond a job's fixed cost (model load, actors, pipeline set-up)
                            "marginal_stories_per_s": round((n - n_small) / (t - t_small)) if t > t_small else None}
            return out

        local_labels = measure("classify_local", classify_local)
        local_sums = measure("summarize_local_2_workers", summarize_local)
        _, seconds = _timed(lambda: ray_engine.connect(num_cpus=args.num_cpus))
        result["ray_startup_seconds"] = round(seconds, 2)
        import ray

        result["ray"] = {"version": ray.__version__, "num_cpus": args.num_cpus}
        labels = measure("classify_ray", classify_ray)
        result["classify_ray"]["same_output_as_local"] = labels.read_bytes() == local_labels.read_bytes()
        sums = measure("summarize_ray", summarize_ray)
        result["summarize_ray"]["same_output_as_local"] = sums.read_bytes() == local_sums.read_bytes()
        rows, seconds = _timed(lambda: ray_engine._listing("classify", [folder], ray_engine.DEFAULT_SHARD_SIZE, None)[0])
        result["driver_listing_files_per_s"] = round(len(rows) / seconds)
        ray.shutdown()
    result["driver_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
