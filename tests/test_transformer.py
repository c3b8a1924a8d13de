"""Transformer classifier on a tiny randomly initialised BERT written to ``tmp_path`` (no download)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
datasets = pytest.importorskip("datasets")

from nlp_wire.classify import ModelLoadError, load_classifier  # noqa: E402
from nlp_wire.classify.train_transformer import train_transformer  # noqa: E402
from nlp_wire.classify.transformer import TransformerClassifier  # noqa: E402
from nlp_wire.config import DataConfig, TrainConfig, TransformerConfig, TrainingConfig, load_config  # noqa: E402

# Invented stories, one topic each; the custom label order is not alphabetical on purpose.
LABELS = ["sport", "weather", "other"]
STORIES = [
    ("The home team won the football final after a late goal.", "sport"),
    ("A striker scored twice as the club won the league match.", "sport"),
    ("Heavy rain and strong wind are expected across the coast tomorrow.", "weather"),
    ("Forecasters warned of snow and cold wind in the north.", "weather"),
    ("The city council approved a new budget for public libraries.", "other"),
    ("A museum opened an exhibition of old maps on Monday.", "other"),
]
WORDS = sorted({w.strip(".,").lower() for text, _ in STORIES for w in text.split()})
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ","] + WORDS


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny_bert")
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    # transformers 5 takes the WordPiece vocabulary as ``vocab`` (a path or a dict); 4.x as ``vocab_file``.
    try:
        tokenizer = transformers.BertTokenizerFast(vocab=str(folder / "vocab.txt"), do_lower_case=True)
    except TypeError:
        tokenizer = transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)
    assert "[UNK]" not in tokenizer.tokenize(STORIES[0][0])
    tokenizer.save_pretrained(folder)
    config = transformers.BertConfig(vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=37, max_position_embeddings=64)
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(folder)
    return folder


def _dataset(rows, labels=LABELS):
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=labels),
                                  "weight": datasets.Value("float32")})
    return datasets.Dataset.from_dict({"text": [t for t, _ in rows], "label": [labels.index(l) for _, l in rows],
                                       "weight": [1.0] * len(rows)}, features=features)


def _config(base: Path, **training) -> TrainConfig:
    settings = dict(epochs=0, max_steps=60, batch_size=6, lr=1e-3, head_lr=1e-2, warmup_ratio=0.0, eval_every=20,
                    patience=0, num_threads=1, eval_batch_size=4)
    settings.update(training)
    return TrainConfig(kind="minilm", device="cpu", seed=1, data=DataConfig(labels=LABELS, default_label="other"),
                       model=TransformerConfig(name_or_path=str(base), max_length=32, dropout=0.0),
                       training=TrainingConfig(**settings))


@pytest.fixture(scope="module")
def trained(tiny_bert, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    ds = _dataset(STORIES)
    clf = train_transformer(_config(tiny_bert), ds, ds, out, progress=False)
    return clf, out


def test_overfits_and_records_curve(trained):
    clf, out = trained
    assert [p.label for p in clf.predict([t for t, _ in STORIES])] == [l for _, l in STORIES]
    curve = json.loads((out / "curve.json").read_text())
    assert [p["step"] for p in curve] == [20, 40, 60]
    assert all(set(p) == {"step", "loss", "val_macro_f1"} for p in curve)
    assert curve[-1]["loss"] < curve[0]["loss"]
    assert (out / "curve.png").stat().st_size > 0


def test_save_load_same_predictions_and_label_map(trained, tmp_path):
    clf, out = trained
    loaded = TransformerClassifier.from_pretrained(out / "model", device="cpu")
    assert loaded.labels == LABELS
    assert loaded.id2label == {0: "sport", 1: "weather", 2: "other"}
    assert loaded.label2id == {"sport": 0, "weather": 1, "other": 2}
    texts = [t for t, _ in STORIES] + ["", "Rain."]
    np.testing.assert_allclose(loaded.predict_proba(texts), clf.predict_proba(texts), atol=1e-6)
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["id2label"] == {"0": "sport", "1": "weather", "2": "other"}
    # saving again from the loaded model gives the same folder contents that matter
    loaded.save_pretrained(tmp_path / "again")
    again = TransformerClassifier.from_pretrained(tmp_path / "again")
    np.testing.assert_allclose(again.predict_proba(texts), clf.predict_proba(texts), atol=1e-6)


def test_threshold_survives_save_and_load(trained, tmp_path):
    """The decision rule is part of the model: a threshold saved with it is the loaded model's (a full folder and
    a head on a named encoder), unless the caller gives another."""
    clf, _ = trained
    loaded = TransformerClassifier.from_pretrained(clf.save_pretrained(tmp_path / "none"))
    assert loaded.threshold is None
    clf.threshold = 0.99
    try:
        clf.save_pretrained(tmp_path / "m")
    finally:
        clf.threshold = None
    assert json.loads((tmp_path / "m" / "nlp_wire_model.json").read_text())["threshold"] == 0.99
    assert TransformerClassifier.from_pretrained(tmp_path / "m").threshold == 0.99
    assert load_classifier(tmp_path / "m").threshold == 0.99
    assert load_classifier(tmp_path / "m", threshold=0.2).threshold == 0.2
    loaded = load_classifier(tmp_path / "m")
    assert {p.label for p in loaded.predict(["", "Rain."])} == {"other"}  # nothing is that sure
    card = json.loads((tmp_path / "m" / "nlp_wire_model.json").read_text())
    card.pop("threshold")
    (tmp_path / "m" / "nlp_wire_model.json").write_text(json.dumps(card))
    assert load_classifier(tmp_path / "m").threshold is None


def test_folder_has_no_pickle(trained):
    _, out = trained
    names = {p.name for p in (out / "model").iterdir()}
    assert {"model.safetensors", "config.json", "nlp_wire_model.json"} <= names
    assert not any(n.endswith((".bin", ".pt", ".pkl", ".pickle")) for n in names)


def test_batched_equals_one_by_one(trained):
    clf, _ = trained
    texts = ["Wind.", STORIES[0][0], "snow and rain and wind and cold in the north coast tomorrow", STORIES[4][0], ""]
    batched = clf.predict_proba(texts, batch_size=3)
    single = np.vstack([clf.predict_proba([t], batch_size=1) for t in texts])
    assert batched.dtype == np.float32 and batched.shape == (5, 3)
    np.testing.assert_allclose(batched, single, atol=1e-5)
    np.testing.assert_allclose(batched.sum(1), 1.0, atol=1e-5)


def test_load_classifier_dispatches(trained):
    _, out = trained
    clf = load_classifier(out / "model", device="cpu", threshold=0.99)
    assert isinstance(clf, TransformerClassifier)
    assert clf.threshold == 0.99
    assert clf.predict([""])[0].label in LABELS


def test_trained_on_other_device_loads_on_cpu(trained, tmp_path):
    # A GPU run saves CPU copies of the weights; loading maps everything to the CPU.
    clf, out = trained
    loaded = TransformerClassifier.from_pretrained(out / "model", device="cpu")
    assert {p.device.type for p in loaded.model.parameters()} == {"cpu"}


def test_bad_folders(trained, tmp_path):
    _, out = trained
    with pytest.raises(ModelLoadError, match="no such model folder"):
        TransformerClassifier.from_pretrained(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match="empty"):
        TransformerClassifier.from_pretrained(empty)
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("nlp_wire_model.json", "config.json"):
        (broken / name).write_bytes((out / "model" / name).read_bytes())
    with pytest.raises(ModelLoadError, match=r"broken.*model\.safetensors"):
        load_classifier(broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelLoadError, match="broken"):
        load_classifier(broken)


def test_label_count_mismatch_is_load_error(trained, tmp_path):
    _, out = trained
    folder = tmp_path / "mismatch"
    folder.mkdir()
    for p in (out / "model").iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    card = json.loads((folder / "nlp_wire_model.json").read_text())
    card["labels"] = ["a", "b"]
    card["data"]["labels"] = ["a", "b"]
    card["data"]["default_label"] = "a"
    (folder / "nlp_wire_model.json").write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match="mismatch"):
        TransformerClassifier.from_pretrained(folder)


def test_missing_base_model(tmp_path):
    with pytest.raises(ModelLoadError, match="no config.json"):
        TransformerClassifier.from_base(TransformerConfig(name_or_path=str(tmp_path)), LABELS)


def test_sampler_weights_and_accumulation(tiny_bert, tmp_path):
    rows = STORIES + [(STORIES[0][0] + " Again.", "sport")] * 3
    ds = _dataset(rows)
    clf = train_transformer(_config(tiny_bert, max_steps=4, balance="sampler", grad_accum=2, eval_every=0, patience=1),
                            ds, None, tmp_path, progress=False)
    curve = json.loads((tmp_path / "curve.json").read_text())
    assert curve and curve[-1]["step"] == 4 and curve[-1]["val_macro_f1"] is None
    assert (tmp_path / "model" / "model.safetensors").is_file()
    assert clf.predict_proba(["rain"]).shape == (1, 3)


def test_restore_prior_shifts_the_head_bias_by_minus_log_class_weight(tiny_bert, tmp_path):
    # 5 sport : 2 weather : 2 other, drawn balanced (power 1); the shift undoes exactly that weighting.
    rows = STORIES + [(STORIES[0][0] + " Again.", "sport")] * 3
    ds = _dataset(rows)
    settings = dict(max_steps=3, balance="sampler", balance_power=1.0, eval_every=0)
    plain = train_transformer(_config(tiny_bert, **settings), ds, None, tmp_path / "plain", progress=False)
    shifted = train_transformer(_config(tiny_bert, restore_prior=True, **settings), ds, None, tmp_path / "shifted",
                                progress=False)
    counts = np.array([5, 2, 2])
    class_w = len(rows) / (3 * counts)
    bias = lambda clf: clf.model.head.bias.detach().numpy()  # noqa: E731
    np.testing.assert_allclose(bias(shifted) - bias(plain), -np.log(class_w), rtol=1e-5, atol=1e-6)
    assert torch.equal(shifted.model.head.weight, plain.model.head.weight)
    # Probabilities move toward the data's mix: p(c) is multiplied by 1 / class_w[c], then renormalised.
    p, q = plain.predict_proba(["rain"])[0], shifted.predict_proba(["rain"])[0]
    np.testing.assert_allclose(q, p / class_w / (p / class_w).sum(), rtol=1e-4)
    # Saved with the weights: reloading keeps the shift.
    np.testing.assert_allclose(load_classifier(tmp_path / "shifted" / "model").predict_proba(["rain"])[0], q, rtol=1e-5)


def test_going_on_from_a_restore_prior_model_shifts_once(tiny_bert, tmp_path):
    """The card keeps the shift; a run continuing from the model takes it off first, so a second restore_prior
    shifts once (it added the shift on top of the first: the class prior squared)."""
    import dataclasses

    rows = STORIES + [(STORIES[0][0] + " Again.", "sport")] * 3
    ds = _dataset(rows)
    settings = dict(max_steps=3, balance="sampler", balance_power=1.0, eval_every=0)
    first = train_transformer(_config(tiny_bert, restore_prior=True, **settings), ds, None, tmp_path / "a",
                              progress=False)
    card = json.loads((tmp_path / "a" / "model" / "nlp_wire_model.json").read_text())
    shift = -np.log(len(rows) / (3 * np.array([5, 2, 2])))
    np.testing.assert_allclose(card["prior_shift"], shift, rtol=1e-6)
    config = _config(tiny_bert, restore_prior=True, max_steps=1, lr=1e-12, head_lr=1e-12, balance="sampler",
                     eval_every=0)
    config = dataclasses.replace(config, model=dataclasses.replace(config.model, name_or_path=str(tmp_path / "a" / "model")))
    second = train_transformer(config, ds, None, tmp_path / "b", progress=False)
    np.testing.assert_allclose(second.model.head.bias.detach().numpy(), first.model.head.bias.detach().numpy(),
                               atol=1e-5)  # lr ~ 0: the same head, shifted once
    np.testing.assert_allclose(second.predict_proba(["rain"]), first.predict_proba(["rain"]), atol=1e-5)


def test_restore_prior_does_nothing_without_balancing(tiny_bert, tmp_path):
    ds = _dataset(STORIES + [(STORIES[0][0] + " Again.", "sport")] * 3)
    settings = dict(max_steps=2, balance="none", eval_every=0)
    plain = train_transformer(_config(tiny_bert, **settings), ds, None, tmp_path / "a", progress=False)
    shifted = train_transformer(_config(tiny_bert, restore_prior=True, **settings), ds, None, tmp_path / "b",
                                progress=False)
    assert torch.equal(plain.model.head.bias, shifted.model.head.bias)


def test_int8_quantized_classifier_predicts_but_does_not_save(trained, tmp_path):
    clf, out = trained
    q = load_classifier(out / "model", quantize=True)
    texts = [t for t, _ in STORIES]
    assert q.quantized and "DynamicQuantizedLinear" in repr(q.model)
    np.testing.assert_allclose(q.predict_proba(texts), clf.predict_proba(texts), atol=0.1)
    # Activation ranges are taken per batch, so batch mates shift scores slightly (never exactly equal).
    batched, single = q.predict_proba(texts, batch_size=4), np.vstack([q.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(batched, single, atol=1e-2)
    assert (batched.argmax(1) == single.argmax(1)).all()
    with pytest.raises(ValueError, match="cannot be saved"):
        q.save_pretrained(tmp_path / "q")


def test_onnx_runtime_predicts_like_torch(trained, tmp_path, caplog):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    clf, out = trained
    fast = load_classifier(out / "model", runtime="onnxruntime")
    assert fast.onnx is not None and {"Attention", "SkipLayerNormalization"} <= set(fast.onnx.fusions)
    texts = [t for t, _ in STORIES] + ["", "Rain.", "snow and rain and wind and cold in the north coast tomorrow"]
    np.testing.assert_allclose(fast.predict_proba(texts, batch_size=4), clf.predict_proba(texts), atol=1e-5)
    single = np.vstack([fast.predict_proba([t], batch_size=1) for t in texts])
    np.testing.assert_allclose(fast.predict_proba(texts, batch_size=4), single, atol=1e-5)
    root_filters = list(logging.getLogger().filters)
    with caplog.at_level("WARNING"):
        int8 = load_classifier(out / "model", runtime="onnxruntime", quantize=True)
    assert int8.onnx.int8
    assert "pre-processing" not in caplog.text  # the quantizer's advice is dropped, and only while it runs
    assert logging.getLogger().filters == root_filters
    np.testing.assert_allclose(int8.predict_proba(texts), clf.predict_proba(texts), atol=0.1)
    fast.save_pretrained(tmp_path / "saved")  # the torch model is still there
    np.testing.assert_allclose(load_classifier(tmp_path / "saved").predict_proba(texts), clf.predict_proba(texts),
                               atol=1e-6)
    with pytest.raises(ValueError, match="runtime"):
        load_classifier(out / "model", runtime="tensorrt")
    with pytest.raises(ValueError, match="float32 classifier"):
        load_classifier(out / "model", quantize=True).use_onnx_runtime()


def test_bfloat16_predicts_like_float32_and_is_one_way(trained, tmp_path, capsys):
    from nlp_wire.cli.main import main

    clf, out = trained
    fast = load_classifier(out / "model", dtype="bfloat16")
    assert fast.dtype == "bfloat16" and {p.dtype for p in fast.model.parameters()} == {torch.bfloat16}
    texts = [t for t, _ in STORIES] + ["", "Rain.", "snow and rain and wind and cold in the north coast tomorrow"]
    proba = fast.predict_proba(texts, batch_size=4)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba, clf.predict_proba(texts), atol=0.05)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-5)
    assert [p.label for p in fast.predict(texts[:6])] == [l for _, l in STORIES]
    single = np.vstack([fast.predict_proba([t], batch_size=1) for t in texts])
    np.testing.assert_allclose(proba, single, atol=0.02)  # padding changes bfloat16 rounding slightly
    with pytest.raises(ValueError, match=r"bfloat16 classifier cannot be saved: load the float32 one .*dtype='float32'"):
        fast.save_pretrained(tmp_path / "bf16")
    from nlp_wire.classify.ensemble import EnsembleClassifier

    with pytest.raises(ValueError, match="bfloat16 classifier cannot be saved"):  # an ensemble: before any folder
        EnsembleClassifier({"a": fast}).save_pretrained(tmp_path / "ens_bf16")
    assert not (tmp_path / "ens_bf16").exists()
    with pytest.raises(ValueError, match="needs the float32 classifier"):
        fast.quantize()
    with pytest.raises(ValueError, match="only a float32 torch classifier can be cast"):
        load_classifier(out / "model", quantize=True).to_dtype("bfloat16")
    with pytest.raises(ValueError, match="'float16' is for GPUs"):
        load_classifier(out / "model", dtype="float16")
    with pytest.raises(ValueError, match="use one of float32, bfloat16, float16"):
        load_classifier(out / "model", dtype="int4")
    with pytest.raises(ValueError, match="goes with the float torch runtime"):
        load_classifier(out / "model", dtype="bfloat16", quantize=True)
    stories = tmp_path / "new.jsonl"
    stories.write_text("".join(json.dumps({"id": f"s{i}", "headline": t, "body": t}) + "\n"
                               for i, (t, _) in enumerate(STORIES)), encoding="utf-8")
    assert main(["classify", str(out / "model"), "--dtype", "bfloat16", str(stories)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["label"] for line in lines] == [l for _, l in STORIES]


def test_the_default_model_keeps_a_dtype_the_caller_gives(trained, monkeypatch, capsys):
    """Auto picks bfloat16 for the default model on a CPU with native bfloat16 only when no dtype was given: an
    explicit float32 stays exact, an explicit bfloat16 is not refused as if ONNX Runtime had been asked for."""
    import nlp_wire.classify.catalog as catalog
    import nlp_wire.classify.transformer as transformer_module
    from nlp_wire.cli.main import main

    _, out = trained
    real = catalog.resolve_model
    monkeypatch.setattr(catalog, "resolve_model", lambda path: out / "model" if path in (None, "default") else real(path))
    monkeypatch.setattr(transformer_module, "_cpu_has_bfloat16", lambda: True)
    assert load_classifier().dtype == "bfloat16"  # auto, nothing asked
    assert load_classifier(dtype="float32").dtype == "float32"
    assert load_classifier("default", dtype="bfloat16").dtype == "bfloat16"
    assert load_classifier(runtime="auto", quantize=True).quantized  # int8 asked: auto leaves it
    stories = out / "cli.jsonl"
    stories.write_text(json.dumps({"id": "s0", "headline": STORIES[0][0], "body": STORIES[0][0]}) + "\n",
                       encoding="utf-8")
    seen = []
    monkeypatch.setattr(transformer_module.TransformerClassifier, "to_dtype",
                        lambda self, dtype: seen.append(dtype) or self)
    assert main(["-q", "classify", "default", str(stories)]) == 0
    assert main(["-q", "classify", "default", "--dtype", "float32", str(stories)]) == 0
    assert seen == ["bfloat16"]  # the explicit --dtype float32 run cast nothing
    capsys.readouterr()


def test_bfloat16_warns_on_a_cpu_without_bfloat16_units(trained, monkeypatch, caplog):
    import nlp_wire.classify.transformer as transformer_module

    _, out = trained
    monkeypatch.setattr(transformer_module, "_cpu_has_bfloat16", lambda: False)
    with caplog.at_level("WARNING", logger="nlp_wire.classify.transformer"):
        load_classifier(out / "model", dtype="bfloat16")
    assert "emulated and likely slower than float32" in caplog.text


def test_onnx_runtime_missing_is_a_clear_error(trained, monkeypatch, capsys):
    import sys

    from nlp_wire.cli.main import main

    _, out = trained
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    with pytest.raises(ImportError, match=r"pip install 'nlp_wire\[onnx\]'"):
        load_classifier(out / "model", runtime="onnxruntime")
    assert main(["classify", str(out / "model"), "--onnx", str(out)]) == 2
    assert "nlp_wire[onnx]" in capsys.readouterr().err


def test_half_precision_save_loads_back_in_float32(trained, tmp_path):
    clf, _ = trained
    clf.save_pretrained(tmp_path / "half", half=True)
    loaded = load_classifier(tmp_path / "half")
    assert all(p.dtype == torch.float32 for p in loaded.model.parameters())
    texts = [t for t, _ in STORIES]
    np.testing.assert_allclose(loaded.predict_proba(texts), clf.predict_proba(texts), atol=1e-2)
    assert [p.label for p in loaded.predict(texts)] == [p.label for p in clf.predict(texts)]


def test_linear_probe_initialises_the_head(tiny_bert, tmp_path):
    from sklearn.metrics import accuracy_score

    # No fine-tuning steps to speak of: the probe alone must already separate the tiny corpus.
    cfg = _config(tiny_bert, max_steps=1, eval_every=0, lr=1e-9, head_lr=1e-9, probe_init=True, probe_C=100.0)
    clf = train_transformer(cfg, _dataset(STORIES), None, tmp_path, progress=False)
    texts, gold = [t for t, _ in STORIES], [l for _, l in STORIES]
    assert accuracy_score(gold, [p.label for p in clf.predict(texts)]) == 1.0


def test_frozen_embeddings_stay_put(tiny_bert, tmp_path):
    before = TransformerClassifier.from_base(TransformerConfig(name_or_path=str(tiny_bert)), LABELS)
    clf = train_transformer(_config(tiny_bert, max_steps=3, eval_every=0, freeze_embeddings=True),
                            _dataset(STORIES), None, tmp_path, progress=False)
    emb = lambda c: c.model.encoder.get_input_embeddings().weight.detach()  # noqa: E731
    assert torch.equal(emb(clf), emb(before))
    assert not torch.equal(clf.model.head.weight.detach(), before.model.head.weight.detach())


def test_training_continues_from_a_saved_classifier(trained, tmp_path):
    clf, out = trained
    cfg = _config(out / "model", max_steps=2, eval_every=0, lr=1e-9, head_lr=1e-9)
    again = train_transformer(cfg, _dataset(STORIES), None, tmp_path, progress=False)
    texts = [t for t, _ in STORIES]
    # Starts from the trained weights (not a fresh head): a negligible learning rate keeps its answers.
    np.testing.assert_allclose(again.predict_proba(texts), clf.predict_proba(texts), atol=1e-4)
    card = json.loads((tmp_path / "model" / "nlp_wire_model.json").read_text())
    assert card["model"]["name_or_path"] == str(out / "model")


def test_continuing_with_other_labels_is_refused(trained, tmp_path):
    _, out = trained
    with pytest.raises(ModelLoadError, match="labels"):
        TransformerClassifier.from_base(TransformerConfig(name_or_path=str(out / "model")), ["a", "b", "c"])


def test_cross_validate_a_transformer_recipe(trained, tmp_path):
    from nlp_wire.classify.crossval import cross_validate

    _, out = trained
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"id": f"s{i}", "headline": text, "body": text, "label": label}) + "\n"
                            for i, (text, label) in enumerate(STORIES * 2)), encoding="utf-8")
    cfg = _config(out / "model", max_steps=2, eval_every=0)
    metrics = cross_validate(cfg, [], f"{gold}@2", folds=2, work_dir=tmp_path)
    assert metrics["n"] == len(STORIES) * 2
    assert sum(map(sum, metrics["confusion_matrix"])) == len(STORIES) * 2
    assert list(tmp_path.iterdir()) == [gold]  # fold models were cleaned up


@pytest.mark.parametrize("name", ["debug_cpu", "minilm_cpu", "minilm_gpu"])
def test_configs_load(name):
    cfg = load_config(TrainConfig, Path(__file__).resolve().parents[1] / "configs" / f"{name}.yaml")
    assert cfg.kind == "minilm"


@pytest.mark.slow
def test_real_minilm_debug_run(tmp_path):
    cfg = load_config(TrainConfig, Path(__file__).resolve().parents[1] / "configs" / "debug_cpu.yaml",
                      ["data.labels=[sport, weather, other]", "data.default_label=other"])
    ds = _dataset(STORIES * 3)
    clf = train_transformer(cfg, ds, _dataset(STORIES), tmp_path, progress=False)
    loaded = load_classifier(tmp_path / "model")
    texts = [t for t, _ in STORIES]
    np.testing.assert_allclose(loaded.predict_proba(texts), clf.predict_proba(texts), atol=1e-5)


@pytest.mark.slow
def test_shipped_minilm_classifies_sample_stories():
    root = Path(__file__).resolve().parents[1]
    folder = root / "models" / "minilm"
    if not folder.is_dir():
        pytest.skip("models/minilm is not in this checkout")
    from nlp_wire.dataset import load_examples

    clf = load_classifier(folder)
    ds = load_examples(root / "nlp_wire" / "sample_data" / "stories", config=clf.data_config)
    names = ds.features["label"].names
    gold = [names[i] for i in ds["label"]]
    pred = [p.label for p in clf.predict(list(ds["text"]), batch_size=32)]
    assert np.mean([g == p for g, p in zip(gold, pred)]) > 0.9  # its own training stories
    for fast in (load_classifier(folder, quantize=True), load_classifier(folder, dtype="bfloat16")):
        agree = np.mean([a.label == b for a, b in zip(fast.predict(list(ds["text"])[:64]), pred[:64])])
        assert agree > 0.95


def test_frozen_encoder_saves_only_the_head_and_loads_the_named_encoder(tiny_bert, tmp_path, monkeypatch, capfd):
    import nlp_wire.classify.train_transformer as tt
    import nlp_wire.classify.transformer as tr

    # "tiny" plays a named base encoder (as "mpnet" is in real use): resolved to the tiny BERT folder.
    monkeypatch.setattr(tr, "ENCODERS", ("tiny",))
    monkeypatch.setattr(tt, "ENCODERS", ("tiny",))
    real = tr.resolve_base_model
    monkeypatch.setattr(tr, "resolve_base_model", lambda name: tiny_bert if name == "tiny" else real(name))
    cfg = _config(tiny_bert, probe_init=True, probe_C=100.0, freeze_encoder=True)
    cfg = TrainConfig(kind=cfg.kind, device="cpu", seed=1, data=cfg.data,
                      model=TransformerConfig(name_or_path="tiny", max_length=32, dropout=0.0), training=cfg.training)
    before = {k: v.clone() for k, v in TransformerClassifier.from_base(cfg.model, LABELS).model.encoder.state_dict().items()}
    clf = train_transformer(cfg, _dataset(STORIES), None, tmp_path, progress=False)
    folder = tmp_path / "model"
    assert sorted(p.name for p in folder.iterdir()) == ["head.safetensors", "nlp_wire_model.json"]
    assert json.loads((folder / "nlp_wire_model.json").read_text())["base_encoder"] == "tiny"
    for key, value in clf.model.encoder.state_dict().items():  # the encoder was never trained
        assert torch.equal(value, before[key]), key
    texts = [t for t, _ in STORIES]
    assert [p.label for p in clf.predict(texts)] == [label for _, label in STORIES]  # the probe alone separates them
    capfd.readouterr()
    loaded = load_classifier(folder)
    assert "Loading weights" not in capfd.readouterr().err  # transformers' bar, on every load of a shipped probe
    np.testing.assert_allclose(loaded.predict_proba(texts), clf.predict_proba(texts), atol=1e-6)
    assert loaded.labels == LABELS


def test_ensemble_of_heads_on_one_frozen_encoder_encodes_once_and_matches_its_members(tiny_bert, tmp_path, monkeypatch):
    import torch

    import nlp_wire.classify.transformer as tr
    from nlp_wire.classify.ensemble import link_ensemble

    monkeypatch.setattr(tr, "ENCODERS", ("tiny",))
    real = tr.resolve_base_model
    monkeypatch.setattr(tr, "resolve_base_model", lambda name: tiny_bert if name == "tiny" else real(name))
    model_config = TransformerConfig(name_or_path=str(tiny_bert), max_length=32, dropout=0.0)
    heads = {}
    for seed, name in ((1, "a"), (2, "b")):
        torch.manual_seed(seed)  # two different random heads on the same frozen encoder
        heads[tmp_path / name] = TransformerClassifier.from_base(model_config, LABELS).save_pretrained(
            tmp_path / name, base_encoder="tiny")
    link_ensemble(tmp_path / "both", {tmp_path / "a": 0.3, tmp_path / "b": 0.7})
    texts = [t for t, _ in STORIES]
    for dtype in ("float32", "bfloat16"):
        ens = load_classifier(tmp_path / "both", dtype=dtype)
        a, b = ens.members.values()
        assert a.model.encoder is b.model.encoder  # one copy in memory
        calls = []
        hook = a.model.encoder.register_forward_hook(lambda *_: calls.append(1))
        got = ens.predict_proba(texts, batch_size=4)
        hook.remove()
        assert len(calls) == -(-len(texts) // 4)  # one encoder pass per batch, not one per member
        want = (0.3 * load_classifier(tmp_path / "a", dtype=dtype).predict_proba(texts, batch_size=4)
                + 0.7 * load_classifier(tmp_path / "b", dtype=dtype).predict_proba(texts, batch_size=4))
        np.testing.assert_allclose(got, want, atol=1e-6)
    ens = load_classifier(tmp_path / "both")
    a, b = ens.members.values()
    alone = b.predict_proba(texts)
    a.to_dtype("bfloat16")  # casting one member leaves the other's (shared) encoder as it was
    np.testing.assert_array_equal(b.predict_proba(texts), alone)
    ens = load_classifier(tmp_path / "both", quantize=True)  # int8 heads take the float rows too
    a, b = ens.members.values()
    want = 0.3 * a.predict_proba(texts, batch_size=4) + 0.7 * b.predict_proba(texts, batch_size=4)
    # batch by batch as the members: int8 activations are quantized on the same rows
    np.testing.assert_allclose(ens.predict_proba(texts, batch_size=4), want, atol=1e-6)


def test_frozen_encoder_folder_errors(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    card = {"kind": "transformer", "labels": LABELS, "base_encoder": "no-such-encoder"}
    (folder / "nlp_wire_model.json").write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match="unknown base_encoder"):
        load_classifier(folder)
    (folder / "nlp_wire_model.json").write_text(json.dumps({**card, "base_encoder": "minilm"}))
    with pytest.raises(ModelLoadError, match="no head.safetensors"):
        load_classifier(folder)
    from nlp_wire.config import ConfigError

    with pytest.raises(ConfigError, match="probe_init"):
        TrainingConfig(freeze_encoder=True)


def _wire(headline: str, body: str) -> str:
    return f" date 2024-05-01 {headline}\nSEOUL, May 1 (Yonhap) -- {body}\n(END)\n"


def test_distillation_learns_the_teachers_soft_labels_on_unlabeled_stories(trained, tiny_bert, tmp_path, make_folder,
                                                                          capsys):
    from nlp_wire.classify.train import train

    teacher, _ = trained
    # Labeled: only the two "other" stories. Unlabeled: the sport and weather stories, no labels.csv.
    labeled = make_folder({"o1.txt": _wire("Council budget", STORIES[4][0]), "o2.txt": _wire("Museum", STORIES[5][0]),
                           "labels.csv": "id,label\no1,other\no2,other\n"})
    unlabeled = make_folder({f"u{i}.txt": _wire(f"Story {i}", text) for i, (text, _) in enumerate(STORIES[:4])})
    cfg = _config(tiny_bert, max_steps=80, eval_every=0)
    cfg = TrainConfig(kind="minilm", device="cpu", seed=1,
                      data=DataConfig(labels=LABELS, default_label="other", val_size=0.0), model=cfg.model,
                      training=cfg.training)
    student = train(cfg, [str(labeled)], tmp_path / "run", teacher=teacher, unlabeled=[f"{unlabeled}@1"])
    # Sport and weather were never in the labeled data: the student knows them only from the teacher.
    assert [p.label for p in student.predict([t for t, _ in STORIES])] == [label for _, label in STORIES]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["train_examples"] == 6 and metrics["unlabeled"] == [f"{unlabeled}@1"]
    assert metrics["workdir"] == str(Path.cwd())  # what the relative paths above are relative to
    assert f"teacher labeling {unlabeled.name}: 100%" in capsys.readouterr().err  # a bar while the teacher works


def test_long_passes_of_training_show_progress_and_the_teacher_labels_in_chunks(trained, tiny_bert, tmp_path, capsys):
    """A probe's features and a teacher's labeling (minutes with mpnet or an ensemble) each get a bar; the
    teacher, asked chunk by chunk, gives what one call gives."""
    from nlp_wire.classify.train import _teacher_proba

    teacher, _ = trained
    texts = [f"{t} {'and more words ' * (i % 7)}" for i, (t, _) in enumerate(STORIES * 4)]  # lengths differ
    whole = teacher._proba_texts(texts, 2)
    # batches of 2 asked one at a time, cut from the length order one call uses: the very same batches and rows
    np.testing.assert_array_equal(_teacher_proba(teacher, texts, 2, "teacher labeling u"), whole)
    assert _teacher_proba(teacher, [], 4, "none").shape == (0, len(LABELS))
    train_transformer(_config(tiny_bert, max_steps=1, eval_every=0, probe_init=True), _dataset(STORIES), None,
                      tmp_path, progress=True)
    err = capsys.readouterr().err
    assert "teacher labeling u" in err and f"{len(texts)}/{len(texts)}" in err
    assert "probe features" in err and f"{len(STORIES)}/{len(STORIES)}" in err
    train_transformer(_config(tiny_bert, max_steps=1, eval_every=0, probe_init=True), _dataset(STORIES), None,
                      tmp_path / "quiet", progress=False)
    assert "probe features" not in capsys.readouterr().err


def test_distillation_refuses_a_teacher_with_other_labels(trained, tiny_bert, tmp_path, make_folder):
    from nlp_wire.classify.train import teacher_labeled_data

    teacher, _ = trained
    cfg = TrainConfig(kind="minilm", data=DataConfig(labels=["a", "b"], default_label="b"))
    with pytest.raises(ValueError, match="teacher's labels"):
        teacher_labeled_data(cfg, teacher, [str(make_folder({"u.txt": _wire("x", "y")}))])


def test_probe_candidate_scores_exactly_the_model_the_trainer_makes(tiny_bert, tmp_path):
    """The protocol's cached probe and `train` with freeze_encoder fit the same head on the same data."""
    from nlp_wire.classify.protocol import ProbeCandidate

    gold = _dataset(STORIES + [("Rain and a football match were both in the news.", "other")])
    cfg = _config(tiny_bert, probe_init=True, probe_C=3.0, freeze_encoder=True, balance="sampler",
                  balance_power=0.5, restore_prior=True)
    train_idx, test_idx = np.array([0, 2, 4, 5, 6]), np.array([1, 3])
    cand = ProbeCandidate(cfg, None, gold, gold_weight=2.0)
    proba = cand.fit_proba(train_idx, test_idx)
    fold = gold.select(train_idx).map(lambda row: {"weight": row["weight"] * 2.0})
    clf = train_transformer(cfg, fold, None, tmp_path, progress=False)
    texts = [gold["text"][i] for i in test_idx]
    np.testing.assert_allclose(proba, clf.predict_proba(texts), atol=1e-5)
    assert cand.fit_proba(train_idx, test_idx).shape == (2, len(LABELS))  # features are cached, not recomputed


