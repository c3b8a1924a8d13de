"""``nlp-wire demo``: the main job on the bundled sample stories, end to end, from any folder.

Weak-labels the stories with the topic rules, trains the baseline on the weak labels of 80 % of them (by story
group), scores it on every story of the other 20 % against the folder's labels.csv (stories it never saw,
labels it never used; the rules alone are scored on the same stories, an abstention counting as wrong),
classifies every story, summarizes the folder, and prints where every result is.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import sys
from pathlib import Path

from ..outputs import counted


def add_parser(sub):
    p = sub.add_parser("demo", help="run label, train, classify and summarize on the bundled sample stories")
    p.add_argument("--out", default="nlp_wire_demo", help="folder for all results (default: ./nlp_wire_demo)")
    # None, not the samples' path: every nlp-wire command builds this parser, and only demo needs the path
    p.add_argument("--stories", default=None, help="labeled story folder (default: the bundled samples)")
    return p


def rules_accuracy(weak, gold) -> tuple[float, int]:
    """Share of the ``gold`` stories whose rules label (``weak``) is their label, a story the rules left
    unlabeled (abstained on) counting as wrong; and how many that is.

    Stories are joined by id: the rules' set leaves out abstentions (and may drop a duplicate), so the rows do
    not pair up by position.

    Args:
        weak: Examples labeled by the topic rules (``id``, ``label``).
        gold: Examples with the folder's labels (``id``, ``label``).
    """
    weak_names, gold_names = weak.features["label"].names, gold.features["label"].names
    rules = {i: weak_names[label] for i, label in zip(weak["id"], weak["label"])}
    right = sum(rules.get(i) == gold_names[label] for i, label in zip(gold["id"], gold["label"]))
    return right / max(1, len(gold)), sum(i not in rules for i in gold["id"])


@contextlib.contextmanager
def _named_once():
    """Step 1 named the folder's bad files; the datasets of step 2 read it again without naming them again."""
    drop = logging.Filter()
    drop.filter = lambda record: not str(record.msg).startswith("skipped ")
    loggers = [logging.getLogger(name) for name in ("nlp_wire.dataset", "nlp_wire.reader")]
    for logger in loggers:
        logger.addFilter(drop)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(drop)


def run(args) -> int:
    from ..config import TrainConfig, load_config
    from ..dataset import read_labels_file
    from ..reader import ReadReport, read_stories
    from ..resources import sample_stories
    from ..summarize.batch import summarize_folder
    from ..weak_labels import LABELS_CSV_HEADER, TopicRules, label_rows
    from .errors import UserError
    from .train import default_config

    out = Path(args.out)
    stories = Path(args.stories) if args.stories is not None else sample_stories()
    if not stories.is_dir():
        raise UserError(f"--stories {stories}: no such folder")
    if not (stories / "labels.csv").is_file():  # step 2 scores against it: say so before step 1 writes anything
        raise UserError(f"--stories {stories}: needs a labels.csv (id,label) to score the demo's model against")
    read_labels_file(stories / "labels.csv")  # a bad row (an id twice, an unknown label) too, with its line
    out.mkdir(parents=True, exist_ok=True)

    # 1. weak labels from the rules (the folder is read once here; its bad files are named once, here)
    rules = TopicRules.from_yaml()
    report = ReadReport()
    all_stories = list(read_stories(stories, on_error=report))
    with open(out / "weak_labels.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(LABELS_CSV_HEADER)
        w.writerows(label_rows(all_stories, rules))
    bad = f" ({counted(len(report.errors), 'bad file')} skipped, named above)" if report.errors else ""
    print(f"[1/4] weak labels for {report.stories} stories{bad} -> {out / 'weak_labels.csv'}", file=sys.stderr)

    # 2. train the baseline on the weak labels of 80 % of the stories (split by story group)
    from ..classify.evaluate import evaluate
    from ..classify.train import fit_classifier
    from ..dataset import group_split, load_examples

    config = load_config(TrainConfig, default_config("baseline"), ["kind=baseline", "data.val_size=0.0"])
    with _named_once():
        weak = load_examples(stories, out / "weak_labels.csv", config=config.data)  # the rules' labels, not labels.csv
        gold = load_examples(stories, config=config.data)
    names = gold.features["label"].names
    # Held out: a fifth of all labeled stories (by story group), also those the rules abstained on.
    parts = group_split([names[i] for i in gold["label"]], list(gold["group"]), {"test": 0.2}, seed=config.seed)
    held_out_groups = {gold["group"][i] for i in parts["test"]}
    train_set = weak.filter(lambda row: row["group"] not in held_out_groups)
    model = fit_classifier(config, train_set, None, out / "baseline", progress=False)
    print(f"[2/4] baseline trained on the rules' labels of {len(train_set)} stories -> "
          f"{out / 'baseline' / 'model'}", file=sys.stderr)
    held_out = gold.select(parts["test"])
    metrics = evaluate(model, held_out, out / "held_out", name="held_out", progress=False)
    rules_acc, abstained = rules_accuracy(weak, held_out)
    print(f"      on {metrics['n']} held-out stories vs {stories.name}/labels.csv: macro-F1 {metrics['macro_f1']:.3f}, "
          f"accuracy {metrics['accuracy']:.3f} (the rules alone: accuracy {rules_acc:.3f}, abstaining on "
          f"{abstained}) -> {out / 'held_out'}", file=sys.stderr)

    # 3. classify every story with it
    with open(out / "predictions.jsonl", "w", encoding="utf-8") as fh:
        for story, pred in zip(all_stories, model.predict(all_stories)):
            fh.write(json.dumps({"id": story.id, **pred.to_dict()}) + "\n")
    print(f"[3/4] {len(all_stories)} predictions -> {out / 'predictions.jsonl'}", file=sys.stderr)

    # 4. summarize the folder
    # OUT is the demo's own folder, whose files it rewrites on every run (steps 1-3 too)
    summ = summarize_folder(stories, out / "summaries.jsonl", sentences=3, progress=False, force=True)
    print(f"[4/4] summaries: {summ.line()}", file=sys.stderr)
    print(f"results in {out}/: weak_labels.csv, baseline/model/, held_out/ (metrics, confusion PNG, errors), "
          f"predictions.jsonl, summaries.jsonl")
    return 0
