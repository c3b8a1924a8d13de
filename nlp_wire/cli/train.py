"""``nlp-wire train {baseline,minilm} --config ... --data ... --out ... --set key=value``."""

from __future__ import annotations

import sys

from .errors import UserError
from .reading import add_field_options, field_options


def add_parser(sub):
    p = sub.add_parser("train", help="train a topic classifier and record the run")
    p.add_argument("kind", choices=["baseline", "minilm"],
                   help="baseline: TF-IDF + logistic regression; minilm: a transformer (all-MiniLM-L6-v2 by default, "
                        "or the encoder the config names, e.g. mpnet)")
    p.add_argument("--config", help="YAML config: a path, or a shipped one by name (minilm_gpu.yaml; default: baseline.yaml or minilm_cpu.yaml)")
    p.add_argument("--data", action="append", required=True,
                   help="labeled source: folder with labels.csv, or JSONL/CSV records (RECORDS::LABELS.csv takes the labels from that file, by id); append @WEIGHT to weight it; repeatable")
    p.add_argument("--out", required=True, help="run folder (the model goes to OUT/model); must be new or empty")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run folder whole (only a folder nlp-wire train wrote, never one holding --data)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. training.lr=3e-5")
    p.add_argument("--teacher", metavar="MODEL",
                   help="distil: a trained model folder whose probabilities on --unlabeled stories become soft targets")
    p.add_argument("--unlabeled", action="append", default=[], metavar="PATH[@WEIGHT]",
                   help="unlabeled stories for the --teacher to label (folder, wire file or JSONL); repeatable")
    p.add_argument("--unlabeled-limit", type=int, metavar="N",
                   help="at most N stories per --unlabeled source, evenly spaced over it")
    add_field_options(p)
    return p


def default_config(kind: str):
    from ..resources import config_path

    path = config_path("baseline.yaml" if kind == "baseline" else "minilm_cpu.yaml")
    return str(path) if path.exists() else None