def test_probe_candidate_keeps_features_on_disk_and_self_trains_only_from_its_split(tiny_bert, tmp_path, monkeypatch):
    """A second run reads the features back instead of encoding; pseudo-labels come from the split's fit."""
    from nlp_wire.classify import protocol
    from nlp_wire.classify.protocol import ProbeCandidate

    gold = _dataset(STORIES)
    cfg = _config(tiny_bert, probe_init=True, probe_C=3.0, freeze_encoder=True)
    unlabeled = ["The striker scored a goal in the final.", "Snow and wind in the north tomorrow."]
    monkeypatch.setattr(protocol, "_FEATURES", {})
    plain = ProbeCandidate(cfg, None, gold, feature_cache=tmp_path / "cache")
    first = plain.fit_proba(np.arange(4), np.arange(4, 6))
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1

    monkeypatch.setattr(protocol, "_FEATURES", {})  # a new process: only the disk cache is left
    monkeypatch.setattr(TransformerClassifier, "from_base", lambda *a, **k: pytest.fail("encoded again"))
    again = ProbeCandidate(cfg, None, gold, feature_cache=tmp_path / "cache")
    np.testing.assert_allclose(again.fit_proba(np.arange(4), np.arange(4, 6)), first, atol=1e-6)

    monkeypatch.undo()
    monkeypatch.setattr(protocol, "_FEATURES", {})
    pseudo = []
    real_fit = ProbeCandidate._fit
    monkeypatch.setattr(ProbeCandidate, "_fit", lambda self, X, y, w, *rest: pseudo.append(len(y)) or real_fit(self, X, y, w, *rest))
    selfie = ProbeCandidate(cfg, None, gold, unlabeled=unlabeled, threshold=0.0, unlabeled_weight=0.5)
    proba = selfie.fit_proba(np.arange(4), np.arange(4, 6))
    assert proba.shape == (2, len(LABELS)) and np.allclose(proba.sum(1), 1.0)
    assert pseudo == [4, 4 + len(unlabeled)]  # fit on the split, then again with every confident pseudo-label
    pseudo.clear()
    ProbeCandidate(cfg, None, gold, unlabeled=unlabeled, threshold=1.01).fit_proba(np.arange(4), np.arange(4, 6))
    assert pseudo == [4, 4]  # nothing confident enough: the same training set twice


