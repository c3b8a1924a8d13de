"""Fine-tune MiniLM: python scripts/train_transformer.py --config configs/minilm_cpu.yaml --data ... --out RUN."""
import sys

from nlp_wire.cli.main import main

sys.exit(main(["train", "minilm", *sys.argv[1:]]))
