"""``nlp-wire classify MODEL PATH...``: one JSON line per story, bad inputs reported, never fatal."""

from __future__ import annotations

import json
import os
import sys
from itertools import islice

from tqdm import tqdm

from ..classify.transformer import DTYPES


def add_parser(sub):
    p = sub.add_parser("classify", help="classify stories (folders, files, JSONL); prints JSON lines")
    p.add_argument("model", help="model folder or shipped name ('default': the most accurate at >= 50 stories/s; "
                        "'nlp-wire models' lists the names)")
    p.add_argument("paths", nargs="+", help="wire files, folders or JSONL files")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--threshold", type=float, default=None, help="answer the default label below this confidence")
    p.add_argument("--device", default="cpu")
    p.add_argument("--int8", action="store_true", help="transformer on CPU: int8 dynamic quantization (faster)")
    p.add_argument("--onnx", action="store_true",
                   help="transformer on CPU: predict in ONNX Runtime (faster; pip install 'nlp_wire[onnx]')")
    p.add_argument("--dtype", choices=DTYPES, default="float32",
                   help="transformer in torch: bfloat16 is several times faster on CPUs with AMX or AVX512-BF16; "
                        "float16 is for GPUs")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="ray: read, parse and classify on a Ray cluster (RAY_ADDRESS, else a local Ray); needs --out "
                        "and pip install 'nlp_wire[ray]'")
    p.add_argument("--out", help="with --engine ray: the merged .jsonl output (bad inputs in OUT.errors.jsonl); "
                                 "a rerun skips the shards a crashed run finished")
    p.add_argument("--num-gpus", type=float, default=0, help="with --engine ray: GPUs per model actor (0: CPU actors)")
    return p


def run(args) -> int:
    from ..classify import load_classifier
    from ..reader import ReadReport, read_stories
    from .main import UserError

    if args.engine == "ray" or args.out:
        return _run_ray(args)
    try:
        auto = args.model == "default" and args.dtype == "float32" and not args.int8
        model = load_classifier(args.model, device=args.device, threshold=args.threshold, quantize=args.int8,
                                runtime="onnxruntime" if args.onnx else "auto" if auto else "torch", dtype=args.dtype)
    except ImportError as exc:
        raise UserError(str(exc)) from None
    missing = [p for p in args.paths if not os.path.lexists(p)]
    for p in missing:
        print(f"skipped: {p}: no such file or folder", file=sys.stderr)
    report = ReadReport()
    stories = read_stories([p for p in args.paths if p not in missing], on_error=report, warn=False)
    n = 0
    with tqdm(desc="classifying", unit=" stories", disable=None, file=sys.stderr) as bar:
        while batch := list(islice(stories, args.batch_size)):
            for story, pred in zip(batch, model.predict(batch, batch_size=args.batch_size)):
                sys.stdout.write(json.dumps({"id": story.id, **pred.to_dict()}, ensure_ascii=False) + "\n")
            n += len(batch)
            bar.update(len(batch))
    for err in report.errors:
        print(f"skipped: {err}", file=sys.stderr)
    print(f"classified {n} stories; {len(report.errors)} bad inputs skipped"
          + (f"; {len(missing)} input paths do not exist" if missing else ""), file=sys.stderr)
    return 2 if missing or (report.errors and not n) else 0


def _run_ray(args) -> int:
    from .main import UserError

    if args.engine != "ray" or not args.out:
        raise UserError("--out goes with --engine ray (the local engine prints JSON lines)" if args.out
                        else "--engine ray needs --out OUT.jsonl")
    try:
        from ..engines.ray_engine import classify_to_file

        report = classify_to_file(args.model, args.paths, args.out, device=args.device, num_gpus=args.num_gpus,
                                  batch_size=args.batch_size, threshold=args.threshold, quantize=args.int8,
                                  runtime="onnxruntime" if args.onnx else "torch", dtype=args.dtype)
    except ImportError as exc:
        raise UserError(str(exc)) from None
    print(report.line(), file=sys.stderr)
    missing = [p for p in args.paths if not os.path.lexists(p)]
    return 2 if missing or (report.failed and not report.done) else 0  # as the local engine