def test_probe_candidate_ships_the_model_it_scored(tiny_bert, tmp_path):
    """save_model on the training stories writes a folder whose predictions are the candidate's own."""
    from nlp_wire.classify.protocol import ProbeCandidate

    gold = _dataset(STORIES)
    cand = ProbeCandidate(_config(tiny_bert, probe_init=True, probe_C=3.0, freeze_encoder=True), None, gold,
                          unlabeled=["A goal in the final match."], threshold=0.0)
    train_idx = np.arange(len(STORIES))
    cand.save_model(train_idx, tmp_path / "member")
    loaded = load_classifier(tmp_path / "member")
    np.testing.assert_allclose(loaded.predict_proba(list(gold["text"])), cand.fit_proba(train_idx, train_idx), atol=1e-5)


def test_probe_on_a_float16_encoder_folder_ships_in_float16_with_the_same_answers(tiny_bert, tmp_path):
    """An encoder folder stored in float16 (a fine-tuned encoder we ship) is copied in float16: half the size,
    same predictions; a float32 one (above) stays float32."""
    from safetensors import safe_open

    from nlp_wire.classify.protocol import ProbeCandidate
    from nlp_wire.classify.transformer import TransformerClassifier

    TransformerClassifier.from_base(_config(tiny_bert).model, LABELS).save_pretrained(tmp_path / "enc", half=True)
    gold = _dataset(STORIES)
    cand = ProbeCandidate(_config(tmp_path / "enc", probe_init=True, probe_C=3.0, freeze_encoder=True), None, gold)
    train_idx = np.arange(len(STORIES))
    cand.save_model(train_idx, tmp_path / "member")
    with safe_open(str(tmp_path / "member" / "model.safetensors"), framework="pt") as fh:
        assert {str(fh.get_slice(k).get_dtype()) for k in fh.keys() if not k.startswith("head")} == {"F16"}
    loaded = load_classifier(tmp_path / "member")
    np.testing.assert_allclose(loaded.predict_proba(list(gold["text"])), cand.fit_proba(train_idx, train_idx), atol=1e-3)


