"""``nlp-wire models``: the shipped models by name, with accuracy, speed and what each needs."""

from __future__ import annotations


def add_parser(sub):
    p = sub.add_parser("models", help="list the shipped models (names for classify, evaluate and load_classifier)")
    p.add_argument("--json", action="store_true", help="print the catalog as JSON")
    return p


def run(args) -> int:
    import json

    from ..classify import ModelLoadError
    from ..classify.catalog import default_model_name, footprint_mb, installed_bases, missing_requirement, read_catalog
    from ..classify.transformer import _cpu_has_bfloat16
    from ..resources import models_dir

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
        folder = models_dir() / name
        size = f"{footprint_mb(folder):,.1f} MB" if folder.is_dir() else "-"  # with the models it loads
        bases = installed_bases(folder) if folder.is_dir() else []
        size += "".join(f" + {b}" for b in bases)  # a head on an installed base encoder: its package too
        runtime = "float64" if e.get("kind") == "baseline" else e.get("runtime") or "-"  # scikit-learn's
        status = missing_requirement(e) or ("default" if name == default else "ok")
        if e.get("member_of"):  # shipped as a part: its score is the candidate's alone, it does not compete
            status += f" (member of {', '.join(e['member_of'])})"
        rows.append((name, e.get("kind", "?"), f1, speed, runtime, size, status))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    where = catalog.get("measured_on")
    here = "bfloat16" if _cpu_has_bfloat16() else "float32 (no AMX or AVX512-BF16: 2.5-5x slower, see the README)"
    print("\nmacro-F1: nested CV on korea_dev (see each entry's macro_f1_source; a member's is its score as a candidate "
          "always chosen, not a procedure's, and members are never the default); speed: batches of 32 on 2 CPU cores"
          + (f" of {where}" if where else "") + f", in the runtime auto took there; auto takes {here} on this CPU. "
          "size: on disk, with the models each one loads (+ NAME: and the installed base encoder NAME). Rebuild commands: nlp-wire models --json")
    return 0
