"""``nlp-wire classify MODEL PATH...``: one JSON line per story, bad inputs reported, never fatal."""

from __future__ import annotations

import os
import sys

from tqdm import tqdm

from ..classify.transformer import DTYPES
from ..outputs import counted, errors_path_for
from .errors import UserError
from .reading import (add_reading_options, not_read_tail, print_not_read, print_unwritten, reading_options,
                      refuse_local_only, warn_ignored_by_baselines)


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
    p.add_argument("--device", default="cpu", help="transformers: cpu (the default), cuda, cuda:N, mps or auto (a "
                   "baseline always runs on the CPU)")
    p.add_argument("--int8", action="store_true", help="transformer on CPU: int8 dynamic quantization (faster)")
    p.add_argument("--onnx", action="store_true",
                   help="transformer on CPU: predict in ONNX Runtime (faster; pip install 'nlp_wire[onnx]')")
    p.add_argument("--dtype", choices=DTYPES, default=None,
                   help="transformer in torch (default: float32, exact; for shipped models, bfloat16 on CPUs "
                        "with AMX or AVX512-BF16): bfloat16 is 1.6-2.4x faster there (more with AMX); float16 is for GPUs")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="ray: read, parse and classify on a Ray cluster (RAY_ADDRESS, else a local Ray); needs --out "
                        "and pip install 'nlp_wire[ray]'; a rerun always skips the shards an interrupted run finished")
    p.add_argument("--out", help="write the JSON lines to OUT (.jsonl) instead of standard output, whole or not at all, "
                                 "and bad inputs to OUT.errors.jsonl; with --engine ray (which needs it) a rerun "
                                 "skips the shards a crashed run finished")
    p.add_argument("--num-gpus", type=float, default=0, help="with --engine ray: GPUs per model actor (0: CPU actors)")
    add_reading_options(p)
    return p


def run(args) -> int:
    from ..classify import load_classifier
    from ..classify.files import check_out, classify_files, classify_to_file
    from ..outputs import check_not_input
    from ..reader import ReadReport

    if args.out:
        try:  # before Ray starts or the model loads
            check_out(args.out)
            check_not_input(args.out, args.paths)
        except ValueError as exc:
            raise UserError(f"--out {exc}") from None
    if args.workers < 0 or args.batch_size < 1:  # before Ray starts, too
        raise UserError("--workers must be >= 0 and --batch-size >= 1")
    if args.engine == "ray":
        return _run_ray(args)
    # runtime None: shipped models (the default or by name) take load_classifier's auto runtime, folders exact torch
    load = dict(path=args.model, device=args.device, threshold=args.threshold, quantize=args.int8,
                runtime="onnxruntime" if args.onnx else None, dtype=args.dtype)
    try:
        model = load_classifier(**load)  # a bad model folder fails here, in one line, before any worker starts
    except ImportError as exc:
        raise UserError(str(exc)) from None
    warn_ignored_by_baselines(model, args.model, {"--dtype": args.dtype not in (None, "float32"),
                                                  "--device": args.device != "cpu", "--onnx": args.onnx,
                                                  "--int8": args.int8})
    missing = [p for p in args.paths if not os.path.lexists(p)]  # listed among the bad inputs, counted apart
    report, wordless = ReadReport(), []
    with tqdm(desc="classifying", unit=" stories", disable=None, file=sys.stderr) as bar:
        options = dict(workers=args.workers, batch_size=args.batch_size, report=report, warn=False,
                       on_progress=bar.update, on_wordless=wordless.append, model=model,
                       **reading_options(args, args.paths))
        if args.out:
            classify_to_file(load, args.paths, args.out, **options)
        else:
            for line in classify_files(load, args.paths, **options):
                sys.stdout.write(line)
    n, bad = report.stories, len(report.errors) - len(missing)
    for err in report.errors:
        print(f"skipped: {err}", file=sys.stderr)
    print_not_read(report.skipped, args.verbose)
    print(f"classified {counted(n, 'story')}; {counted(bad, 'bad input')} skipped{not_read_tail(report)}"
          + (f"; {sum(wordless)} without words got {model.input_config.default_label!r}" if sum(wordless) else "")
          + (f"; {counted(len(missing), 'input path')} {'does' if len(missing) == 1 else 'do'} not exist" if missing else "")
          + ((f"; wrote {args.out}" + (f"; failures listed in {errors_path_for(args.out)}" if report.errors else "")
              if n else f"; nothing written: {args.out} was left as it was") if args.out else ""),
          file=sys.stderr)
    if not n and not bad and not missing:
        print(f"nlp-wire classify: no stories found in {', '.join(args.paths)}", file=sys.stderr)
        return 2
    return 2 if missing or (bad and not n) else 0


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
    print_unwritten(report)
    print(report.line("classify"), file=sys.stderr)
    missing = [p for p in args.paths if not os.path.lexists(p)]
    if not (report.done or report.failed or missing):  # exit 2 as locally (it was 0 on Ray)
        print(f"nlp-wire classify: no stories found in {', '.join(map(str, args.paths))}", file=sys.stderr)
        return 2
    return 2 if missing or (report.failed and not report.done) else 0  # as the local engine