def test_probe_on_a_shipped_fine_tuned_encoder_names_it_instead_of_copying_it(tiny_bert, tmp_path, monkeypatch):
    """A head on the encoder of a shipped fine-tuned transformer (models/NAME) is saved head-only with
    base_encoder NAME, loads that encoder from the shipped folder and answers as the candidate it was scored as."""
    import nlp_wire.resources as resources
    from nlp_wire.classify.encoders import shipped_encoder
    from nlp_wire.classify.protocol import ProbeCandidate
    from nlp_wire.classify.transformer import TransformerClassifier

    shipped = tmp_path / "models"
    TransformerClassifier.from_base(_config(tiny_bert).model, LABELS).save_pretrained(shipped / "tuned")
    monkeypatch.setattr(resources, "models_dir", lambda: shipped)
    assert shipped_encoder("tuned") == shipped / "tuned" and shipped_encoder("../tuned") is None
    gold = _dataset(STORIES)
    cand = ProbeCandidate(_config(shipped / "tuned", probe_init=True, probe_C=3.0, freeze_encoder=True), None, gold)
    train_idx = np.arange(len(STORIES))
    cand.save_model(train_idx, shipped / "member")
    assert sorted(p.name for p in (shipped / "member").iterdir()) == ["head.safetensors", "nlp_wire_model.json"]
    loaded = load_classifier(shipped / "member", dtype="float32")  # exact (bf16 on AMX)
    assert loaded.base_encoder == "tuned"
    np.testing.assert_allclose(loaded.predict_proba(list(gold["text"])), cand.fit_proba(train_idx, train_idx), atol=1e-5)
    assert shipped_encoder("member") is None  # a head-only folder is not an encoder to name
    with pytest.raises(ValueError, match="base_encoder 'nope'"):
        loaded.save_pretrained(tmp_path / "x", base_encoder="nope")


