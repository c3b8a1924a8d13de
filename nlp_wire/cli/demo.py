"""``nlp-wire demo``: the main job on the bundled sample stories, end to end, from any folder.

Weak-labels the stories with the topic rules, trains the baseline on the weak labels of 80 % of them,
scores it on the other 20 % against their hand labels (stories it never saw, labels it never used),
classifies every story, summarizes the folder, and prints where every result is.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path


def add_parser(sub):
    p = sub.add_parser("demo", help="run label, train, classify and summarize on the bundled sample stories")
    p.add_argument("--out", default="nlp_wire_demo", help="folder for all results (default: ./nlp_wire_demo)")
    # None, not the samples' path: every nlp-wire command builds this parser, and only demo needs the path
    p.add_argument("--stories", default=None, help="labeled story folder (default: the bundled samples)")
    return p


def rules_accuracy(weak, gold) -> float:
    """Share of the stories in both datasets whose rules label (``weak``) is the hand label (``gold``).

    Stories are joined by id: each dataset may have left out stories the other kept (a story without a
    hand label, a duplicate dropped), so their rows do not pair up by position.

    Args:
        weak: Examples labeled by the topic rules (``id``, ``label``).
        gold: Examples with hand labels (``id``, ``label``).
    """
    weak_names, gold_names = weak.features["label"].names, gold.features["label"].names
    hand = {i: gold_names[label] for i, label in zip(gold["id"], gold["label"])}
    pairs = [(weak_names[label], hand[i]) for i, label in zip(weak["id"], weak["label"]) if i in hand]
    return sum(r == g for r, g in pairs) / max(1, len(pairs))


def run(args) -> int:
    from ..classify.train import train
    from ..config import TrainConfig, load_config
    from ..reader import ReadReport, read_stories
    from ..resources import sample_stories
    from ..summarize.batch import summarize_folder
    from ..weak_labels import LABELS_CSV_HEADER, TopicRules, label_rows
    from .train import default_config

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stories = Path(args.stories) if args.stories is not None else sample_stories()

    # 1. weak labels from the rules
    rules = TopicRules.from_yaml()
    report = ReadReport()
    with open(out / "weak_labels.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(LABELS_CSV_HEADER)
        w.writerows(label_rows(read_stories(stories, on_error=report), rules))
    print(f"[1/4] weak labels for {report.stories} stories -> {out / 'weak_labels.csv'}", file=sys.stderr)

    # 2. train the baseline on the weak labels of 80 % of the stories (split by story group)
    from ..classify.evaluate import evaluate
    from ..classify.train import fit_classifier
    from ..dataset import group_split, load_examples

    config = load_config(TrainConfig, default_config("baseline"), ["kind=baseline", "data.val_size=0.0"])
    weak = load_examples(stories, out / "weak_labels.csv", config=config.data)  # the rules' labels, not labels.csv
    gold = load_examples(stories, config=config.data)
    names = weak.features["label"].names
    parts = group_split([names[i] for i in weak["label"]], list(weak["group"]), {"test": 0.2}, seed=config.seed)
    held_out_ids = {weak["id"][i] for i in parts["test"]}
    model = fit_classifier(config, weak.select(parts["train"]), None, out / "baseline", progress=False)
    print(f"[2/4] baseline trained on the rules' labels of {len(parts['train'])} stories -> "
          f"{out / 'baseline' / 'model'}", file=sys.stderr)
    held_out = gold.filter(lambda row: row["id"] in held_out_ids)
    metrics = evaluate(model, held_out, out / "held_out", name="held_out", progress=False)
    rules_acc = rules_accuracy(weak.filter(lambda row: row["id"] in held_out_ids), held_out)
    print(f"      on {metrics['n']} held-out stories vs their hand labels: macro-F1 {metrics['macro_f1']:.3f}, "
          f"accuracy {metrics['accuracy']:.3f} (the rules alone: accuracy {rules_acc:.3f}) -> {out / 'held_out'}",
          file=sys.stderr)

    # 3. classify every story with it
    all_stories = list(read_stories(stories))
    with open(out / "predictions.jsonl", "w", encoding="utf-8") as fh:
        for story, pred in zip(all_stories, model.predict(all_stories)):
            fh.write(json.dumps({"id": story.id, **pred.to_dict()}) + "\n")
    print(f"[3/4] {len(all_stories)} predictions -> {out / 'predictions.jsonl'}", file=sys.stderr)

    # 4. summarize the folder
    summ = summarize_folder(stories, out / "summaries.jsonl", sentences=3, progress=False)
    print(f"[4/4] summaries: {summ.line()}", file=sys.stderr)
    print(f"results in {out}/: weak_labels.csv, baseline/model/, held_out/ (metrics, confusion PNG, errors), "
          f"predictions.jsonl, summaries.jsonl")
    return 0
