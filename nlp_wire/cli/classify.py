"""``nlp-wire classify MODEL PATH...``: one JSON line per story, bad inputs reported, never fatal."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

from tqdm import tqdm

from ..atomic import atomic_write
from ..classify.transformer import DTYPES
from .errors import UserError
from .reading import add_reading_options, not_read_tail, print_not_read, reading_options, refuse_local_only


def add_parser(sub):
    p = sub.add_parser("classify", help="classify stories (folders, files, JSONL or CSV); prints JSON lines")
    p.add_argument("model", help="model folder or shipped name ('default': the most accurate at >= 50 stories/s; "
                        "'nlp-wire models' lists the names)")
    p.add_argument("paths", nargs="+", help="wire files, folders (recursive *.txt), or JSONL or CSV files of records")
    p.add_argument("--batch-size", type=int, default=256, help="stories per prediction batch (default 256)")
    p.add_argument("--workers", type=int, default=0,
                   help="processes reading and predicting (0: one per core for the TF-IDF baseline, 1 for torch "
                        "models, whose threads use every core; more torch workers run one thread each); the output "
                        "order is the same for any number")
    p.add_argument("--threshold", type=float, default=None, help="answer the default label below this confidence")
    p.add_argument("--device", default="cpu", help="transformers: cpu, cuda, cuda:N, mps or auto (a baseline "
                   "always runs on the CPU)")
    p.add_argument("--int8", action="store_true", help="transformer on CPU: int8 dynamic quantization (faster)")
    p.add_argument("--onnx", action="store_true",
                   help="transformer on CPU: predict in ONNX Runtime (faster; pip install 'nlp_wire[onnx]')")
    p.add_argument("--dtype", choices=DTYPES, default=None,
                   help="transformer in torch (default: float32, exact; for the default model, bfloat16 on CPUs "
                        "with AMX or AVX512-BF16): bfloat16 is 1.6-2.4x faster there (more with AMX); float16 is for GPUs")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="ray: read, parse and classify on a Ray cluster (RAY_ADDRESS, else a local Ray); needs --out "
                        "and pip install 'nlp_wire[ray]'")
    p.add_argument("--out", help="write the JSON lines to OUT (.jsonl) instead of standard output, whole or not at all, "
                                 "and bad inputs to OUT.errors.jsonl; with --engine ray (which needs it) a rerun "
                                 "skips the shards a crashed run finished")
    p.add_argument("--num-gpus", type=float, default=0, help="with --engine ray: GPUs per model actor (0: CPU actors)")
    add_reading_options(p)
    return p


def run(args) -> int:
    from ..classify import load_classifier
    from ..classify.files import classify_files
    from ..reader import ReadReport
    from ..summarize.batch import errors_path_for
    from ..workers import WorkerDied

    if args.engine == "ray":
        return _run_ray(args)
    if args.workers < 0 or args.batch_size < 1:
        raise UserError("--workers must be >= 0 and --batch-size >= 1")
    if args.out:
        _check_out(args.out)
    auto = args.model == "default" and args.dtype is None and not args.int8
    load = dict(path=args.model, device=args.device, threshold=args.threshold, quantize=args.int8,
                runtime="onnxruntime" if args.onnx else "auto" if auto else "torch", dtype=args.dtype)
    options = reading_options(args)
    try:
        model = load_classifier(**load)  # a bad model folder fails here, in one line, before any worker starts
    except ImportError as exc:
        raise UserError(str(exc)) from None
    from ..classify.baseline import TfidfClassifier

    if isinstance(model, TfidfClassifier):
        ignored = [flag for flag, on in (("--dtype", args.dtype not in (None, "float32")), ("--device", args.device != "cpu"),
                                         ("--onnx", args.onnx), ("--int8", args.int8)) if on]
        if ignored:
            print(f"warning: {', '.join(ignored)} ignored: {args.model} is a TF-IDF baseline (CPU, float64)",
                  file=sys.stderr)
    missing = [p for p in args.paths if not os.path.lexists(p)]
    for p in missing:
        print(f"skipped: {p}: no such file or folder", file=sys.stderr)
    report = ReadReport()
    sink = atomic_write(args.out) if args.out else contextlib.nullcontext(sys.stdout)
    try:
        with tqdm(desc="classifying", unit=" stories", disable=None, file=sys.stderr) as bar, sink as fh:
            lines = classify_files(load, [p for p in args.paths if p not in missing], workers=args.workers,
                                   batch_size=args.batch_size, report=report, warn=False, on_progress=bar.update,
                                   model=model, **options)
            for line in lines:
                fh.write(line)
    except WorkerDied as exc:
        if not args.out:
            raise
        raise WorkerDied(f"{exc}: to a temporary file, dropped; {args.out} was left as it was") from None
    n = report.stories
    for err in report.errors:
        print(f"skipped: {err}", file=sys.stderr)
    if args.out:
        _write_errors(errors_path_for(args.out), report.errors)
    print_not_read(report.skipped, args.verbose)
    print(f"classified {n} stories; {len(report.errors)} bad inputs skipped{not_read_tail(report)}"
          + (f"; {len(missing)} input paths do not exist" if missing else "")
          + (f"; wrote {args.out}" if args.out else ""), file=sys.stderr)
    if not n and not report.errors and not missing:
        print(f"nlp-wire classify: no stories found in {', '.join(args.paths)}", file=sys.stderr)
        return 2
    return 2 if missing or (report.errors and not n) else 0


def _check_out(out: str) -> None:
    """Refuse an OUT that is not a new or existing ``.jsonl`` file in an existing folder, before the model loads."""
    path = Path(out)
    if path.suffix != ".jsonl" or path.is_dir():
        raise UserError(f"--out {out}: name a .jsonl file")
    if not path.parent.is_dir():
        raise UserError(f"--out {out}: no such folder {path.parent}")


def _write_errors(path: Path, errors: list) -> None:
    """The bad inputs as ``{"path", "line", "reason"}`` lines (the Ray engine's and summarize's errors file);
    an errors file of an earlier run is removed when there are none now."""
    if not errors:
        path.unlink(missing_ok=True)
        return
    with atomic_write(path) as fh:
        fh.writelines(json.dumps({"path": e.path, "line": e.line, "reason": e.message}, ensure_ascii=False) + "\n"
                      for e in errors)


def _run_ray(args) -> int:
    if not args.out:
        raise UserError("--engine ray needs --out OUT.jsonl")
    refuse_local_only(args, workers_default=0)
    try:
        from ..engines.ray_engine import classify_to_file

        report = classify_to_file(args.model, args.paths, args.out, device=args.device, num_gpus=args.num_gpus,
                                  batch_size=args.batch_size, threshold=args.threshold, quantize=args.int8,
                                  runtime="onnxruntime" if args.onnx else "torch", dtype=args.dtype)
    except ImportError as exc:
        raise UserError(str(exc)) from None
    print_not_read(report.not_read, args.verbose)
    print(report.line(), file=sys.stderr)
    missing = [p for p in args.paths if not os.path.lexists(p)]
    return 2 if missing or (report.failed and not report.done) else 0  # as the local engine
