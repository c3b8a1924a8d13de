"""Fine-tune MiniLM: python scripts/train_transformer.py --config configs/minilm_cpu.yaml --data ... --out RUN."""
import sys

from nlp_wire.cli.main import main

if {"-h", "--help"} & set(sys.argv[1:]):  # the usage below is the command's: leave out what this script fills in
    print(f"{sys.argv[0]} is `nlp-wire train minilm ARGS`; the options are that command's:\n")
sys.exit(main(["train", "minilm", *sys.argv[1:]]))
