#!/usr/bin/env python
"""Files to labels on real-length wire copy, step by step, in one run; writes JSON.

    python scripts/bench_read.py --out bench/read.json

Data: korea_dev (225 real stories, median body about 2,000 characters) copied ``--copies`` times
(default 45: 10,125 files) into a temporary folder when ``../shared`` is here; otherwise the bundled
sample stories (short) copied to the same number of files, and the JSON says so (``data.source``).

Timed, each as stories per second of wall time (best of ``--repeat``) and per CPU second:

* ``read_stories``: list, open, size-check, decode and parse every file (the new parser), and the
  same with the frozen pre-issue-14 parser (``tests/data/story_before.py``) when it is here;
* ``model_input`` on the parsed stories; the baseline's ``predict`` on the parsed stories (one
  process, batches of 512);
* files to labels, end to end (:func:`nlp_wire.classify.files.classify_files`, what ``nlp-wire
  classify --workers N`` runs) with 1 and 2 workers, model loaded once beforehand; CPU seconds
  include the workers';
* a story with no ``(END)`` and 100,000 ``-`` lines (linear time check);
* peak RSS of reading one story file of ``--big-mb`` MB (one line) in a fresh process, against the
  file's size (the cap's memory bound).

Also recorded: CPU model and flags, the load average before and after (other work on the machine
slows every number), peak RSS of this process and of its children.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

from nlp_wire.device import cpu_info
from nlp_wire.resources import sample_stories

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sample_stories()  # the installed package's, found through the package
KOREA_DEV = ROOT.parent / "shared" / "data" / "korea_dev"
FROZEN = ROOT / "tests" / "data" / "story_before.py"


def _make_copies(root: Path, copies: int) -> dict:
    real = KOREA_DEV.is_dir()
    sources = sorted((KOREA_DEV if real else SAMPLES).glob("*.txt"))
    n = copies * 225
    for i in range(n):
        sub = root / f"c{i // len(sources):03d}" if real else root / f"c{i // 225:03d}"
        sub.mkdir(exist_ok=True)
        src = sources[i % len(sources)]
        shutil.copyfile(src, sub / (src.name if real else f"s{i:06d}.txt"))
    sizes = sorted(p.stat().st_size for p in root.rglob("*.txt"))
    return {"source": "korea_dev" if real else "sample stories (../shared absent: short stories)",
            "copies": copies, "files": len(sizes), "median_file_bytes": sizes[len(sizes) // 2],
            "total_mb": round(sum(sizes) / 1e6, 1)}


def _timed(fn, repeat: int) -> tuple[float, float, object]:
    """Best wall seconds and its CPU seconds (this process and finished children) over ``repeat`` runs."""
    best = (float("inf"), 0.0, None)
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), _cpu()
        result = fn()
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        if wall < best[0]:
            best = (wall, cpu, result)
    return best


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _rate(n: int, wall: float, cpu: float) -> dict:
    return {"stories": n, "seconds": round(wall, 3), "stories_per_s": round(n / wall),
            "cpu_seconds": round(cpu, 3), "stories_per_cpu_s": round(n / cpu) if cpu else None}


def _frozen_read(folder: Path):
    spec = importlib.util.spec_from_file_location("story_before", FROZEN)
    module = importlib.util.module_from_spec(spec)
    sys.modules["story_before"] = module
    spec.loader.exec_module(module)
    from nlp_wire.reader import iter_files

    def read() -> int:  # the reader as it was: Path.read_bytes, decode, the old parser
        n = 0
        for path in iter_files(folder):
            text = module.decode_wire_bytes(path.read_bytes(), path)
            n += len(list(module.parse_stories(text, id=path.stem, path=str(path))))
        return n

    return read


def _big_file_rss(folder: Path, mb: int) -> dict:
    big = folder / "big.txt"
    body = ("Officials said the plan would go ahead as agreed. " * (mb * 1_000_000 // 51 + 1))[: mb * 1_000_000]
    big.write_text(f" date 2024-01-02 A very long story\nSEOUL, Jan. 2 (Yonhap) -- {body}\n(END)\n")
    code = ("import sys\nfrom nlp_wire import read_stories\n"
            "def kb(key):\n"
            "    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith(key))\n"
            "open('/proc/self/clear_refs', 'w').write('5')  # peak RSS from here on: imports left out\n"
            "base = kb('VmRSS:')\n"
            "s = list(read_stories(sys.argv[1], max_bytes=None))\n"
            "print(base, kb('VmHWM:'), len(s[0].body))\n")
    out = subprocess.run([sys.executable, "-c", code, str(big)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout.split()
    base, peak = int(out[0]) / 1024, int(out[1]) / 1024
    size = big.stat().st_size / 2**20
    big.unlink()
    return {"file_mb": round(size, 1), "rss_before_read_mb": round(base, 1), "peak_rss_mb": round(peak, 1),
            "growth_over_file_size": round((peak - base) / size, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench/read.json")
    ap.add_argument("--copies", type=int, default=45, help="korea_dev copies (225 files each)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--model", default="baseline", help="the TF-IDF baseline by name or folder")
    ap.add_argument("--big-mb", type=int, default=9, help="size of the one-file memory check")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from nlp_wire import read_stories
    from nlp_wire.classify import load_classifier
    from nlp_wire.classify.files import classify_files
    from nlp_wire.text import model_input

    result: dict = {"machine": cpu_info(), "python": platform.python_version(),
                    "load_average_at_start": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="bench_read_") as tmp:
        folder = Path(tmp) / "copies"
        folder.mkdir()
        result["data"] = _make_copies(folder, args.copies)
        steps: dict = {}
        wall, cpu, stories = _timed(lambda: list(read_stories(folder)), args.repeat)
        steps["read_stories"] = _rate(len(stories), wall, cpu)
        if FROZEN.exists():
            wall, cpu, n = _timed(_frozen_read(folder), args.repeat)
            steps["read_stories_before_issue_14"] = _rate(n, wall, cpu)
            steps["parser_speedup"] = round(steps["read_stories"]["stories_per_s"] / steps["read_stories_before_issue_14"]["stories_per_s"], 2)
        wall, cpu, _ = _timed(lambda: [model_input(s) for s in stories], args.repeat)
        steps["model_input"] = _rate(len(stories), wall, cpu)
        model = load_classifier(args.model)

        def predict() -> int:
            it, n = iter(stories), 0
            while batch := list(islice(it, 512)):
                n += len(model.predict(batch, batch_size=512))
            return n

        wall, cpu, n = _timed(predict, args.repeat)
        steps["baseline_predict"] = _rate(n, wall, cpu)
        for workers in (1, 2):
            wall, cpu, n = _timed(lambda: sum(1 for _ in classify_files({"path": args.model}, [folder], workers=workers, model=model)),
                                  args.repeat)
            steps[f"files_to_labels_{workers}_worker{'s' * (workers > 1)}"] = _rate(n, wall, cpu)
        text = " date 2024-05-01 Head\nSEOUL -- prose.\n" + "-\n" * 100_000
        from nlp_wire.story import parse_stories

        wall, cpu, _ = _timed(lambda: list(parse_stories(text)), 1)
        steps["no_end_100k_dash_lines_seconds"] = round(wall, 4)
        result["steps"] = steps
        result["one_big_file"] = _big_file_rss(Path(tmp), args.big_mb)
    result["load_average_at_end"] = os.getloadavg()
    result["peak_rss_mb"] = {"self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                             "largest_child": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
