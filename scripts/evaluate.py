"""Evaluate a model folder: python scripts/evaluate.py MODEL --data LABELED [--out DIR]."""
import sys

from nlp_wire.cli.main import main

sys.exit(main(["evaluate", *sys.argv[1:]]))
