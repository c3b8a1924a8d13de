"""Fill models/catalog.json's numbers from the bench files (never by hand).

    python scripts/bench_models.py --out bench/models.json     # speed on the reference CPU
    python scripts/update_catalog.py                            # macro_f1 and stories_per_s into the catalog

``macro_f1_source`` names a bench JSON and optionally a path inside it (``file#per_candidate.tfidf``);
speed is the model's speed in ``bench/models.json`` in the runtime ``load_classifier``'s ``"auto"`` takes on
the CPU it was measured on (bfloat16 where that CPU multiplies it natively, else float32; float32 and ONNX
Runtime int8 beside it), with that CPU's name. ``bench/models.json`` is the reference CPU's run (one with
AVX512-BF16, where the 50 stories/s floor of the default was set); a slower machine's run goes to another file
(``bench/models_avx2.json``), so that the default does not change with the machine that measured last. A
model missing from the reference run (changed since) gets no speed rather than an older model's.
"""
import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lookup(source: str):
    file, _, inner = source.partition("#")
    path = ROOT / file
    if not path.exists():
        return None
    value = json.loads(path.read_text())
    for key in (inner.split(".") if inner else ["macro_f1"]):
        value = value.get(key) if isinstance(value, dict) else None
    return value


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    catalog_path = ROOT / "models" / "catalog.json"
    catalog = json.loads(catalog_path.read_text())
    speed = json.loads((ROOT / "bench" / "models.json").read_text()) if (ROOT / "bench" / "models.json").exists() else None
    for name, entry in catalog["models"].items():
        entry["macro_f1"] = lookup(entry["macro_f1_source"])
        row = (speed or {}).get("models", {}).get(name)
        if row:  # the speed of the runtime load_classifier's "auto" takes on the measured CPU (int8 is opt-in)
            entry["runtime"] = row.get("auto_runtime", "float32")
            entry["stories_per_s"] = row[entry["runtime"]]["stories_per_s"]
            entry["stories_per_s_float32"] = row["float32"]["stories_per_s"]
            entry["stories_per_s_onnx_int8"] = row.get("onnxruntime_int8", {}).get("stories_per_s")
            entry["size_mb"] = row["size_mb"]
            entry["load_seconds"] = row[entry["runtime"]]["load_seconds"]
        elif speed:  # not in that run (changed since): no speed is better than another model's
            for key in ("runtime", "stories_per_s", "stories_per_s_float32", "stories_per_s_onnx_int8", "load_seconds", "size_mb"):
                entry.pop(key, None)
    if speed:
        cpu = speed["machine"]["cpu"]
        catalog["measured_on"] = f"{cpu['model']} ({'with' if 'avx512_bf16' in cpu['flags'] else 'without'} AVX512-BF16)"
    catalog_path.write_text(json.dumps(catalog, indent=2) + "\n")
    for name, entry in catalog["models"].items():
        print(f"{name:13} macro-F1 {entry['macro_f1']}  {entry.get('stories_per_s')} stories/s ({entry.get('runtime')})")
