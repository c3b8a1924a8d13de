#!/usr/bin/env python
"""Benchmark folder summarization: stories per second and peak memory at 1k, 10k and 100k stories.

    python scripts/bench_summarize.py --out bench/summarize.json            # 1k, 10k, 100k; 2 workers
    python scripts/bench_summarize.py --sizes 1000 --workers 1 --out /tmp/b.json

The folders are made from the package's sample stories (copied round-robin under new names, 1,000
files a subfolder) in a temporary folder that is deleted afterwards. Each size runs in a fresh
process; memory is sampled from /proc every 20 ms over that process and its workers (PSS, which
counts pages shared by forked workers once, and the main process's RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from nlp_wire.resources import sample_stories

SAMPLES = sample_stories()  # the installed package's, found through the package
PER_FOLDER = 1000
CHILD = """
import json, resource, sys
from nlp_wire.summarize.batch import summarize_folder, report_dict
before = resource.getrusage(resource.RUSAGE_SELF)
r = summarize_folder(sys.argv[1], sys.argv[2], workers=int(sys.argv[3]), progress=False)
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = lambda u: u.ru_utime + u.ru_stime
print(json.dumps({**report_dict(r), "cpu_main": cpu(me) - cpu(before), "cpu_workers": cpu(kids)}))
"""


def make_folder(root: Path, n: int) -> Path:
    """``n`` story files from the samples, in subfolders of 1,000."""
    samples = [p.read_bytes() for p in sorted(SAMPLES.glob("*.txt"))]
    if not samples:
        raise SystemExit(f"no sample stories in {SAMPLES}")
    folder = root / f"stories_{n}"
    for i in range(n):
        sub = folder / f"{i // PER_FOLDER:04d}"
        if i % PER_FOLDER == 0:
            sub.mkdir(parents=True)
        (sub / f"s{i:07d}.txt").write_bytes(samples[i % len(samples)])
    return folder


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return pids


def _kb(path: str, field: str) -> int:
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_one(folder: Path, out: Path, workers: int) -> dict:
    """Summarize ``folder`` in a fresh process, sampling its memory; the report plus the peaks."""
    load_before = os.getloadavg()[0]
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), str(out), str(workers)], stdout=subprocess.PIPE, text=True)
    peak = {"pss_kb": 0, "main_rss_kb": 0, "processes": 0}
    done = threading.Event()

    def sample():
        while not done.is_set():
            pids = _tree(proc.pid)
            pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
            peak["pss_kb"] = max(peak["pss_kb"], pss)
            peak["main_rss_kb"] = max(peak["main_rss_kb"], _kb(f"/proc/{proc.pid}/status", "VmRSS:"))
            peak["processes"] = max(peak["processes"], len(pids))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    sampler.start()
    stdout, _ = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark run failed with exit code {proc.returncode}")
    report = json.loads(stdout.strip().splitlines()[-1])
    stories = report["done"] + report["skipped"]
    cpu = report["cpu_main"] + report["cpu_workers"]
    return {
        "stories": stories,
        "failed": report["failed"],
        "seconds": round(report["seconds"], 3),
        "stories_per_s": round(stories / report["seconds"]),
        "wall_seconds_with_startup": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "cpu_us_per_story": round(1e6 * cpu / stories),
        # The rate the CPU time allows when the cores are free for this run alone (the machine
        # may be shared: compare with stories_per_s and load_average_before).
        "cpu_bound_stories_per_s": round(stories / (cpu / min(os.cpu_count() or 1, workers))),
        "load_average_before": round(load_before, 2),
        "peak_pss_mb": round(peak["pss_kb"] / 1024, 1),
        "peak_main_rss_mb": round(peak["main_rss_kb"] / 1024, 1),
        "processes": peak["processes"],
        "output_mb": round(out.stat().st_size / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1000,10000,100000", help="comma-separated story counts")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default="bench/summarize.json", help="where to write the JSON results")
    p.add_argument("--tmp", default=None, help="folder for the generated stories (default: system temp)")
    args = p.parse_args(argv)

    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "workers": args.workers,
        "output": "jsonl",
        "cache": "warm (files just written)",
        "samples": len(list(SAMPLES.glob("*.txt"))),
        "runs": [],
    }
    with tempfile.TemporaryDirectory(dir=args.tmp, prefix="nlp_wire_bench_") as tmp:
        root = Path(tmp)
        for n in (int(s) for s in args.sizes.split(",")):
            t = time.perf_counter()
            folder = make_folder(root, n)
            made = time.perf_counter() - t
            row = {"files": n, **run_one(folder, root / f"out_{n}.jsonl", args.workers), "make_seconds": round(made, 1)}
            results["runs"].append(row)
            print(
                f"{n:>7,} files: {row['stories_per_s']:>6,} stories/s ({row['seconds']:.2f} s), "
                f"peak PSS {row['peak_pss_mb']} MB over {row['processes']} processes, main RSS {row['peak_main_rss_mb']} MB"
            )
            shutil.rmtree(folder)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
