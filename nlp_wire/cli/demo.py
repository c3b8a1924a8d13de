"""``nlp-wire demo``: the main job on the bundled sample stories, end to end.

Weak-labels the stories with the topic rules, trains the baseline on their labels, classifies them,
summarizes the folder, and prints where every result is.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "stories"


def add_parser(sub):
    p = sub.add_parser("demo", help="run label, train, classify and summarize on the bundled sample stories")
    p.add_argument("--out", default="out/demo", help="folder for all results (default: out/demo)")
    p.add_argument("--stories", default=str(SAMPLE), help="labeled story folder (default: the bundled samples)")
    return p


def run(args) -> int:
    from ..classify.train import train
    from ..config import TrainConfig, load_config
    from ..reader import ReadReport, read_stories
    from ..summarize.batch import summarize_folder
    from ..weak_labels import LABELS_CSV_HEADER, TopicRules, label_rows
    from .train import default_config

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stories = Path(args.stories)

    # 1. weak labels from the rules
    rules = TopicRules.from_yaml()
    report = ReadReport()
    with open(out / "weak_labels.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(LABELS_CSV_HEADER)
        w.writerows(label_rows(read_stories(stories, on_error=report), rules))
    print(f"[1/4] weak labels for {report.stories} stories -> {out / 'weak_labels.csv'}", file=sys.stderr)

    # 2. train the baseline on the folder's labels.csv
    config = load_config(TrainConfig, default_config("baseline"), ["kind=baseline"])
    model = train(config, [str(stories)], out / "baseline")
    print(f"[2/4] baseline trained -> {out / 'baseline' / 'model'} (run record in {out / 'baseline'})", file=sys.stderr)

    # 3. classify every story with it
    all_stories = list(read_stories(stories))
    with open(out / "predictions.jsonl", "w", encoding="utf-8") as fh:
        for story, pred in zip(all_stories, model.predict(all_stories)):
            fh.write(json.dumps({"id": story.id, **pred.to_dict()}) + "\n")
    print(f"[3/4] {len(all_stories)} predictions -> {out / 'predictions.jsonl'}", file=sys.stderr)

    # 4. summarize the folder
    summ = summarize_folder(stories, out / "summaries.jsonl", sentences=3, progress=False)
    print(f"[4/4] summaries: {summ.line()}", file=sys.stderr)
    print(f"results in {out}/: weak_labels.csv, baseline/ (model, metrics.json, validation_confusion.png), "
          f"predictions.jsonl, summaries.jsonl")
    return 0