def run(args) -> int:
    import shutil
    from pathlib import Path

    from ..classify.accelerator import is_main_process
    from ..classify.train import train
    from ..config import TrainConfig, load_config
    from ..dataset import parse_data_spec, split_labels

    # Everything the run needs is checked before --out is touched: with --overwrite, a typo in --set or a
    # missing --data source must not cost the earlier run.
    from ..resources import find_config

    if args.config:
        found = find_config(args.config)
        config_file = str(found)
        shipped = " (shipped with nlp_wire)" if found != Path(args.config) else ""
    else:
        config_file, shipped = default_config(args.kind), f" (the shipped {args.kind} recipe)"
    print(f"config: {config_file}{shipped}", file=sys.stderr)
    kind_set = next((o for o in args.overrides if o.partition("=")[0].strip() == "kind"), None)
    if kind_set is not None:  # it overrode the positional kind silently (baseline ... --set kind=minilm trained MiniLM)
        raise UserError(f"--set {kind_set}: the model kind is the first argument of train ({args.kind}), not a config key")
    config = load_config(TrainConfig, config_file, [f"kind={args.kind}", *args.overrides])
    from ..classify.accelerator import launched

    if config.kind != "baseline" and not launched():  # a missing GPU is said now, not after minutes of reading data
        from ..device import resolve_device

        try:
            resolve_device(config.device, log=False)  # make_accelerator resolves it again and says so
        except ValueError as exc:
            raise UserError(f"{config_file}: {exc}"
                            + (" (given with --set)" if any(o.startswith("device=") for o in args.overrides) else "")) from None
    if args.unlabeled_limit is not None and args.unlabeled_limit < 1:
        raise UserError(f"--unlabeled-limit {args.unlabeled_limit}: give at least 1 story per --unlabeled source")
    if bool(args.teacher) != bool(args.unlabeled):
        raise UserError("--teacher and --unlabeled go together (the teacher labels those stories)")
    for flag, spec in [*(("--data", s) for s in args.data), *(("--unlabeled", s) for s in args.unlabeled)]:
        source, labels = split_labels(parse_data_spec(spec)[0])
        for path in (source, labels):
            if path is not None and not Path(path).exists():
                raise UserError(f"{flag} {spec}: {path} does not exist")
    teacher = None
    if args.teacher:
        from ..classify import load_classifier

        teacher = load_classifier(args.teacher)
    out = Path(args.out)
    main = is_main_process()  # under accelerate launch only the main process writes, so only it checks --out:
    if main:  # another would find the main's first files and stop
        _check_out(out, args)
    # The run is written beside OUT and takes its place only once it is whole: a bad labels row or data the model
    # cannot be fitted on costs neither an earlier run (--overwrite) nor leaves a half-written one behind.
    staging = out.with_name(f".{out.name}.partial")
    if main:
        shutil.rmtree(staging, ignore_errors=True)  # a run killed earlier
        try:
            staging.mkdir(parents=True)
        except PermissionError:  # named by --out, not by the hidden staging folder beside it
            raise UserError(f"--out {out}: permission denied: no new folder may be made in {staging.parent}") from None
    try:
        train(config, args.data, staging if main else out, teacher=teacher, unlabeled=args.unlabeled or None,
              unlabeled_limit=args.unlabeled_limit, teacher_name=args.teacher,
              **field_options(args, [parse_data_spec(spec)[0] for spec in (*args.data, *args.unlabeled)]))
    except BaseException:
        if main:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    if main:  # under accelerate launch, the process that wrote the run folder
        earlier = out.with_name(f".{out.name}.earlier")
        shutil.rmtree(earlier, ignore_errors=True)
        try:
            if out.exists():
                out.rename(earlier)
            try:
                staging.rename(out)
            except OSError:
                if earlier.exists() and not out.exists():  # the earlier run goes back in place
                    earlier.rename(out)
                raise
        except OSError as exc:  # not the user's input: exit 1, as for a full disk
            shutil.rmtree(staging, ignore_errors=True)
            kept = "the earlier run is kept" if out.exists() else f"the earlier run is in {earlier}"
            raise OSError(exc.errno, f"--out {out}: could not put the new run in place ({exc.strerror or exc}); "
                                     f"{kept}") from None
        shutil.rmtree(earlier, ignore_errors=True)
        print(f"model: {args.out}/model  (metrics: {args.out}/metrics.json)", file=sys.stderr)
    return 0


RUN_FILES = ("config.yaml", "metrics.json")  # what every finished train run holds (and model/ beside them)


def _check_out(out, args) -> None:
    """Refuse an --out that --overwrite must not replace: the current folder or one around it, a folder holding
    a training source, or a non-empty folder that is not a run of ours (it would be deleted whole)."""
    import os
    from pathlib import Path

    from ..dataset import parse_data_spec, split_labels
    from ..outputs import first_few

    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: is a file, not a run folder")
    here, where = Path.cwd().resolve(), out.resolve()
    if where == here or where in here.parents:
        raise UserError(f"--out {out}: is the current folder or holds it; give the run a folder of its own")
    sources = [split_labels(parse_data_spec(spec)[0]) for spec in [*args.data, *args.unlabeled]]
    for path in [p for pair in sources for p in pair if p is not None]:  # (a --teacher is loaded before: it may be)
        if os.path.exists(path) and (Path(path).resolve() == where or where in Path(path).resolve().parents):
            raise UserError(f"--out {out}: holds {path}, a source of this run; give the run a folder of its own")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not all((out / name).is_file() for name in RUN_FILES):
        raise UserError(f"--out {out}: holds {first_few(sorted(p.name for p in out.iterdir()))}, not a run of "
                        "nlp-wire train; --overwrite replaces only a run folder, so choose a new or empty folder")
    if not args.overwrite:
        raise UserError(f"--out {out}: holds an earlier run; choose a new folder or add --overwrite to replace it")
