"""Training through ``accelerate``: a plain run on one device, and two CPU processes (gloo) under
``accelerate launch`` on the tiny random BERT of ``test_transformer`` (no download)."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("accelerate")
pytest.importorskip("transformers")

from test_transformer import LABELS, STORIES, _config, _dataset, tiny_bert  # noqa: E402,F401 (tiny_bert: fixture)

from nlp_wire.classify.accelerator import device_spec, launched  # noqa: E402
from nlp_wire.classify.train_transformer import train_transformer  # noqa: E402
from nlp_wire.classify.transformer import TransformerClassifier  # noqa: E402

LAUNCH_ENV = ("LOCAL_RANK", "WORLD_SIZE", "RANK", "ACCELERATE_MIXED_PRECISION", "ACCELERATE_USE_CPU")


@pytest.fixture
def plain_env(monkeypatch):
    """A process that no launcher started (whatever the shell running the tests exported)."""
    for name in LAUNCH_ENV:
        monkeypatch.delenv(name, raising=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_launch_detection(monkeypatch, plain_env):
    import torch

    assert not launched()
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "no")  # `accelerate launch` of a single process
    assert launched()
    monkeypatch.delenv("ACCELERATE_MIXED_PRECISION")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert launched()
    assert device_spec(torch.device("cpu", 0)) == "cpu"


def test_plain_run_uses_the_configured_device_and_logs_batch_and_steps(tiny_bert, tmp_path, caplog, plain_env):  # noqa: F811 (the imported fixture)
    caplog.set_level(logging.INFO, logger="nlp_wire")
    cfg = _config(tiny_bert, max_steps=8, batch_size=3, grad_accum=2, eval_every=4)
    clf = train_transformer(cfg, _dataset(STORIES), None, tmp_path, progress=False)
    assert clf.device.type == "cpu"
    assert "effective batch size 6 (batches of 3 split over 1 processes, 2 accumulated), 8 optimizer steps" in caplog.text
    assert "launched by accelerate" not in caplog.text
    assert [p["step"] for p in json.loads((tmp_path / "curve.json").read_text())] == [4, 8]
    # a later run in the same process starts from a fresh accelerate state (other settings are allowed)
    train_transformer(_config(tiny_bert, max_steps=2, grad_accum=1), _dataset(STORIES), None, tmp_path / "again",
                      progress=False)


def test_two_cpu_processes_train_like_one(tiny_bert, tmp_path, plain_env):  # noqa: F811 (the imported fixture)
    """``accelerate launch`` with 2 gloo processes: each takes half of every batch, so the effective batch
    and the step count are the config's, and (no dropout) the model equals a single-process run's."""
    base = tmp_path / "tiny_bert_no_dropout"  # dropout masks depend on the batch split; weights must not
    shutil.copytree(tiny_bert, base)
    encoder_config = json.loads((base / "config.json").read_text())
    encoder_config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (base / "config.json").write_text(json.dumps(encoder_config))
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps({"id": f"s{i}", "headline": text, "body": text, "label": label}) + "\n"
                            for i, (text, label) in enumerate(STORIES)), encoding="utf-8")
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(f"""kind: minilm
device: cpu
seed: 1
data: {{labels: {LABELS}, default_label: other, val_size: 0.0}}
model: {{name_or_path: {base}, max_length: 32, dropout: 0.0}}
training: {{epochs: 0, max_steps: 12, batch_size: 4, grad_accum: 2, lr: 1.0e-3, head_lr: 1.0e-2, warmup_ratio: 0.0,
           eval_every: 6, patience: 0, num_threads: 1, eval_batch_size: 4}}
""", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in LAUNCH_ENV}
    # On CPUs, accelerate joins several processes only through torchrun (--multi_gpu) with the CPU forced.
    env.update(ACCELERATE_USE_CPU="1", OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]))
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
              "--main_process_port", str(_free_port()), "-m", "nlp_wire"]
    args = ["train", "minilm", "--config", str(cfg), "--data", str(data), "--out", str(tmp_path / "run2")]
    proc = subprocess.run(launch + args, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stderr
    assert len(re.findall(r"launched by accelerate: process \d of 2 \(MULTI_CPU\), device cpu", log)) == 2
    assert log.count("effective batch size 8 (batches of 4 split over 2 processes, 2 accumulated), 12 optimizer steps") == 2
    assert [p["step"] for p in json.loads((tmp_path / "run2" / "curve.json").read_text())] == [6, 12]
    assert log.count("model: ") == 1 and json.loads((tmp_path / "run2" / "metrics.json").read_text())["kind"] == "minilm"

    two = TransformerClassifier.from_pretrained(tmp_path / "run2" / "model", device="cpu")
    texts = [t for t, _ in STORIES] + ["Rain.", ""]
    assert {p.label for p in two.predict(texts)} <= set(LABELS)

    # The same config in one plain process: DDP's averaged half-batch gradients are the full batch's.
    env.pop("ACCELERATE_USE_CPU")
    one = subprocess.run([sys.executable, "-m", "nlp_wire", *args[:-1], str(tmp_path / "run1")], env=env,
                         capture_output=True, text=True, timeout=600)
    assert one.returncode == 0, one.stderr[-3000:]
    single = TransformerClassifier.from_pretrained(tmp_path / "run1" / "model", device="cpu")
    np.testing.assert_allclose(two.predict_proba(texts), single.predict_proba(texts), atol=1e-4)
    curve1 = json.loads((tmp_path / "run1" / "curve.json").read_text())
    curve2 = json.loads((tmp_path / "run2" / "curve.json").read_text())
    np.testing.assert_allclose([p["loss"] for p in curve2], [p["loss"] for p in curve1], atol=1e-4)
    # each run's record says how it ran: config.yaml holds the config, not the launcher's choices
    assert json.loads((tmp_path / "run2" / "metrics.json").read_text())["run"] == {
        "launcher": "accelerate", "processes": 2, "device": "cpu", "mixed_precision": "no"}
    assert json.loads((tmp_path / "run1" / "metrics.json").read_text())["run"] == {
        "launcher": None, "processes": 1, "device": "cpu", "mixed_precision": "no"}


def test_a_gpu_recipe_on_a_cpu_warns_that_it_trains_in_float32(caplog, plain_env):
    from nlp_wire.classify.accelerator import make_accelerator

    caplog.set_level(logging.WARNING, logger="nlp_wire")
    make_accelerator("cpu", True, 1)
    assert "mixed_precision is set for a CUDA GPU, but this run trains on cpu in float32" in caplog.text
    caplog.clear()
    make_accelerator("cpu", False, 1)
    assert "mixed_precision" not in caplog.text


def test_mixed_precision_bf16_trains_the_cpu_in_bfloat16_autocast(tiny_bert, tmp_path, monkeypatch, plain_env):  # noqa: F811
    """``training.mixed_precision: bf16`` is bfloat16 autocast on the CPU too (``true`` stays CUDA-only): the
    encoder's matrix products run in bfloat16 during training, the saved weights stay float32, and the run
    record says bf16."""
    import torch

    seen = set()
    original = torch.nn.Linear.forward

    def forward(self, x):
        out = original(self, x)
        seen.add(out.dtype)
        return out

    monkeypatch.setattr(torch.nn.Linear, "forward", forward)
    cfg = _config(tiny_bert, max_steps=2, eval_every=0, mixed_precision="bf16")
    clf = train_transformer(cfg, _dataset(STORIES), None, tmp_path, progress=False)
    assert torch.bfloat16 in seen
    assert {p.dtype for p in clf.model.parameters()} == {torch.float32}
    assert clf.run_info["mixed_precision"] == "bf16"  # written to metrics.json by the CLI
    seen.clear()
    train_transformer(_config(tiny_bert, max_steps=2, eval_every=0, mixed_precision=True), _dataset(STORIES), None,
                      tmp_path / "true", progress=False)
    assert seen == {torch.float32}  # true means CUDA only: a CPU run stays float32


def test_mixed_precision_takes_true_false_or_bf16():
    from nlp_wire.config import ConfigError, TrainingConfig

    assert TrainingConfig(mixed_precision="bf16").mixed_precision == "bf16"
    with pytest.raises(ConfigError, match="training.mixed_precision must be true, false or bf16, not 'fp16'"):
        TrainingConfig(mixed_precision="fp16")
