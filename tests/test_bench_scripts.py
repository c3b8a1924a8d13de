"""The bench scripts measure what their JSON says they measured."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _import_script(name):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(ROOT / "scripts"))


def test_bench_models_float32_row_is_exact_float32_on_a_bfloat16_cpu(tmp_path, monkeypatch):
    """On a CPU with AVX512-BF16 or AMX a shipped folder loads in bfloat16 unless a dtype is given; the bench's
    float32 row must still time float32 (it once timed bfloat16 twice and reported 0 probability change)."""
    pytest.importorskip("torch")
    import nlp_wire.classify.transformer as transformer

    monkeypatch.setattr(transformer, "_cpu_has_bfloat16", lambda: True)
    bench = _import_script("bench_models")
    out = tmp_path / "models.json"
    monkeypatch.setattr(sys, "argv", ["bench_models.py", "--models", "fast", "--texts", "6",
                                      "--repeat", "1", "--out", str(out)])
    bench.main()
    row = json.loads(out.read_text())["models"]["fast"]
    assert row["auto_runtime"] == "bfloat16"
    assert row["bfloat16"]["max_probability_change"] > 0  # two runtimes compared, not bfloat16 timed twice
