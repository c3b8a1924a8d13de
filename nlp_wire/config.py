"""Settings as dataclasses, loaded from YAML with dotted command-line overrides.

``load_config(TrainConfig, "configs/minilm_cpu.yaml", ["training.lr=3e-5"])`` reads the file,
applies ``--set`` overrides, rejects unknown keys by name and validates in ``__post_init__``.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

__all__ = [
    "ConfigError",
    "DEFAULT_LABELS",
    "DataConfig",
    "BaselineConfig",
    "TransformerConfig",
    "TrainingConfig",
    "TrainConfig",
    "SummarizeConfig",
    "load_config",
    "parse_overrides",
    "config_to_dict",
    "read_yaml_mapping",
    "build_config",
]

DEFAULT_LABELS = ("diplomacy", "covid", "crime", "entertainment", "other")
T = TypeVar("T")
MAX_COUNT = 1_000_000  # a bound on word and paragraph counts (a huge one overflows str.split's maxsplit)


class ConfigError(ValueError):
    """A configuration file or override is invalid (the message names the key)."""


def _finite(value) -> bool:
    """A real number that is neither NaN nor infinite (a YAML ``.nan`` or ``--set x=inf`` is refused early)."""
    import math

    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass
class DataConfig:
    """How stories become model inputs and splits.

    Args:
        labels: Ordered label names; the last-resort label should be among them.
        default_label: Label answered below a confidence threshold.
        max_words: Cap on the words of headline + lead fed to a model.
        lead_paragraphs: How many leading paragraphs make the "lead".
        include_related: Add related headlines as headline-only examples (weak-labeled).
        drop_duplicates: Drop exact duplicate texts.
        val_size: Fraction held out for validation (by story group, stratified).
        test_size: Fraction held out for test.
        seed: Seed for splits and shuffling.
    """

    labels: list[str] = field(default_factory=lambda: list(DEFAULT_LABELS))
    default_label: str = "other"
    max_words: int = 96
    lead_paragraphs: int = 2
    include_related: bool = False
    drop_duplicates: bool = True
    val_size: float = 0.1
    test_size: float = 0.0
    seed: int = 13

    def __post_init__(self):
        if len(set(self.labels)) != len(self.labels) or len(self.labels) < 2:
            raise ConfigError(f"data.labels must be at least two distinct names, got {self.labels}")
        if self.default_label not in self.labels:
            raise ConfigError(f"data.default_label {self.default_label!r} is not in data.labels {self.labels}")
        if not (1 <= self.max_words <= MAX_COUNT and 1 <= self.lead_paragraphs <= MAX_COUNT):
            raise ConfigError(f"data.max_words and data.lead_paragraphs must be between 1 and {MAX_COUNT:,}")
        if not (0 <= self.val_size < 1 and 0 <= self.test_size < 1 and self.val_size + self.test_size < 1):
            raise ConfigError("data.val_size and data.test_size must be fractions summing to less than 1")


@dataclass
class BaselineConfig:
    """TF-IDF + linear classifier hyperparameters (keys map onto the scikit-learn Pipeline).

    Args:
        word_ngram_range: Word n-gram range of the word TF-IDF.
        char_ngram_range: Character n-gram range (``char_wb``); ``[0, 0]`` turns it off.
        min_df: Minimum document frequency.
        max_features: Cap on each vocabulary (None: no cap).
        sublinear_tf: Use 1 + log(tf).
        C: Inverse regularization strength of the logistic regression.
        class_weight: ``"balanced"`` or None.
        max_iter: Solver iterations.
    """

    word_ngram_range: list[int] = field(default_factory=lambda: [1, 2])
    char_ngram_range: list[int] = field(default_factory=lambda: [0, 0])
    min_df: int = 2
    max_features: int | None = 100_000  # as TfidfClassifier's default and configs/baseline.yaml
    sublinear_tf: bool = True
    C: float = 10.0
    class_weight: str | None = "balanced"
    max_iter: int = 2000

    def __post_init__(self):
        for name in ("word_ngram_range", "char_ngram_range"):
            if len(getattr(self, name)) != 2:
                raise ConfigError(f"baseline.{name} must be [low, high]")
            lo, hi = getattr(self, name)
            if lo > hi or lo < 0:
                raise ConfigError(f"baseline.{name} must be [low, high] with 0 <= low <= high")
        if not _finite(self.C) or self.C <= 0:
            raise ConfigError(f"baseline.C must be a finite number > 0, not {self.C!r}")
        if self.min_df < 1 or (self.max_features is not None and self.max_features < 1) or self.max_iter < 1:
            raise ConfigError("baseline.min_df, baseline.max_features and baseline.max_iter must be >= 1")
        if self.class_weight not in (None, "balanced"):
            raise ConfigError("baseline.class_weight must be 'balanced' or null")


@dataclass
class TransformerConfig:
    """The transformer to fine-tune.

    Args:
        name_or_path: ``"minilm"`` (the installed all-MiniLM-L6-v2 package), a local encoder folder, or a
            classifier folder saved by nlp_wire (training then continues from it; its labels must match).
        max_length: Token cap per input.
        pooling: ``"mean"`` (as all-MiniLM-L6-v2 was trained) or ``"cls"``.
        dropout: Dropout before the classification head.
    """

    name_or_path: str = "minilm"
    max_length: int = 128
    pooling: str = "mean"
    dropout: float = 0.1

    def __post_init__(self):
        if self.pooling not in ("mean", "cls"):
            raise ConfigError("model.pooling must be 'mean' or 'cls'")
        if not 8 <= self.max_length <= 512:
            raise ConfigError("model.max_length must be between 8 and 512")
        if not 0 <= self.dropout < 1:
            raise ConfigError("model.dropout must be in [0, 1)")


@dataclass
class TrainingConfig:
    """Optimisation settings for the transformer.

    Args:
        epochs: Passes over the training data.
        max_steps: Stop after this many optimizer steps (0: no cap).
        batch_size: Examples per batch (the global batch: under ``accelerate launch`` each process takes its share).
        grad_accum: Batches per optimizer step.
        lr: Peak learning rate (encoder); the head gets ``head_lr``.
        head_lr: Learning rate of the classification head.
        weight_decay: AdamW weight decay.
        warmup_ratio: Fraction of steps spent warming up.
        balance: ``"weights"`` (loss weighted by class and source weight), ``"sampler"`` (examples drawn
            with probability proportional to class weight x source weight, loss unweighted) or ``"none"``.
        balance_power: How far class weights go toward balance: weight = (n / (k * count)) ** power;
            1 balances the classes fully, 0 keeps the data's class mix, 0.5 is in between.
        restore_prior: After training, shift the head's bias by -log(class weight), so that scores follow
            the class mix of the (source-weighted) training data rather than the balanced mix the model
            was trained on: balancing then shapes what the model learns, not where it draws the line.
            Validation macro-F1 is measured with the shift. No effect with ``balance: none``.
        probe_init: Start the head from a logistic regression fitted on the frozen encoder's pooled
            features (linear probing, then fine-tuning: "LP-FT"), so that early steps refine the
            pretrained features rather than bend them to a random head.
        probe_C: Inverse regularization strength of that logistic regression.
        freeze_encoder: Train only the linear probe (needs ``probe_init``): the encoder stays as
            pretrained, so a named base encoder is saved by name and the model folder holds only the
            head. Minutes instead of an hour for a large encoder on a CPU.
        freeze_embeddings: Keep the word-embedding matrix fixed (faster steps; rare words keep their
            pretrained vectors).
        eval_every: Evaluate on validation every this many optimizer steps (0: once per epoch).
        patience: Early stopping: evaluations without a macro-F1 gain before stopping (0: off).
        mixed_precision: ``true``: autocast on CUDA (bf16, or fp16 where bf16 is missing), float32 elsewhere;
            ``"bf16"``: bfloat16 autocast on CUDA and on the CPU too (faster steps on CPUs with AMX or
            AVX512-BF16, slower on others; a run is not bit-identical to a float32 one); ``false``: float32.
        num_threads: Torch CPU threads (0: leave torch's default).
        eval_batch_size: Batch size when predicting.
    """

    epochs: float = 1.0
    max_steps: int = 0
    batch_size: int = 16
    grad_accum: int = 1
    lr: float = 5e-5
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    balance: str = "weights"
    balance_power: float = 1.0
    restore_prior: bool = False
    probe_init: bool = False
    probe_C: float = 1.0
    freeze_encoder: bool = False
    freeze_embeddings: bool = False
    eval_every: int = 0
    patience: int = 2
    mixed_precision: bool | str = True
    num_threads: int = 0
    eval_batch_size: int = 64

    def __post_init__(self):
        if self.balance not in ("weights", "sampler", "none"):
            raise ConfigError("training.balance must be 'weights', 'sampler' or 'none'")
        if self.freeze_encoder and not self.probe_init:
            raise ConfigError("training.freeze_encoder trains only the linear probe: set training.probe_init: true")
        if not 0 <= self.balance_power <= 1:
            raise ConfigError("training.balance_power must be in [0, 1]")
        if self.batch_size < 1 or self.grad_accum < 1:
            raise ConfigError("training.batch_size and training.grad_accum must be >= 1")
        if not _finite(self.epochs) or (self.epochs <= 0 and self.max_steps <= 0):
            raise ConfigError("training.epochs (finite) or training.max_steps must be > 0")
        for name in ("lr", "head_lr", "probe_C"):
            if not _finite(getattr(self, name)) or getattr(self, name) <= 0:
                raise ConfigError(f"training.{name} must be a finite number > 0, not {getattr(self, name)!r}")
        if not _finite(self.weight_decay) or self.weight_decay < 0:
            raise ConfigError(f"training.weight_decay must be a finite number >= 0, not {self.weight_decay!r}")
        if self.eval_batch_size < 1 or self.patience < 0 or self.eval_every < 0 or self.max_steps < 0:
            raise ConfigError("training.eval_batch_size must be >= 1; patience, eval_every and max_steps >= 0")
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError("training.warmup_ratio must be in [0, 1)")
        if self.mixed_precision not in (True, False, "bf16"):
            raise ConfigError(f"training.mixed_precision must be true, false or bf16, not {self.mixed_precision!r}")


@dataclass
class TrainConfig:
    """Everything a training run needs.

    Args:
        kind: ``"baseline"`` or ``"minilm"`` (any transformer).
        device: ``auto | cpu | cuda | cuda:N | mps`` (under ``accelerate launch`` the launcher places each process).
        seed: Global seed.
        data: See :class:`DataConfig`.
        baseline: See :class:`BaselineConfig`.
        model: See :class:`TransformerConfig`.
        training: See :class:`TrainingConfig`.
        extra_data: Further labeled sources (paths) added to the training data.
        extra_weight: Sample weight of ``extra_data`` examples relative to the main data.
    """

    kind: str = "baseline"
    device: str = "auto"
    seed: int = 13
    data: DataConfig = field(default_factory=DataConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    model: TransformerConfig = field(default_factory=TransformerConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    extra_data: list[str] = field(default_factory=list)
    extra_weight: float = 1.0

    # Keys a kind never reads: a run folder's config leaves them out (a baseline has no encoder,
    # no training loop and runs on the CPU; a transformer has no TF-IDF settings).
    _UNUSED_BY_KIND = {"baseline": ("device", "model", "training"), "minilm": ("baseline",)}

    def __post_init__(self):
        if self.kind not in ("baseline", "minilm"):
            raise ConfigError(f"kind must be 'baseline' or 'minilm', not {self.kind!r}")
        from .device import check_device_spec

        try:  # in the config's own error, which names its file, not at the start of training
            check_device_spec(self.device)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if not _finite(self.extra_weight) or self.extra_weight <= 0:
            raise ConfigError(f"extra_weight must be a finite number > 0, not {self.extra_weight!r}")

    def to_dict(self) -> dict:
        """The settings this kind of run uses, as a plain dict: what a run folder records.

        :func:`load_config` on the written dict gives back every setting the run used (the keys
        left out keep their defaults, which this kind ignores).
        """
        unused = self._UNUSED_BY_KIND[self.kind]
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in unused}


@dataclass
class SummarizeConfig:
    """Summarization settings.

    Args:
        method: Summarizer name (``"lead"``).
        sentences: Sentences per summary.
        max_words: Optional cap on summary words.
        workers: Processes for folder runs (0: one per CPU core).
        chunk_size: Stories handed to a worker at a time.
    """

    method: str = "lead"
    sentences: int = 3
    max_words: int | None = None
    workers: int = 0
    chunk_size: int = 64

    def __post_init__(self):
        if self.sentences < 1:
            raise ConfigError("summarize.sentences must be >= 1")
        if self.max_words is not None and self.max_words < 1:
            raise ConfigError("summarize.max_words must be >= 1 or null")
        if self.workers < 0 or self.chunk_size < 1:
            raise ConfigError("summarize.workers must be >= 0 and chunk_size >= 1")


# -- loading ---------------------------------------------------------------------------------
def _is_dataclass_type(tp) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _build(cls: type[T], values: dict[str, Any], prefix: str = "") -> T:
    if not isinstance(values, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a mapping, got {type(values).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ConfigError(f"unknown config key {prefix + unknown[0]!r}; known keys: {', '.join(sorted(names))}")
    kwargs = {}
    for key, value in values.items():
        tp = hints[key]
        if _is_dataclass_type(tp):
            kwargs[key] = _build(tp, value or {}, f"{prefix}{key}.")
        else:
            kwargs[key] = _coerce(value, tp, f"{prefix}{key}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: {exc}") from None


def build_config(cls: type[T], values: dict[str, Any], prefix: str = "") -> T:
    """Build the settings dataclass ``cls`` from a mapping, checked as a config file's keys are.

    Args:
        cls: The dataclass (e.g. :class:`DataConfig`).
        values: Its keys; missing ones keep their defaults.
        prefix: Named before each key in errors (``"data."``).

    Raises:
        ConfigError: Not a mapping, an unknown key, a wrong type or an invalid value (the key named).
    """
    return _build(cls, values, prefix)


def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except ConfigError:
                continue
        raise ConfigError(f"{key}: {value!r} is not a valid {tp}")
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return [_coerce(v, args[0], key) for v in value] if args else list(value)
    if tp is float:
        if isinstance(value, str):  # YAML 1.1 reads "3e-5" (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{key}: expected a number, got {value!r}")
    if tp in (int, str, bool) and (not isinstance(value, tp) or (tp is int and isinstance(value, bool))):
        raise ConfigError(f"{key}: expected {tp.__name__}, got {value!r}")
    return value


def parse_overrides(overrides: list[str] | None) -> dict[str, Any]:
    """Turn ``["training.lr=3e-5", "device=cpu"]`` into a nested dict (values parsed as YAML)."""
    nested: dict[str, Any] = {}
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key=value or key.sub=value")
        key, raw = item.split("=", 1)
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError as exc:
            raise ConfigError(f"override {item!r}: {key.strip()} is not a valid YAML value ({getattr(exc, 'problem', exc)})") from None
        node = nested
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r} conflicts with another override")
        node[parts[-1]] = value
    return nested


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the last one silently, so
    an edited config could run with a value the reader of its first half does not expect)."""

    def construct_mapping(self, node, deep=False):
        first: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # "<<: *defaults" may repeat keys on purpose
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                seen = key in first
            except TypeError:  # an unhashable key: the base constructor says so
                break
            if seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice (first on line {first[key] + 1})", key_node.start_mark)
            first[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def read_yaml_mapping(path: str | Path, what: str) -> dict[str, Any]:
    """Read a YAML file of keys (empty: ``{}``).

    Raises:
        ConfigError: Unreadable file, not UTF-8, invalid YAML (with ``file:line``; a key given twice in one
            mapping included) or not a mapping.
    """
    try:
        values = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: cannot read {what}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: {what} must be a mapping of keys")
    return values


def load_config(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None) -> T:
    """Build a config dataclass from a YAML file (optional) and dotted overrides.

    Args:
        cls: The dataclass to build (e.g. :class:`TrainConfig`).
        path: YAML file; missing keys keep their defaults.
        overrides: ``key.sub=value`` strings applied after the file.

    Raises:
        ConfigError: Unknown key, wrong type, invalid value, or unreadable file (with its name).
    """
    file_values: dict[str, Any] = {}
    if path is not None:
        file_values = read_yaml_mapping(path, "config")
    override_values = parse_overrides(overrides)
    _check_override_keys(cls, override_values)  # a mistyped --set key is the override's fault, not the file's
    try:
        return _build(cls, _merge(file_values, override_values))
    except ConfigError as exc:
        if override_values and _builds(cls, file_values):  # the file alone is fine: a value given after it is not
            raise ConfigError(f"given on the command line ({' '.join(overrides)}): {exc}") from None
        if path is not None and not str(exc).startswith(str(path)):
            raise ConfigError(f"{path}: {exc}") from None
        raise


def _builds(cls: type, values: dict[str, Any]) -> bool:
    try:
        _build(cls, copy.deepcopy(values))
    except ConfigError:
        return False
    return True


def _check_override_keys(cls: type, values: dict[str, Any], prefix: str = "") -> None:
    hints = typing.get_type_hints(cls)
    for key, value in values.items():
        if key not in hints:
            known = ", ".join(sorted(f.name for f in dataclasses.fields(cls)))
            raise ConfigError(f"--set {prefix + key!r}: unknown config key; known keys{' under ' + prefix.rstrip('.') if prefix else ''}: {known}")
        if _is_dataclass_type(hints[key]) and isinstance(value, dict):
            _check_override_keys(hints[key], value, f"{prefix}{key}.")


def config_to_dict(cfg) -> dict:
    """A plain dict of a config dataclass (for writing next to a run)."""
    return dataclasses.asdict(cfg)
