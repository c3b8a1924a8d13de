"""``nlp-wire models``: the shipped models by name, with accuracy, speed and what each needs."""

from __future__ import annotations


def add_parser(sub):
    p = sub.add_parser("models", help="list the shipped models (names for classify, evaluate and load_classifier)")
    p.add_argument("--json", action="store_true", help="print the catalog as JSON")
    return p


def run(args) -> int:
    import json

    from ..classify import ModelLoadError
    from ..classify.catalog import default_model_name, missing_requirement, read_catalog

    catalog = read_catalog()
    if args.json:
        print(json.dumps(catalog, indent=2))
        return 0
    try:
        default = default_model_name(catalog)
    except ModelLoadError:
        default = None  # no speeds measured yet: every model still loads by name
    rows = [("name", "kind", "macro-F1", "stories/s", "runtime", "size", "status")]
    for name, e in catalog["models"].items():
        f1 = "-" if e.get("macro_f1") is None else f"{e['macro_f1']:.3f}"
        speed = "-" if e.get("stories_per_s") is None else f"{e['stories_per_s']:,.0f}"
        size = "-" if e.get("size_mb") is None else f"{e['size_mb']:g} MB"
        status = missing_requirement(e) or ("default" if name == default else "ok")
        rows.append((name, e.get("kind", "?"), f1, speed, e.get("runtime") or "-", size, status))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    where = catalog.get("measured_on")
    print("\nmacro-F1: nested CV on korea_dev (see each entry's macro_f1_source); speed: batches of 32 on 2 CPU cores"
          + (f" of {where}" if where else "") + ". Rebuild commands: nlp-wire models --json")
    return 0
