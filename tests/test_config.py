"""Settings dataclasses: YAML, dotted overrides, unknown keys and bad values named."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest
import yaml

from nlp_wire.config import (
    DEFAULT_LABELS,
    BaselineConfig,
    ConfigError,
    DataConfig,
    SummarizeConfig,
    TrainConfig,
    config_to_dict,
    load_config,
    parse_overrides,
)

TRAIN_YAML = """\
kind: minilm
device: cpu
data:
  labels: [sport, weather, other]
  max_words: 64
training:
  lr: 3.0e-5
  batch_size: 8
"""


@pytest.fixture
def train_yaml(tmp_path):
    p = tmp_path / "train.yaml"
    p.write_text(TRAIN_YAML, encoding="utf-8")
    return p


def write(tmp_path, text: str, name: str = "cfg.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_defaults():
    cfg = TrainConfig()
    assert cfg.data.labels == list(DEFAULT_LABELS) == ["diplomacy", "covid", "crime", "entertainment", "other"]
    assert cfg.kind == "baseline" and cfg.device == "auto"


def test_yaml_file_sets_keys_and_keeps_defaults(train_yaml):
    cfg = load_config(TrainConfig, train_yaml)
    assert (cfg.kind, cfg.device) == ("minilm", "cpu")
    assert cfg.data.labels == ["sport", "weather", "other"] and cfg.data.max_words == 64
    assert cfg.training.lr == 3e-5 and isinstance(cfg.training.lr, float)
    assert cfg.training.batch_size == 8
    assert cfg.training.epochs == TrainConfig().training.epochs
    assert cfg.baseline == BaselineConfig()


def test_overrides_after_the_file(train_yaml):
    cfg = load_config(TrainConfig, train_yaml, ["training.lr=1e-4", "data.labels=[a, b, other]", "seed=7",
                                                "baseline.max_features=null", "training.mixed_precision=false"])
    assert cfg.training.lr == 1e-4 and isinstance(cfg.training.lr, float)
    assert cfg.data.labels == ["a", "b", "other"]
    assert cfg.seed == 7 and cfg.baseline.max_features is None and cfg.training.mixed_precision is False
    assert cfg.training.batch_size == 8  # untouched keys of the file stay


def test_parse_overrides():
    assert parse_overrides(["training.lr=3e-5", "device=cpu", "data.labels=[x, y]", "summarize.max_words="]) == {
        "training": {"lr": "3e-5"}, "device": "cpu", "data": {"labels": ["x", "y"]}, "summarize": {"max_words": None}}
    assert parse_overrides(None) == {}


@pytest.mark.parametrize("overrides, message", [
    (["training.lrr=1"], "'training.lrr'"),
    (["nope=1"], "'nope'"),
    (["data.labels.first=a"], "data.labels"),
    (["training.lr"], "key.sub=value"),
    (["training.lr=1", "training.lr.x=2"], "conflicts"),
    (["data.labels=[a, b"], "data.labels"),
])
def test_bad_overrides_name_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("[", r"\[")):
        load_config(TrainConfig, None, overrides)


def test_unknown_key_in_a_file_names_file_and_key(tmp_path):
    p = write(tmp_path, """\
        training:
          batch_size: 4
          learning_rate: 0.1
    """)
    with pytest.raises(ConfigError, match=r"'training\.learning_rate'") as info:
        load_config(TrainConfig, p)
    assert str(info.value).startswith(str(p))
    assert "known keys" in str(info.value) and "lr" in str(info.value)


@pytest.mark.parametrize("override, key", [
    ("training.batch_size=abc", "training.batch_size"),
    ("training.batch_size=2.5", "training.batch_size"),
    ("training.batch_size=true", "training.batch_size"),
    ("training.lr=true", "training.lr"),
    ("training.lr=[1, 2]", "training.lr"),
    ("training.lr=fast", "training.lr"),
    ("data.labels=diplomacy", "data.labels"),
    ("data.labels=[a, 1]", "data.labels"),
    ("device=0", "device"),
    ("data=3", "data"),
    ("baseline.max_features=lots", "baseline.max_features"),
])
def test_bad_types_name_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(TrainConfig, None, [override])


@pytest.mark.parametrize("override, message", [
    ("data.default_label=misc", "default_label"),
    ("data.labels=[only]", "at least two"),
    ("data.labels=[a, a, other]", "distinct"),
    ("data.val_size=1.0", "val_size"),
    ("data.max_words=0", "max_words"),
    ("baseline.C=0", "C"),
    ("baseline.word_ngram_range=[2, 1]", "word_ngram_range"),
    ("baseline.word_ngram_range=[1, 2, 3]", "word_ngram_range"),
    ("baseline.class_weight=heavy", "class_weight"),
    ("model.pooling=max", "pooling"),
    ("model.max_length=4", "max_length"),
    ("model.dropout=1.5", "dropout"),
    ("training.balance=maybe", "balance"),
    ("training.epochs=0", "epochs"),
    ("training.batch_size=0", "batch_size"),
    ("training.warmup_ratio=2", "warmup_ratio"),
    ("kind=svm", "kind"),
    ("extra_weight=0", "extra_weight"),
])
def test_validation_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(TrainConfig, None, [override])


def test_summarize_config_validation():
    assert load_config(SummarizeConfig, None, ["sentences=2", "max_words=40"]).max_words == 40
    for bad in ("sentences=0", "workers=-1", "chunk_size=0", "max_words=0"):
        with pytest.raises(ConfigError):
            load_config(SummarizeConfig, None, [bad])


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    p = write(tmp_path, """\
        kind: baseline
        data:
          labels: [a, b
        seed: 3
    """)
    with pytest.raises(ConfigError, match="invalid YAML") as info:
        load_config(TrainConfig, p)
    assert str(info.value).startswith(f"{p}:4: ")


def test_a_key_given_twice_names_both_lines(tmp_path):
    """PyYAML keeps the last of two equal keys silently: an edited config ran with a value nobody saw."""
    p = write(tmp_path, """\
        kind: baseline
        seed: 3
        data: {labels: [a, b], labels: [c, d]}
    """)
    with pytest.raises(ConfigError, match=r"key 'labels' given twice \(first on line 3\)") as info:
        load_config(TrainConfig, p)
    assert str(info.value).startswith(f"{p}:3: ")
    p.write_text("kind: baseline\nseed: 3\nseed: 4\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"key 'seed' given twice \(first on line 2\)") as info:
        load_config(TrainConfig, p)
    assert str(info.value).startswith(f"{p}:3: ")
    p.write_text("base: &b {seed: 3}\n<<: *b\nkind: baseline\n", encoding="utf-8")  # a merge key is no repeat
    with pytest.raises(ConfigError, match="unknown config key 'base'"):
        load_config(TrainConfig, p)


@pytest.mark.parametrize("content, message", [("- a\n- b\n", "mapping"), ("data: [1, 2]\n", "data must be a mapping")])
def test_file_must_be_a_mapping(tmp_path, content, message):
    with pytest.raises(ConfigError, match=message):
        load_config(TrainConfig, write(tmp_path, content))


def test_unreadable_files_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config") as info:
        load_config(TrainConfig, tmp_path / "missing.yaml")
    assert str(tmp_path / "missing.yaml") in str(info.value)
    p = tmp_path / "latin1.yaml"
    p.write_bytes("device: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="latin1.yaml"):
        load_config(TrainConfig, p)


def test_empty_file_gives_defaults(tmp_path):
    assert load_config(TrainConfig, write(tmp_path, "")) == TrainConfig()


def test_resolved_config_round_trips_through_yaml(tmp_path, train_yaml):
    cfg = load_config(TrainConfig, train_yaml, ["baseline.char_ngram_range=[2, 4]"])
    p = tmp_path / "resolved.yaml"
    p.write_text(yaml.safe_dump(config_to_dict(cfg)), encoding="utf-8")
    assert load_config(TrainConfig, p) == cfg


def test_dataclasses_validate_when_built_directly():
    with pytest.raises(ConfigError):
        DataConfig(labels=["a", "b"], default_label="other")
    assert DataConfig(labels=["a", "other"]).default_label == "other"


def test_an_unknown_set_key_is_blamed_on_the_override_not_the_file(tmp_path):
    from nlp_wire.config import ConfigError, TrainConfig, load_config

    path = tmp_path / "c.yaml"
    path.write_text("kind: baseline\n")
    with pytest.raises(ConfigError, match=r"^--set 'training\.lrr': unknown config key; known keys under training: .*lr"):
        load_config(TrainConfig, path, ["training.lrr=3"])
    assert load_config(TrainConfig, path, ["training.lr=0.1"]).training.lr == 0.1


def test_a_bad_value_is_blamed_on_where_it_was_given(tmp_path, capsys):
    """A bad --set value (or a flag turned into one) names the command line, not the file the user did not edit;
    a bad value in the file still names the file."""
    from nlp_wire.cli.main import main
    from nlp_wire.config import ConfigError, TrainConfig, load_config

    path = tmp_path / "c.yaml"
    path.write_text("kind: baseline\n")
    with pytest.raises(ConfigError, match=r"^given on the command line \(baseline\.C=abc\): baseline\.C: expected a number"):
        load_config(TrainConfig, path, ["baseline.C=abc"])
    path.write_text("kind: baseline\nbaseline:\n  C: abc\n")
    with pytest.raises(ConfigError, match=f"^{path}: baseline\\.C: expected a number"):
        load_config(TrainConfig, path, ["seed=1"])
    assert main(["summarize", str(tmp_path), "--out", str(tmp_path / "s.jsonl"), "--sentences", "0"]) == 2
    err = capsys.readouterr().err
    assert "given on the command line (sentences=0)" in err and "summarize.yaml" not in err


@pytest.mark.parametrize("kind, left_out", [("baseline", {"device", "model", "training"}), ("minilm", {"baseline"})])
def test_a_run_records_only_the_sections_its_kind_uses(tmp_path, kind, left_out):
    cfg = load_config(TrainConfig, None, [f"kind={kind}", "data.max_words=40", "baseline.C=2.0",
                                          "training.lr=1e-4", "model.max_length=64", "device=cpu"])
    written = cfg.to_dict()
    assert set(written) == {f.name for f in dataclasses.fields(TrainConfig)} - left_out
    p = tmp_path / "config.yaml"
    p.write_text(yaml.safe_dump(written), encoding="utf-8")
    back = load_config(TrainConfig, p)
    for key in written:  # what the run used comes back whole
        assert getattr(back, key) == getattr(cfg, key), key
    for key in left_out:  # what it did not use is not there to mislead (defaults on reload)
        assert getattr(back, key) == getattr(TrainConfig(), key) != getattr(cfg, key), key


@pytest.mark.parametrize("override", ["training.lr=nan", "training.head_lr=inf", "baseline.C=nan", "extra_weight=nan",
                                      "training.epochs=inf", "training.probe_C=-1", "training.eval_batch_size=0",
                                      "baseline.min_df=-3", "training.weight_decay=nan", "training.patience=-1"])
def test_values_that_would_break_a_run_late_are_refused_at_load(override):
    """lr=nan used to train a whole run and save weights load_classifier refuses; eval_batch_size=0 failed deep in
    the tokenizer."""
    with pytest.raises(ConfigError, match=override.split("=")[0].split(".")[-1]):
        load_config(TrainConfig, None, [override])


def test_a_malformed_device_is_refused_with_the_config_file_named(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("kind: baseline\ndevice: gpu\n")
    with pytest.raises(ConfigError, match=r"cfg.yaml: device 'gpu' is not one of auto, cpu"):
        load_config(TrainConfig, path)


def test_a_shipped_config_is_found_by_name_outside_a_checkout(tmp_path, monkeypatch):
    """From an installed wheel `--config minilm_gpu.yaml` (or the README's `configs/minilm_gpu.yaml`) names the
    shipped file; a file of that path in the current folder wins; a missing one stays missing."""
    from nlp_wire.resources import config_path, find_config

    monkeypatch.chdir(tmp_path)
    assert find_config("minilm_gpu.yaml") == config_path("minilm_gpu.yaml")
    assert find_config("configs/minilm_gpu.yaml") == config_path("minilm_gpu.yaml")
    assert find_config("elsewhere/minilm_gpu.yaml") == Path("elsewhere/minilm_gpu.yaml")
    assert find_config("nope.yaml") == Path("nope.yaml")
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "minilm_gpu.yaml").write_text("kind: minilm\n")
    assert find_config("configs/minilm_gpu.yaml") == Path("configs/minilm_gpu.yaml")


def test_train_and_summarize_take_a_shipped_config_by_name(tmp_path, monkeypatch, capsys):
    from nlp_wire.cli.main import main

    monkeypatch.chdir(tmp_path)
    wire = tmp_path / "w.txt"
    wire.write_text("date 2021-03-04 Rain expected\nSEOUL, March 4 (Testwire) -- Rain is expected. It will stop.\n")
    assert main(["summarize", str(wire), "--config", "summarize.yaml", "--out", str(tmp_path / "s.jsonl")]) == 0
    assert main(["train", "baseline", "--config", "configs/baseline.yaml", "--data", "nowhere", "--out", "r"]) == 2
    err = capsys.readouterr().err
    assert "baseline.yaml (shipped with nlp_wire)" in err and "nowhere does not exist" in err


def test_an_override_value_may_hold_an_equals_sign():
    from nlp_wire.config import parse_overrides

    assert parse_overrides(["x.y=a=b", "z=1"]) == {"x": {"y": "a=b"}, "z": 1}


def test_train_calls_only_a_fallback_config_shipped(tmp_path, monkeypatch, capsys):
    from nlp_wire.cli.main import main
    from nlp_wire.resources import config_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "my.yaml").write_text(config_path("baseline.yaml").read_text())
    for given, shipped in (("./my.yaml", False), ("./nope.yaml", False), ("baseline.yaml", True)):
        main(["train", "baseline", "--config", given, "--data", "nowhere", "--out", "r"])
        line = next(l for l in capsys.readouterr().err.splitlines() if l.startswith("config: "))
        assert ("(shipped with nlp_wire)" in line) == shipped, line
