"""``nlp-wire label FOLDER``: weak-label stories with the topic rules and write ``labels.csv``."""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from ..outputs import counted, first_few
from .errors import UserError
from .reading import add_reading_options, not_read_tail, print_not_read, reading_options


def add_parser(sub):
    p = sub.add_parser("label", help="weak-label a folder of stories with the topic rules (writes labels.csv)")
    p.add_argument("path", help="folder (or file) of wire stories, or a JSONL or CSV file of records")
    p.add_argument("--rules", default=None, help="rules YAML (default: configs/topics.yaml)")
    p.add_argument("--out", default=None, help="output CSV (default: PATH/labels.csv; '-' for stdout)")
    p.add_argument("--force", action="store_true", help="overwrite an existing labels file")
    add_reading_options(p)
    return p


def run(args) -> int:
    from ..atomic import atomic_write
    from ..reader import ReadReport, read_stories
    from ..weak_labels import LABELS_CSV_HEADER, TopicRules, label_rows

    rules = TopicRules.from_yaml(args.rules)
    src = Path(args.path)
    if not src.exists():
        raise UserError(f"{src}: no such file or folder")
    out = args.out or str((src if src.is_dir() else src.parent) / "labels.csv")
    if out != "-":
        _check_out(Path(out), src, args)
    report = ReadReport()
    seen: dict[str, list[str]] = {}  # id -> where each story of that id is

    def where(stories):
        for story in stories:
            seen.setdefault(story.id, []).append(f"{story.path}:{story.line}" if story.path else story.id)
            yield story

    stories = tqdm(where(read_stories(src, on_error=report, **reading_options(args, [src]))), desc="labeling", unit=" stories",
                   disable=None)
    rows = list(label_rows(stories, rules))
    _check_ids(rows, seen)
    counts = Counter(label or "(abstained)" for _, label, _ in rows)
    print_not_read(report.skipped, args.verbose)
    if not rows:
        if len(report.errors) == 1 and not report.skipped:  # say what is wrong with it, not just that it was skipped
            raise UserError(f"no readable stories: {report.errors[0]}")
        if len(report.skipped) == 1 and not report.errors:
            raise UserError(f"no readable stories: not read: {report.skipped[0]}")
        raise UserError(f"{src}: no readable stories ({len(report.errors)} bad files{not_read_tail(report)})")
    if out == "-":
        w = csv.writer(sys.stdout)
        w.writerow(LABELS_CSV_HEADER)
        w.writerows(rows)
    else:
        with atomic_write(out, newline="") as fh:
            w = csv.writer(fh)
            w.writerow(LABELS_CSV_HEADER)
            w.writerows(rows)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"labeled {counted(len(rows), 'story')} ({summary}); {counted(len(report.errors), 'bad input')} skipped{not_read_tail(report)}; "
          + ("wrote them to standard output" if str(out) == "-" else f"wrote {out}"), file=sys.stderr)
    return 0


def _check_out(out: Path, src: Path, args) -> None:
    """Refuse an --out that would replace a folder, an input story, or (without --force) an existing labels file;
    a single story given alone does not replace its whole folder's labels.csv, even with --force."""
    from ..outputs import check_not_input

    if out.is_dir():
        raise UserError(f"{out} is a folder; give --out a file name")
    if out.suffix and out.suffix.lower() != ".csv":  # story.txt, records.jsonl: an input's name, not a labels file
        raise UserError(f"--out {out}: labels are written as CSV; give a .csv file name")
    try:
        check_not_input(out, [src])
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not out.exists():
        return
    if not args.force:
        raise UserError(f"{out} exists (gold labels?); pass --force to overwrite or --out elsewhere")
    if src.is_file() and args.out is None:
        raise UserError(f"{out} holds the labels of the whole folder and {src} is one file of it; "
                        "give --out for this file's labels")


def _check_ids(rows, seen: dict[str, list[str]]) -> None:
    """A story's id is its file name without .txt: same-named files in two folders (or records sharing an id) give
    one id twice. With two labels that labels.csv would be refused by train and evaluate, so it is not written;
    with one label it is written, and the shared ids are named."""
    import logging

    labels: dict[str, set[str]] = {}
    for story_id, label, _ in rows:
        labels.setdefault(story_id, set()).add(label)
    shared = {i: places for i, places in seen.items() if len(places) > 1}
    if not shared:
        return
    clash = next((i for i in shared if len(labels.get(i, ())) > 1), None)
    named = first_few((f"{i!r}: {', '.join(places)}" for i, places in shared.items()), sep="; ")
    hint = "a story's id is its file name without .txt, so give files in different folders different names"
    if clash is not None:
        raise UserError(f"{counted(len(shared), 'story id')} shared by several stories ({named}), and {clash!r} would "
                        f"get two labels, which train refuses; {hint}. Nothing written")
    logging.getLogger("nlp_wire").warning("%s shared by several stories (%s); each row stands for all of them: %s",
                                          counted(len(shared), "story id"), named, hint)
