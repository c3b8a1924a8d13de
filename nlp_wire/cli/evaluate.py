"""``nlp-wire evaluate MODEL --data PATH``: metrics, confusion matrix and misclassified examples."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .errors import UserError
from .reading import add_field_options, field_options, warn_ignored_by_baselines


def add_parser(sub):
    p = sub.add_parser("evaluate", help="score a trained model on labeled data")
    p.add_argument("model", help="model folder or shipped name ('default', 'ensemble', ...; see nlp-wire models)")
    p.add_argument("--data", required=True, help="labeled folder (labels.csv) or JSONL/CSV records "
                   "(RECORDS::LABELS.csv takes the labels from that file, by id)")
    p.add_argument("--out", help="folder for metrics JSON, confusion PNG and misclassified examples")
    p.add_argument("--device", default="cpu", help="transformers: cpu (the default), cuda, cuda:N, mps or auto")
    p.add_argument("--batch-size", type=int, default=64, help="stories per prediction batch (default 64)")
    add_field_options(p)
    return p


def run(args) -> int:
    if args.batch_size < 1:
        raise UserError("--batch-size must be >= 1")
    made = None
    if args.out:  # a bad --out fails before the model loads and predicts, not after
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise UserError(f"--out {out}: is a file; give a folder for the metrics, plot and examples")
        if not out.exists():
            out.mkdir(parents=True)
            made = out  # removed again if the run stops before writing into it (a misspelt model, say)
    try:
        return _run(args)
    except BaseException:
        if made is not None and not any(made.iterdir()):
            made.rmdir()
        raise


def _run(args) -> int:
    from ..classify import load_classifier
    from ..classify.catalog import resolve_model, seen_sources, training_sources
    from ..classify.evaluate import evaluate
    from ..dataset import load_examples, split_labels

    model = load_classifier(args.model, device=args.device)
    warn_ignored_by_baselines(model, args.model, {"--device": args.device != "cpu"})
    source, labels_file = split_labels(args.data)
    seen = seen_sources(args.model, args.data)
    if seen:
        print(f"warning: {args.model} was trained on {seen[0]}: this score is on stories it has seen, not a "
              "held-out score (see models/README.md for held-out ones)", file=sys.stderr)
    elif not training_sources(resolve_model(args.model)):
        print(f"note: {args.model} has no training record (metrics.json beside it or one folder up): whether it "
              "trained on these stories cannot be told", file=sys.stderr)
    ds = load_examples(source, labels_file, config=model.input_config, drop_duplicates=False,
                       **field_options(args, [source]))
    metrics = evaluate(model, ds, args.out, batch_size=args.batch_size)
    shown = {k: metrics[k] for k in ("n", "accuracy", "macro_f1")}
    shown["f1"] = {k: v["f1"] for k, v in metrics["per_label"].items()}
    print(json.dumps(shown))
    ci = metrics["macro_f1_interval"]
    print(f"macro-F1 {metrics['macro_f1']:.3f}, {ci['level']:.0%} interval {ci['low']:.3f}-{ci['high']:.3f} "
          f"({ci['resamples']:,} bootstrap resamples of the {ci['units']:,} {ci['unit']}s: sampling noise only; "
          "copy unlike this data can score outside it)", file=sys.stderr)
    present = sum(1 for v in metrics["per_label"].values() if v["support"])
    if present < len(metrics["per_label"]):
        print(f"note: only {present} of the {len(metrics['per_label'])} labels occur in this data; macro-F1 averages "
              "every label, so the absent ones (F1 0 if ever predicted, else 0 by convention) pull it down: "
              "read accuracy and the per-label F1 instead", file=sys.stderr)
    if "publishers" in metrics:
        from ..classify.publishers import publisher_markdown

        print("by publisher:\n" + publisher_markdown(metrics["publishers"], examples=False)
              + ("(the misclassified stories: eval_publishers.md and eval_misclassified.jsonl in --out)\n" if args.out
                 else ""), file=sys.stderr, end="")
    if args.out:
        print(f"wrote {args.out}/eval_metrics.json, eval_confusion.png, eval_misclassified.jsonl"
              + (", eval_publishers.md" if "publishers" in metrics else ""), file=sys.stderr)
    return 0
