"""``nlp-wire summarize PATH --out OUT``: lead summaries for every story in a folder, file or JSONL."""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import UserError
from .reading import add_reading_options, print_not_read, print_unwritten, reading_options, refuse_local_only


def add_parser(sub):
    p = sub.add_parser(
        "summarize",
        help="summarize every story in a folder, file or JSONL (to JSONL, CSV or a folder of .txt)",
        description="Write the lead sentences of every story under PATH to OUT. Bad files are listed in "
        "OUT's errors file and never stop the run; an interrupted run finishes with --resume.",
    )
    p.add_argument("path", help="folder of wire stories (recursive), one wire file, or a JSONL of records")
    p.add_argument("--out", required=True,
                   help="output: a .jsonl file, a .csv file, or a folder (one .txt per story); not '-'")
    p.add_argument("--sentences", type=int, default=None, help="sentences per summary (default from the config: 3)")
    p.add_argument("--max-words", type=int, default=None, help="cap on each summary's words")
    p.add_argument("--workers", type=int, default=None, help="processes (0: one per CPU core; 1: no pool)")
    from ..summarize import SUMMARIZERS

    p.add_argument("--method", default=None,
                   help=f"summarizer: {', '.join(sorted(SUMMARIZERS))} (default from the config: lead)")
    p.add_argument("--resume", action="store_true", help="finish an interrupted run with the same settings")
    p.add_argument("--force", action="store_true",
                   help="replace an existing OUT file that summarize did not write (never PATH's labels.csv), or write "
                        "into a non-empty folder that is not summarize's own (same-named files are replaced)")
    p.add_argument("--config", default=None, help="settings YAML (default: configs/summarize.yaml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="ray: on a Ray cluster (RAY_ADDRESS, else a local Ray); OUT must be .jsonl; a rerun skips "
                        "the shards a crashed run finished (pip install 'nlp_wire[ray]')")
    add_reading_options(p, "JSONL records")  # not CSV: summarize reads a record file line by line
    return p


def run(args) -> int:
    from ..config import SummarizeConfig, load_config
    from ..summarize.batch import summarize_folder

    if args.out == "-":  # label's stdout; here it would be a folder named "-" (resume and the errors file need files)
        raise UserError("--out -: summarize writes files: give --out FILE.jsonl, FILE.csv or FOLDER")
    src = Path(args.path)
    if not src.exists():
        raise UserError(f"{src}: no such file or folder")
    if src.is_file() and src.suffix.lower() == ".csv":  # else each row fails as "not a wire story"
        raise UserError(f"{src}: summarize reads wire files and JSONL records, not CSV")
    overrides = list(args.overrides)
    for key in ("sentences", "max_words", "workers", "method"):
        value = getattr(args, key)
        if value is not None:
            overrides.append(f"{key}={value}")
    cfg = load_config(SummarizeConfig, _config_path(args.config), overrides)
    if args.engine == "ray":
        refuse_local_only(args, workers_default=None)
        try:
            from ..engines.ray_engine import summarize_to_file

            report = summarize_to_file(src, args.out, sentences=cfg.sentences, max_words=cfg.max_words,
                                       method=cfg.method, progress=not args.no_progress, force=args.force)
        except ImportError as exc:
            raise UserError(str(exc)) from None
        print_not_read(report.not_read, args.verbose)
        print_unwritten(report)
        print(report.line(), file=sys.stderr)
        if not (report.done or report.skipped or report.failed):  # exit 2 as locally (it was 0 on Ray)
            print(f"nlp-wire summarize: no stories found in {src}", file=sys.stderr)
            return 2
        return 2 if report.failed and not report.done else 0  # every input bad: 2, as classify and label
    report = summarize_folder(
        src,
        args.out,
        sentences=cfg.sentences,
        max_words=cfg.max_words,
        method=cfg.method,
        workers=cfg.workers,
        chunk_size=cfg.chunk_size,
        resume=args.resume,
        force=args.force,
        progress=not args.no_progress,
        **reading_options(args, [src]),
    )
    print_not_read(report.not_read, args.verbose)
    print_unwritten(report)
    print(report.line(), file=sys.stderr)
    if not (report.done or report.skipped or report.failed or report.finished_before):
        print(f"nlp-wire summarize: no stories found in {src}", file=sys.stderr)  # as classify and label say
        return 2
    return 2 if report.failed and not report.done else 0  # every input bad: 2, as classify and label


def _config_path(path: str | None) -> Path | None:
    """The given config, else the shipped ``configs/summarize.yaml``."""
    from ..resources import config_path, find_config

    if path is not None:
        found = find_config(path)
        if found != Path(path):  # said, so that a mistyped path of one's own is not taken in silence
            print(f"config: {found} (shipped with nlp_wire)", file=sys.stderr)
        return found
    default = config_path("summarize.yaml")
    return default if default.exists() else None
