"""Train the TF-IDF baseline: python scripts/train_baseline.py --data DATA[@W] ... --out RUN [--set k=v]."""
import sys

from nlp_wire.cli.main import main

sys.exit(main(["train", "baseline", *sys.argv[1:]]))
