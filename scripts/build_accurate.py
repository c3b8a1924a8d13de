"""Build the shipped accurate model from the protocol's choice (``scripts/protocol.py --choose``).

    python scripts/protocol.py --choose                                   # -> bench/protocol_choice.json
    python scripts/build_accurate.py                                      # -> models/CANDIDATE per member, models/ensemble

Every chosen candidate is fit on all gold stories exactly as the protocol scored it (same config, data,
weights, self-training) into ``models/NAME_OF_CANDIDATE`` (or the ``--folder`` given), and ``models/ensemble``
(``--name``) is an ensemble card linking them with the chosen weights and bias on ``other`` (the protocol's
``default_bias``), even for one member with no bias, so that the shipped name (``fast``, ``ensemble``) stays a
folder of its own whatever the procedure chose. An existing member
folder holding the same recipe fit on the same gold stories is reused; any other is refused (move it away
first).
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
    ap.add_argument("--name", default="ensemble", help="the ensemble's folder name under --models")
    ap.add_argument("--folder", action="append", default=[], metavar="CANDIDATE=FOLDER",
                    help="a member's folder name under --models (default: the candidate's name)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    choice = json.loads(Path(args.choice).read_text())
    weights, bias = choice["weights"], choice.get("bias") or {}
    folders = dict(item.split("=", 1) for item in args.folder)
    members = build_chosen(load_protocol(args.protocol), weights, args.models, folders)
    link_ensemble(Path(args.models) / args.name, members, label_bias=bias, overwrite=True)  # the shipped name's new choice
    print(json.dumps({"members": members, "label_bias": bias, "ensemble": str(Path(args.models) / args.name)}))
