#!/usr/bin/env python
"""Load time and prediction speed of every shipped model on real-length copy, in one run; writes JSON.

    python scripts/bench_models.py --out bench/models.json
    python scripts/bench_models.py --models minilm ensemble --texts 100 --out /tmp/m.json

Texts are the model inputs of korea_dev stories (real length; the bundled sample stories when
``../shared`` is absent, said in the JSON), predicted in batches of ``--batch-size`` with 2 torch threads.
Every model is timed in float32; transformers and ensembles also in the runtime that
``load_classifier(..., runtime="auto")`` (the default model's) takes on this CPU (``auto_runtime``:
bfloat16 where the CPU multiplies it natively), and transformers in ONNX Runtime int8 (``pip install
'nlp_wire[onnx]'``), each with the labels it changes against float32 on the same texts; the fastest
is the model's ``best``. The CPU model and flags are recorded:
numbers compare only within one run on one machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "korea_dev"


def texts(limit: int) -> tuple[list[str], str]:
    import nlp_wire
    from nlp_wire.text import model_input

    source = SHARED if SHARED.exists() else ROOT / "nlp_wire" / "sample_data" / "stories"
    stories = list(nlp_wire.read_stories(source))[:limit]
    return [model_input(s) for s in stories], str(source)


def timed(load, data: list[str], batch_size: int, repeat: int, against=None) -> tuple[dict, "np.ndarray"]:
    """Timing of ``load()``'s classifier over ``data`` and its probabilities; with ``against`` (float32
    probabilities of the same texts) also how many top labels differ and the largest probability change."""
    import numpy as np

    start = time.perf_counter()
    clf = load()
    loaded = time.perf_counter() - start
    clf.predict_proba(data[:batch_size], batch_size=batch_size)  # warm-up
    best, cpu = float("inf"), float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        proba = clf.predict_proba(data, batch_size=batch_size)
        best, cpu = min(best, time.perf_counter() - start), min(cpu, time.process_time() - start_cpu)
    # Wall-clock speed is what a user gets on 2 idle cores; CPU seconds show whether other work was
    # running (on an idle machine cpu_seconds is close to 2 x wall_seconds for 2-thread torch).
    row = {"load_seconds": round(loaded, 2), "stories_per_s": round(len(data) / best, 1),
           "wall_seconds": round(best, 2), "cpu_seconds": round(cpu, 2)}
    if against is not None:
        row["labels_changed_vs_float32"] = int(np.sum(proba.argmax(1) != against.argmax(1)))
        row["max_probability_change"] = round(float(np.abs(proba - against).max()), 4)
    return row, proba


def card(folder: Path) -> dict:
    return json.loads((folder / "nlp_wire_model.json").read_text())


def has_transformer(folder: Path, model_card: dict | None = None) -> bool:
    """Whether the model folder is, or links, a transformer (only those have a bfloat16 runtime)."""
    model_card = model_card or card(folder)
    if model_card["kind"] == "ensemble":
        return any(has_transformer((folder / m["path"]).resolve()) for m in model_card["members"])
    return model_card["kind"] == "transformer"


def main() -> None:
    import torch

    import nlp_wire
    from nlp_wire.classify.transformer import _cpu_has_bfloat16
    from nlp_wire.device import cpu_info

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", help="model folders under models/ (default: every model in "
                    "models/catalog.json, in its order)")
    ap.add_argument("--texts", type=int, default=225)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", default="bench/models.json")
    args = ap.parse_args()
    if not args.models:
        args.models = list(json.loads((ROOT / "models" / "catalog.json").read_text())["models"])
    torch.set_num_threads(2)
    data, source = texts(args.texts)
    result = {"machine": {"cpu": cpu_info(), "threads": 2, "python": platform.python_version(), "torch": torch.__version__,
                          "load_average_before": [round(x, 2) for x in os.getloadavg()]},
              "texts": {"source": source, "n": len(data), "mean_chars": round(sum(map(len, data)) / len(data))},
              "batch_size": args.batch_size, "models": {}}
    for name in args.models:
        folder = ROOT / "models" / name
        row, exact = {}, None
        # dtype given: exact float32 even for a shipped folder, which load_classifier otherwise runs in its auto
        # runtime (bfloat16 on CPUs with AVX512-BF16 or AMX, where this row timed bfloat16 twice)
        row["float32"], exact = timed(lambda: nlp_wire.load_classifier(folder, dtype="float32"), data,
                                      args.batch_size, args.repeat)
        model_card = card(folder)
        kind = model_card["kind"]
        # What load_classifier's runtime "auto" (the default model's) takes here: bfloat16 on CPUs that
        # multiply it natively, else float32 (already timed).
        row["auto_runtime"] = "bfloat16" if has_transformer(folder, model_card) and _cpu_has_bfloat16() else "float32"
        if row["auto_runtime"] != "float32":
            row["bfloat16"], _ = timed(lambda: nlp_wire.load_classifier(folder, runtime="auto"), data,
                                       args.batch_size, args.repeat, against=exact)
        if kind == "transformer":
            try:
                row["onnxruntime_int8"], _ = timed(lambda: nlp_wire.load_classifier(folder, runtime="onnxruntime",
                                                                                     quantize=True),
                                                   data, args.batch_size, args.repeat, against=exact)
            except Exception as exc:  # noqa: BLE001 - onnxruntime missing or export failed: say so, keep going
                row["onnxruntime_int8"] = {"error": f"{type(exc).__name__}: {exc}"}
        runtimes = {k: v["stories_per_s"] for k, v in row.items() if isinstance(v, dict) and "stories_per_s" in v}
        row["best"] = max(runtimes, key=runtimes.get)
        row["size_mb"] = round(sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6, 2)
        result["models"][name] = row
        print(name, json.dumps(row))
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