def test_distill_cross_validate_teaches_each_split_with_its_own_choice(tiny_bert, tmp_path, make_folder):
    """Teacher fit on the outer training stories only; student scored on every gold story once; resumable."""
    import yaml

    from nlp_wire.classify import distill
    from nlp_wire.classify.protocol import load_protocol, run_protocol

    files, rows = {}, ["id,label"]
    for n in range(12):
        text, label = STORIES[n % len(STORIES)]
        sid = f"k001_{n:03d}" if n % 2 else f"h2020{n:03d}"
        files[f"{sid}.txt"] = _wire(f"Headline {n}", text).replace("2024-05-01", f"2024-05-0{n % 4 + 1}")
        rows.append(f"{sid},{label}")
    gold = make_folder(files)
    (gold / "labels.csv").write_text("\n".join(rows) + "\n")
    data = {"labels": LABELS, "default_label": "other", "val_size": 0.0}
    (tmp_path / "bl.yaml").write_text(yaml.safe_dump({"kind": "baseline", "data": data, "baseline": {"min_df": 1}}))
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"gold": str(gold), "folds": 2, "inner_folds": 2, "max_members": 1,
                                                     "candidates": {"tfidf": {"config": str(tmp_path / "bl.yaml")}}}))
    spec = load_protocol(tmp_path / "p.yaml")
    nested = run_protocol(spec, "story")
    seen = []
    real = distill.teacher_proba
    distill.teacher_proba = lambda c, w, trn, texts: seen.append(set(trn.tolist())) or real(c, w, trn, texts)
    try:
        pool = ["The striker scored in the league match.", "Cold wind and snow tomorrow."]
        student = _config(tiny_bert, max_steps=3, probe_init=True)
        metrics = distill.distill_cross_validate(spec, nested, student, [], pool, tmp_path / "work", progress=None)
    finally:
        distill.teacher_proba = real
    assert metrics["n"] == 12 and len(metrics["agreement"]) == 2 and "macro_f1" in metrics["teacher"]
    assert len(seen) == 4 and seen[0] == seen[1] and seen[2] == seen[3] and not seen[0] & seen[2]
    assert sorted((tmp_path / "work").glob("split*.npz"))
    assert [len(c["test_ids"]) for c in nested["choices"]] == [6, 6]  # recorded for later runs on these splits
    import nlp_wire.classify.train as train_module

    fit, trained = train_module.fit_classifier, []
    train_module.fit_classifier = lambda config, *a, **k: trained.append(config.kind) or fit(config, *a, **k)
    try:
        again = distill.distill_cross_validate(spec, nested, student, [], pool, tmp_path / "work")  # resumes
        assert again["macro_f1"] == metrics["macro_f1"] and trained == []
        distill.distill_cross_validate(spec, nested, student, [], pool[:1], tmp_path / "work")
        assert trained.count("minilm") == 2  # another pool: both students train again, nothing stale reused
        (tmp_path / "work" / "split1.npz").write_bytes(b"PK\x03\x04 cut short")  # a crash mid-write, before
        distill.distill_cross_validate(spec, nested, student, [], pool[:1], tmp_path / "work")
        assert trained.count("minilm") == 3  # the broken split alone runs again
        distill.distill_cross_validate(spec, nested, student, [], pool[:1], tmp_path / "work", gold_weight=1.0)
        assert trained.count("minilm") == 5  # another gold weight is another recipe: no old split is reused
        distill.distill_cross_validate(spec, nested, student, [], pool[:1], tmp_path / "work", gold_weight=1.0,
                                       pool_weight=2.0)
        assert trained.count("minilm") == 7  # so is another pool weight
    finally:
        train_module.fit_classifier = fit
    moved = dict(nested, choices=[dict(c, test_ids=c["test_ids"][::-1]) for c in nested["choices"]])
    with pytest.raises(ValueError, match="tested other stories"):
        distill.distill_cross_validate(spec, moved, student, [], pool, tmp_path / "work_moved")
    days = run_protocol(spec, "day")  # each day on one side: distillation scores on the same splits
    by_day = distill.distill_cross_validate(spec, days, student, [], pool, tmp_path / "work_day")
    assert by_day["n"] == 12
    dates = {f"k001_{n:03d}" if n % 2 else f"h2020{n:03d}": n % 4 for n in range(12)}
    for c in days["choices"]:
        assert len({dates[i] for i in c["test_ids"]}) in (1, 2, 3)
        assert not {dates[i] for i in c["test_ids"]} & {dates[i] for i in set(dates) - set(c["test_ids"])}
    # a split's chosen bias is part of its teacher: other x exp(-30) leaves other no probability there
    nested["choices"][0]["bias"] = {"other": -30.0}
    student_data, taught = distill._student_data, []
    distill._student_data = lambda *a: taught.append(a[6]) or student_data(*a)  # the pool's soft labels
    try:
        distill.distill_cross_validate(spec, nested, student, [], pool, tmp_path / "work_bias")
    finally:
        distill._student_data = student_data
    # the student learns the split's biased teacher, as it is scored against it
    assert len(taught) == 2 and taught[0][:, LABELS.index("other")].max() < 1e-6
    assert taught[1][:, LABELS.index("other")].max() > 1e-6
    with np.load(tmp_path / "work_bias" / "split1.npz") as saved, np.load(tmp_path / "work" / "split1.npz") as plain:
        assert saved["teacher"][:, LABELS.index("other")].max() < 1e-6 < plain["teacher"][:, LABELS.index("other")].max()
    with np.load(tmp_path / "work_bias" / "split2.npz") as saved, np.load(tmp_path / "work" / "split2.npz") as plain:
        np.testing.assert_allclose(saved["teacher"], plain["teacher"], atol=1e-9)


