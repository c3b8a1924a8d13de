"""Build the shipped accurate model from the protocol's choice (``scripts/protocol.py --choose``).

    python scripts/protocol.py --choose                                   # -> bench/protocol_choice.json
    python scripts/build_accurate.py --choice bench/protocol_choice.json --models models --name accurate

Every chosen candidate is fit on all gold stories exactly as the protocol scored it (same config, data,
weights, self-training) into ``models/NAME_OF_CANDIDATE``; with more than one member, ``models/accurate``
is an ensemble card linking them with the chosen weights.
"""
import argparse
import json
import logging
from pathlib import Path

from nlp_wire.classify.ensemble import link_ensemble
from nlp_wire.classify.protocol import build_chosen, load_protocol

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--protocol", default="configs/protocol.yaml")
    ap.add_argument("--choice", default="bench/protocol_choice.json")
    ap.add_argument("--models", default="models", help="parent folder of the member folders")
    ap.add_argument("--name", default="accurate", help="the ensemble's folder name under --models")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    weights = json.loads(Path(args.choice).read_text())["weights"]
    members = build_chosen(load_protocol(args.protocol), weights, args.models)
    if len(members) > 1:
        link_ensemble(Path(args.models) / args.name, members)
    print(json.dumps({"members": members, "ensemble": str(Path(args.models) / args.name) if len(members) > 1 else None}))
