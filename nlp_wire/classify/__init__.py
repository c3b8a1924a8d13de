"""Topic classifiers: a TF-IDF baseline and a fine-tuned transformer behind one call.

>>> clf = load_classifier()              # the default: most accurate shipped model at >= 50 stories/s
>>> clf = load_classifier("ensemble")    # a shipped model by name (`nlp-wire models` lists them), or any folder
>>> clf.predict(["SEOUL, May 1 (Yonhap) -- ..."])
"""

from __future__ import annotations

import logging
from pathlib import Path

from .base import MODEL_CARD, ModelLoadError, Prediction, WireClassifier, check_threshold, read_model_card

__all__ = ["load_classifier", "Prediction", "WireClassifier", "ModelLoadError", "MODEL_CARD"]

logger = logging.getLogger(__name__)


def load_classifier(path: str | Path | None = None, device: str = "cpu", threshold: float | None = None,
                    quantize: bool = False, runtime: str | None = None, dtype: str | None = None) -> WireClassifier:
    """Load a classifier of any kind (baseline, transformer or an ensemble of them) by folder or name.

    Args:
        path: A model folder, a shipped model's name (``"baseline"``, ``"minilm"``, ``"ensemble"``, ...;
            ``nlp-wire models`` lists them) or ``None`` / ``"default"``: the most accurate shipped model that
            predicts at least 50 stories/s on 2 CPU cores (computed from ``models/catalog.json``), in its
            best runtime here (``runtime="auto"``).
        device: For transformer models (and ensemble members): ``auto | cpu | cuda | cuda:N | mps``.
        threshold: Optional confidence threshold below which ``predict`` answers the default label.
        quantize: For transformer models on CPU: int8 dynamic quantization (faster; see
            :meth:`~nlp_wire.classify.transformer.TransformerClassifier.quantize`). Ignored for the baseline.
        runtime: For transformer models on CPU: ``"torch"`` or ``"onnxruntime"`` (the same model with fused
            kernels, the fastest one story at a time; needs ``pip install 'nlp_wire[onnx]'``). With
            ``quantize``, ONNX Runtime quantizes its own graph. ``"auto"`` (the default for shipped models,
            by name or as the default, when no ``dtype`` is given; ``"torch"`` for folders of yours): bfloat16 on CPUs that multiply it natively
            (AMX or AVX512-BF16), else exact float32 (int8 stays opt-in: it changes labels); logged once.
        dtype: For transformer models in torch: ``"float32"`` (exact; the default, except that a shipped
            model's auto runtime may pick bfloat16 when none is given), ``"bfloat16"`` (1.6-2.4x faster on
            CPUs with AVX512-BF16 in ``bench/models.json``, more with AMX; scores within a few hundredths; see
            :meth:`~nlp_wire.classify.transformer.TransformerClassifier.to_dtype`) or, on a GPU, ``"float16"``.
            A dtype given is the one used.

    Raises:
        ModelLoadError: The folder is missing, incomplete or not an nlp_wire model.
        ValueError: Unknown ``runtime`` or ``dtype``, or a ``dtype`` combined with ``quantize`` or ONNX Runtime.
        ImportError: ``runtime="onnxruntime"`` without onnxruntime installed.
    """
    from ..resources import models_dir
    from .catalog import DEFAULT_NAMES, resolve_model

    if runtime not in (None, "torch", "onnxruntime", "auto"):
        raise ValueError(f"runtime {runtime!r}: use 'torch', 'onnxruntime' or 'auto'")
    from .transformer import DTYPES

    if dtype is not None and dtype not in DTYPES:  # for a baseline too, where it would be ignored in silence
        raise ValueError(f"dtype {dtype!r}: use one of {', '.join(DTYPES)}")
    if dtype == "float16" and device == "cpu":  # found before a model of several seconds' loading, not after
        raise ValueError("dtype 'float16' is for GPUs; on the CPU use 'bfloat16'")
    if dtype not in (None, "float32") and (quantize or runtime == "onnxruntime"):
        raise ValueError(f"dtype {dtype!r} goes with the float torch runtime, not with quantize or ONNX Runtime")
    folder = resolve_model(path)
    card = read_model_card(folder)
    kind = card["kind"]
    if runtime is None:  # a shipped model (the default, or by name) in its best runtime here; a folder of yours exact
        shipped = path is None or str(path) in DEFAULT_NAMES or folder.resolve().parent == models_dir().resolve()
        runtime = "auto" if shipped and dtype is None else "torch"
    if runtime == "auto" and dtype is None:  # auto chooses only what the caller left open
        runtime, dtype, quantize = _auto_runtime(kind, device, quantize)
    runtime, dtype = ("torch" if runtime == "auto" else runtime), (dtype or "float32")
    if kind == "ensemble":
        from .ensemble import EnsembleClassifier

        model = EnsembleClassifier.from_pretrained(folder, device=device, quantize=quantize, runtime=runtime,
                                                   dtype=dtype)
    else:
        from .single import load_single

        model = load_single(folder, device=device, quantize=quantize, runtime=runtime, dtype=dtype)
    if threshold is not None:
        model.threshold = check_threshold(threshold)
    from .catalog import training_sources

    model.loaded_from = folder.resolve()
    try:  # a record that cannot be read must not stop a model from loading: only save_pretrained uses this
        model.trained_on = tuple(training_sources(folder))
    except (ValueError, OSError) as exc:
        logger.debug("%s: training records not read: %s", folder, exc)
    return model


_AUTO_LOGGED: set = set()


def _auto_runtime(kind: str, device: str, quantize: bool) -> tuple[str, str, bool]:
    """The fastest faithful CPU runtime here for a transformer (or ensemble): torch bfloat16 on CPUs that
    multiply it natively (AMX or AVX512-BF16; it changed no label in our measurements), else exact torch
    float32. int8 (ONNX Runtime or torch) stays opt-in: it changes labels (up to 9 of 225 korea_dev stories for
    the shipped MiniLM models, 20-33 for the mpnet ones; ``bench/models*.json``). Logged once per choice."""
    choice = ("torch", "float32", quantize)
    if kind == "baseline":  # scikit-learn in float64: no runtime to choose, nothing to log ("torch float32" was wrong)
        return choice
    why = ("int8 was asked for" if quantize
           else f"auto picks a CPU runtime; on {device} pass dtype= for another")
    if not quantize and device in ("cpu", "auto"):
        from .transformer import _cpu_has_bfloat16

        if _cpu_has_bfloat16():
            choice, why = ("torch", "bfloat16", False), "this CPU multiplies bfloat16 natively"
        else:
            why = "no AMX or AVX512-BF16 here; int8 is faster but changes labels, so it stays opt-in"
    if choice not in _AUTO_LOGGED:
        _AUTO_LOGGED.add(choice)
        logger.info("runtime auto: torch %s (%s)", choice[1], why)
    return choice