def test_transformer_takes_a_bare_string_as_one_story(trained):
    clf, _ = trained
    assert [p.label for p in clf.predict(STORIES[0][0])] == ["sport"]
    assert clf.predict_proba(STORIES[2][0]).shape == (1, len(LABELS))
    with pytest.raises(ValueError, match="batch_size"):
        clf.predict_proba([STORIES[0][0]], batch_size=0)


def test_a_full_folder_without_its_tokenizer_is_refused_at_load(trained, tmp_path):
    import shutil

    _, run = trained
    broken = tmp_path / "broken"
    shutil.copytree(run / "model", broken)
    for name in ("tokenizer.json", "vocab.txt"):
        (broken / name).unlink(missing_ok=True)
    with pytest.raises(ModelLoadError, match="no tokenizer"):
        load_classifier(broken)


def test_a_config_claiming_a_huge_encoder_is_refused_before_allocating(trained, tmp_path):
    import shutil

    _, run = trained
    broken = tmp_path / "huge"
    shutil.copytree(run / "model", broken)
    config = json.loads((broken / "config.json").read_text())
    config["intermediate_size"] = 3_000_000  # ~55 GB of float32 if built for real
    (broken / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="do not belong together"):
        load_classifier(broken)
    assert load_classifier(run / "model").labels == LABELS  # the real folder still loads


