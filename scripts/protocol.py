"""Score the accurate model's selection procedure so that no choice sees the stories it is scored on.

    python scripts/protocol.py --scheme story       # nested 5-fold CV grouped by story -> bench/protocol_story.json
    python scripts/protocol.py --scheme day         # same, every day on one side      -> bench/protocol_day.json
    python scripts/protocol.py --scheme publisher   # leave one publisher out          -> bench/protocol_publisher.json
    python scripts/protocol.py --choose --out bench/protocol_choice.json   # the choice on all gold stories
    python scripts/protocol.py --extra-data nlp_wire/sample_data/stories_defs --out bench/protocol_story_defs.json

The procedure and its candidates live in ``configs/protocol.yaml``. In every outer split the candidate
(or weighted average) is chosen by an inner grouped CV of the outer training stories alone, refit on them
and scored on the outer test stories; the pooled outer predictions give the published macro-F1.
``--choose`` runs the same choice once on every gold story: that is what the shipped model is built from
(``python scripts/build_accurate.py``).
"""
import argparse
import json
import logging
import platform
import sys
from pathlib import Path

from nlp_wire.device import cpu_info
from nlp_wire.classify.protocol import load_protocol, missing_encoders, protocol_choice, run_protocol
from nlp_wire.config import ConfigError


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--protocol", default="configs/protocol.yaml")
    ap.add_argument("--scheme", choices=["story", "day", "publisher"], default="story")
    ap.add_argument("--choose", action="store_true", help="run the choice on all gold stories instead of scoring it")
    ap.add_argument("--extra-data", action="append", default=[], metavar="PATH[@WEIGHT]",
                    help="add a labeled source to every candidate's data (to measure what new stories change)")
    ap.add_argument("--out", help="JSON to write (default: bench/STEM_SCHEME.json or bench/STEM_choice.json, STEM the "
                                  "protocol file's name: protocol_fast.yaml -> bench/protocol_fast_story.json)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        spec = load_protocol(args.protocol)
        missing = missing_encoders(spec)
    except ConfigError as exc:
        sys.exit(f"protocol.py: {exc}")
    if missing:  # before minutes of feature work, not as a traceback after them
        sys.exit("protocol.py: a candidate's encoder is not there (build it first: the command is in the comment "
                 f"above the candidate in {args.protocol}):\n  " + "\n  ".join(missing))
    for cand in spec["candidates"].values():
        cand["data"] = [*cand.get("data", []), *args.extra_data]
    stem = Path(args.protocol).stem  # the fast procedure's runs never overwrite the accurate one's
    out = Path(args.out or (f"bench/{stem}_choice.json" if args.choose else f"bench/{stem}_{args.scheme}.json"))
    result = protocol_choice(spec) if args.choose else run_protocol(spec, args.scheme, progress=print)
    result["machine"] = {"cpu": cpu_info()["model"], "python": platform.python_version()}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    if args.choose:
        print(json.dumps({"chosen": result["weights"], "inner_macro_f1": result["macro_f1"], "out": str(out)}))
    else:
        print(json.dumps({"macro_f1": result["macro_f1"], "f1": {k: v["f1"] for k, v in result["per_label"].items()},
                          "per_candidate": result["per_candidate"], "out": str(out)}))
