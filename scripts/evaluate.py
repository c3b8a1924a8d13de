"""Evaluate a model folder: python scripts/evaluate.py MODEL --data LABELED [--out DIR]."""
import sys

from nlp_wire.cli.main import main

if {"-h", "--help"} & set(sys.argv[1:]):  # the usage below is the command's: leave out what this script fills in
    print(f"{sys.argv[0]} is `nlp-wire evaluate ARGS`; the options are that command's:\n")
sys.exit(main(["evaluate", *sys.argv[1:]]))