@pytest.mark.parametrize("present", [(0, 1), (0, 2, 3)])
def test_fit_probe_never_predicts_a_label_it_had_no_example_of(present):
    """Two labels present: class 0 sat at logit 0 and an absent label at intercept - 10, which won wherever the one
    row's logit fell below that (a boundary far from 0 makes the intercept large)."""
    from sklearn.linear_model import LogisticRegression

    from nlp_wire.classify.train_transformer import fit_probe

    rng = np.random.default_rng(0)
    X = np.concatenate([rng.uniform(-40 + 24 * i, -16 + 24 * i, 50) for i in range(len(present))])[:, None]
    y = np.repeat(np.array(present), 50)
    weight, bias = fit_probe(X, y, np.ones(len(y)), C=10.0, k=5)
    grid = np.linspace(-300, 300, 1201)[:, None]
    predicted = set((grid @ weight.T + bias).argmax(1).tolist())
    assert predicted == set(present)
    logits = X @ weight.T + bias
    ours = np.exp(logits - logits.max(1, keepdims=True))
    lr = LogisticRegression(C=10.0, max_iter=3000).fit(X, y)
    np.testing.assert_allclose((ours / ours.sum(1, keepdims=True))[:, list(present)], lr.predict_proba(X), atol=1e-4)


def test_epochs_count_batches_when_accumulating_and_evaluate_at_each_epoch_end(tiny_bert, tmp_path, monkeypatch):
    """grad_accum 2 over 5 batches an epoch: each epoch was rounded up to 3 optimizer steps (3.6 epochs for 3), and
    'once per epoch' evaluations fell every 3 steps, not where the epochs ended."""
    from nlp_wire.classify.transformer import TransformerClassifier

    seen = []
    real = TransformerClassifier.from_base.__func__

    def from_base(cls, *args, **kwargs):
        clf = real(cls, *args, **kwargs)
        clf.model.head.register_forward_hook(lambda m, i, o: seen.append(o.shape[0]) if m.training else None)
        return clf

    monkeypatch.setattr(TransformerClassifier, "from_base", classmethod(from_base))
    rows = STORIES * 5  # 30 examples, batches of 6: 5 batches an epoch
    train_transformer(_config(tiny_bert, epochs=3, max_steps=0, grad_accum=2, eval_every=0), _dataset(rows),
                      _dataset(STORIES), tmp_path, progress=False)
    steps = [p["step"] for p in json.loads((tmp_path / "curve.json").read_text())]
    assert steps == [3, 5, 8]  # epochs end in batches 5, 10 and 15: optimizer steps 3, 5 and 8
    assert 3 * 30 <= sum(seen) <= 3 * 30 + 2 * 6  # 3 epochs, at most one accumulation window more


def test_early_stopping_keeps_the_best_evaluation_weights(tiny_bert, tmp_path, monkeypatch):
    import nlp_wire.classify.train_transformer as tt

    scores, heads = iter([0.5, 0.9, 0.6, 0.4, 0.3]), {}

    def scripted(clf, texts, y, batch_size, shift):
        f1 = next(scores)
        heads[f1] = clf.model.head.weight.detach().clone()
        return f1

    monkeypatch.setattr(tt, "_macro_f1", scripted)
    clf = train_transformer(_config(tiny_bert, max_steps=60, eval_every=5, patience=2), _dataset(STORIES),
                            _dataset(STORIES), tmp_path, progress=False)
    curve = json.loads((tmp_path / "curve.json").read_text())
    assert [p["step"] for p in curve] == [5, 10, 15, 20]  # two evaluations without a gain after 0.9: stop
    assert torch.equal(clf.model.head.weight, heads[0.9]) and not torch.equal(heads[0.9], heads[0.4])


def test_a_loaded_classifier_pickles_for_process_pools_and_caches(trained):
    """TopicModel was a class made inside a function: pickle could not find it (joblib, ProcessPoolExecutor)."""
    import pickle

    from nlp_wire.classify.ensemble import EnsembleClassifier

    clf, out = trained
    texts = [t for t, _ in STORIES]
    again = pickle.loads(pickle.dumps(load_classifier(out / "model")))
    np.testing.assert_allclose(again.predict_proba(texts), clf.predict_proba(texts), atol=1e-6)
    ensemble = pickle.loads(pickle.dumps(EnsembleClassifier({"a": clf, "b": clf})))
    np.testing.assert_allclose(ensemble.predict_proba(texts), clf.predict_proba(texts), atol=1e-6)


def test_a_gold_prior_probe_reads_only_its_training_split_labels(tiny_bert, tmp_path, monkeypatch):
    """prior: gold shifts the head to the gold class mix: of the training split's stories only, or the outer test
    stories' labels would leak into their own scores (a mutation counting every gold label passed every test)."""
    from nlp_wire.classify import protocol
    from nlp_wire.classify.protocol import ProbeCandidate

    cfg = _config(tiny_bert, probe_init=True, probe_C=3.0, freeze_encoder=True)
    train_idx, test_idx = np.array([0, 1, 2, 3]), np.array([4, 5])
    relabeled = [(text, "sport" if i in test_idx else label) for i, (text, label) in enumerate(STORIES)]
    probas = []
    for rows in (STORIES, relabeled):  # the same texts; only the test stories' gold labels differ
        monkeypatch.setattr(protocol, "_FEATURES", {})
        probas.append(ProbeCandidate(cfg, None, _dataset(rows), prior="gold").fit_proba(train_idx, test_idx))
    np.testing.assert_allclose(probas[0], probas[1], atol=1e-7)
    assert [label for _, label in STORIES[4:6]] != ["sport", "sport"]  # the relabeling changed something


