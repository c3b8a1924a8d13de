"""Train the TF-IDF baseline: python scripts/train_baseline.py --data DATA[@W] ... --out RUN [--set k=v]."""
import sys

from nlp_wire.cli.main import main

if {"-h", "--help"} & set(sys.argv[1:]):  # the usage below is the command's: leave out what this script fills in
    print(f"{sys.argv[0]} is `nlp-wire train baseline ARGS`; the options are that command's:\n")
sys.exit(main(["train", "baseline", *sys.argv[1:]]))
