"""``nlp-wire ensemble OUT MODEL[@WEIGHT]...``: average trained models, linked by path (nothing copied)."""

from __future__ import annotations

import json
import sys


def add_parser(sub):
    p = sub.add_parser("ensemble", help="make a model folder that averages trained models' probabilities")
    p.add_argument("out", help="ensemble folder to write (it holds only a model card)")
    p.add_argument("models", nargs="+", metavar="MODEL[@WEIGHT]", help="trained model folders (weight 1 by default)")
    return p


def run(args) -> int:
    from ..classify.ensemble import link_ensemble
    from ..classify.train import parse_data_spec

    members = dict(parse_data_spec(spec) for spec in args.models)
    ensemble = link_ensemble(args.out, members)
    print(json.dumps({"out": args.out, "labels": ensemble.labels,
                      "weights": {name: round(w, 6) for name, w in ensemble.weights.items()}}))
    print(f"load it with nlp_wire.load_classifier({args.out!r})", file=sys.stderr)
    return 0