def test_learning_rate_warms_up_then_decays_linearly_and_the_loss_weighs_classes(tiny_bert, tmp_path, monkeypatch):
    """Guards the code review found missing: no warmup, no decay and no class weights in the loss all passed."""
    import torch

    lrs = []
    real_step = torch.optim.AdamW.step

    def step(self, *args, **kwargs):
        lrs.append(self.param_groups[0]["lr"])
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", step)
    rows = STORIES + [(STORIES[0][0] + " Again.", "sport")] * 3  # 5 sport : 2 weather : 2 other
    train_transformer(_config(tiny_bert, max_steps=10, warmup_ratio=0.2, lr=1e-3, eval_every=0), _dataset(rows), None,
                      tmp_path / "lr", progress=False)
    np.testing.assert_allclose(lrs, 1e-3 * np.array([0.5, 1.0, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125]),
                               rtol=1e-6)  # 2 warmup steps, then linear decay over the other 8
    first_loss = {}
    for balance in ("weights", "none"):  # the same seed, batch and start: only the loss's class weights differ
        train_transformer(_config(tiny_bert, max_steps=1, eval_every=1, balance=balance), _dataset(rows), None,
                          tmp_path / balance, progress=False)
        first_loss[balance] = json.loads((tmp_path / balance / "curve.json").read_text())[0]["loss"]
    assert first_loss["weights"] != pytest.approx(first_loss["none"], rel=1e-3)


def test_a_loaded_transformer_saved_elsewhere_keeps_its_training_record(trained, tmp_path):
    from nlp_wire.classify import load_classifier
    from nlp_wire.classify.catalog import training_sources

    clf, out = trained
    clf.save_pretrained(tmp_path / "run" / "model")  # trained here: no record of loading, none written
    assert not (tmp_path / "run" / "model" / "metrics.json").exists()
    (tmp_path / "run" / "metrics.json").write_text(json.dumps({"data": [str(tmp_path / "gold")]}))
    loaded = load_classifier(tmp_path / "run" / "model")
    loaded.save_pretrained(tmp_path / "half", half=True)
    loaded.save_pretrained(tmp_path / "head", base_encoder="minilm")
    for folder in ("half", "head"):
        assert training_sources(tmp_path / folder)[:1] == [(tmp_path / "gold").resolve()], folder


def test_the_sampler_draws_each_example_by_class_weight_times_its_source_weight(tiny_bert, tmp_path, monkeypatch):
    """``balance: sampler`` draws example i with probability proportional to class_w[y_i] * weight_i (a source given
    as ``PATH@3`` is drawn three times as often), and the loss is then unweighted."""
    import torch.utils.data

    drawn = {}
    real = torch.utils.data.WeightedRandomSampler

    def spy(weights, num_samples, **kwargs):
        drawn["weights"], drawn["n"] = np.asarray(weights, dtype=np.float64), num_samples
        return real(weights, num_samples, **kwargs)

    monkeypatch.setattr(torch.utils.data, "WeightedRandomSampler", spy)
    rows = STORIES + [(STORIES[0][0] + " Again.", "sport")] * 3
    ds = _dataset(rows)
    source_w = np.where(np.arange(len(rows)) % 2 == 0, 3.0, 1.0)
    ds = ds.remove_columns("weight").add_column("weight", source_w.tolist())
    train_transformer(_config(tiny_bert, max_steps=1, balance="sampler", balance_power=1.0, eval_every=0), ds, None,
                      tmp_path, progress=False)
    y = np.asarray(ds["label"])
    counts = np.bincount(y, minlength=len(LABELS))
    class_w = len(y) / (len(LABELS) * counts)  # power 1: scikit-learn's "balanced"
    np.testing.assert_allclose(drawn["weights"], class_w[y] * source_w, rtol=1e-6)
    assert drawn["n"] == len(rows)


def test_balance_power_softens_the_class_weights():
    from nlp_wire.classify.train_transformer import _class_weights

    y = np.array([0, 0, 0, 1])
    np.testing.assert_allclose(_class_weights(y, 2, 1.0), [4 / 6, 4 / 2])
    np.testing.assert_allclose(_class_weights(y, 2, 0.5), [(4 / 6) ** 0.5, (4 / 2) ** 0.5])
    np.testing.assert_allclose(_class_weights(y, 3, 0.0), [1.0, 1.0, 0.0])  # an absent class weighs nothing


@pytest.mark.parametrize("balance, expect_source_weights_in_loss", [("sampler", False), ("weights", True)])
def test_a_source_weight_counts_once_drawn_or_in_the_loss(tiny_bert, tmp_path, monkeypatch, balance,
                                                          expect_source_weights_in_loss):
    """Under ``balance: sampler`` a source weight decides how often a story is drawn, and the loss then weighs every
    drawn story 1 (weighing it again would count the weight squared); under ``weights`` the loss carries it."""
    import torch.utils.data

    seen = []
    real = torch.utils.data.DataLoader

    class Spy(real):  # a subclass: accelerate checks loaders with isinstance
        def __init__(self, dataset, *args, **kwargs):
            collate = kwargs.get("collate_fn")
            if collate is not None:
                def recording(idx):
                    batch = collate(idx)
                    if "weight" in batch:
                        seen.extend(batch["weight"].tolist())
                    return batch
                kwargs["collate_fn"] = recording
            super().__init__(dataset, *args, **kwargs)

    monkeypatch.setattr(torch.utils.data, "DataLoader", Spy)
    rows = STORIES + [(STORIES[0][0] + " Again.", "sport")] * 3
    ds = _dataset(rows).remove_columns("weight").add_column("weight", [3.0 if i % 2 else 1.0 for i in range(len(rows))])
    train_transformer(_config(tiny_bert, max_steps=3, balance=balance, eval_every=0), ds, None, tmp_path, progress=False)
    assert seen and (3.0 in seen) == expect_source_weights_in_loss


def _padded_pair(folder):
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    batch = tokenizer(["Rain.", "Heavy rain and strong wind in the north tomorrow."], padding=True,
                      return_tensors="pt")
    assert batch["attention_mask"][0].sum() < batch["attention_mask"][1].sum()  # row 0 ends in padding
    return tokenizer, batch


def test_cls_pooling_reads_the_first_position_and_batches_like_one_by_one(tiny_bert):
    """No test or shipped config used ``pooling: cls``: reading the last position (a pad for the shorter story)
    passed every test."""
    from nlp_wire.classify.topic_model import TopicModel

    encoder = transformers.AutoModel.from_pretrained(tiny_bert)
    model = TopicModel(encoder, 3, pooling="cls").eval()
    tokenizer, batch = _padded_pair(tiny_bert)
    with torch.no_grad():
        pooled = model.pool(batch["input_ids"], batch["attention_mask"])
        first = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state[:, 0]
        alone = tokenizer(["Rain."], return_tensors="pt")
        one = model.pool(alone["input_ids"], alone["attention_mask"])
    assert torch.equal(pooled, first)
    torch.testing.assert_close(pooled[:1], one, atol=1e-5, rtol=1e-5)


def test_dropout_acts_before_the_head_in_training_only(tiny_bert):
    from nlp_wire.classify.topic_model import TopicModel

    model = TopicModel(transformers.AutoModel.from_pretrained(tiny_bert), 3, dropout=0.9)
    _, batch = _padded_pair(tiny_bert)
    args = (batch["input_ids"], batch["attention_mask"])
    with torch.no_grad():
        model.train()
        model.encoder.eval()  # only the head's dropout varies
        torch.manual_seed(1)
        a = model(*args)
        b = model(*args)
        model.eval()
        c, d = model(*args), model(*args)
    assert not torch.allclose(a, b)
    assert torch.equal(c, d)
    torch.testing.assert_close(c, model.head(model.pool(*args)).detach())
