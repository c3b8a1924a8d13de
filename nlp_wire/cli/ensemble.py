"""``nlp-wire ensemble OUT MODEL[@WEIGHT]... [--bias LABEL=VALUE]``: average trained models, linked by path
(nothing copied), optionally moving one label's averaged probability by a log-multiplier (as the protocol's
``default_bias`` choice does for the shipped ensembles)."""

from __future__ import annotations

import json
import sys


def add_parser(sub):
    p = sub.add_parser("ensemble", help="make a model folder that averages trained models' probabilities")
    p.add_argument("out", help="ensemble folder to write (it holds only a model card); new or empty")
    p.add_argument("models", nargs="+", metavar="MODEL[@WEIGHT]",
                   help="trained model folders or shipped model names (weight 1 by default)")
    p.add_argument("--overwrite", action="store_true", help="replace an ensemble linked earlier in OUT")
    p.add_argument("--bias", action="append", default=[], metavar="LABEL=VALUE",
                   help="multiply LABEL's averaged probability by exp(VALUE) before renormalising (repeatable), "
                        "e.g. --bias other=-0.5 calls the topics on less evidence")
    return p


def parse_bias(specs: list[str]) -> dict[str, float]:
    """``["other=-0.5"]`` -> ``{"other": -0.5}``.

    Raises:
        ValueError: A spec without ``=``, with an empty label, a value that is not a number, or a label twice.
    """
    bias: dict[str, float] = {}
    for spec in specs:
        label, sep, value = spec.partition("=")
        label = label.strip()
        try:
            number = float(value)
        except ValueError:
            number = None
        if not sep or not label or number is None:
            raise ValueError(f"--bias {spec!r}: write LABEL=NUMBER, e.g. other=-0.5")
        if label in bias:
            raise ValueError(f"--bias: label {label!r} given twice")
        bias[label] = number
    return bias


def run(args) -> int:
    from ..classify.ensemble import link_ensemble
    from ..dataset import parse_data_spec

    bias = parse_bias(args.bias)
    members: dict[str, float] = {}
    for spec in args.models:
        path, weight = parse_data_spec(spec)
        if path in members:  # a dict kept the last weight only
            raise ValueError(f"{path}: given twice as a member; give it once, with @WEIGHT for more weight")
        members[path] = weight
    ensemble = link_ensemble(args.out, members, label_bias=bias, overwrite=args.overwrite)
    print(json.dumps({"out": args.out, "labels": ensemble.labels,
                      "weights": {name: round(w, 6) for name, w in ensemble.weights.items()},
                      "label_bias": ensemble.label_bias}))
    print(f"load it with nlp_wire.load_classifier({args.out!r})", file=sys.stderr)
    return 0
