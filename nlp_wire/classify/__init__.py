"""Topic classifiers: a TF-IDF baseline and a fine-tuned transformer behind one call.

>>> clf = load_classifier()              # the default model shipped in models/
>>> clf.predict(["SEOUL, May 1 (Yonhap) -- ..."])
"""

from __future__ import annotations

from pathlib import Path

from .base import MODEL_CARD, ModelLoadError, Prediction, WireClassifier, read_model_card

__all__ = ["load_classifier", "Prediction", "WireClassifier", "ModelLoadError", "DEFAULT_MODEL", "MODEL_CARD"]

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "baseline"


def load_classifier(path: str | Path | None = None, device: str = "cpu", threshold: float | None = None,
                    quantize: bool = False, runtime: str = "torch", dtype: str = "float32") -> WireClassifier:
    """Load a trained classifier folder of any kind (baseline, transformer or an ensemble of them).

    Args:
        path: Model folder (default: the baseline shipped in ``models/baseline``).
        device: For transformer models (and ensemble members): ``auto | cpu | cuda | cuda:N | mps``.
        threshold: Optional confidence threshold below which ``predict`` answers the default label.
        quantize: For transformer models on CPU: int8 dynamic quantization (faster; see
            :meth:`~nlp_wire.classify.transformer.TransformerClassifier.quantize`). Ignored for the baseline.
        runtime: For transformer models on CPU: ``"torch"`` or ``"onnxruntime"`` (the same model with fused
            kernels, the fastest one story at a time; needs ``pip install 'nlp_wire[onnx]'``). With
            ``quantize``, ONNX Runtime quantizes its own graph.
        dtype: For transformer models in torch: ``"float32"`` (exact), ``"bfloat16"`` (several times faster on
            CPUs with AMX or AVX512-BF16, scores within a few hundredths; see
            :meth:`~nlp_wire.classify.transformer.TransformerClassifier.to_dtype`) or, on a GPU, ``"float16"``.

    Raises:
        ModelLoadError: The folder is missing, incomplete or not an nlp_wire model.
        ValueError: Unknown ``runtime`` or ``dtype``, or a ``dtype`` combined with ``quantize`` or ONNX Runtime.
        ImportError: ``runtime="onnxruntime"`` without onnxruntime installed.
    """
    if runtime not in ("torch", "onnxruntime"):
        raise ValueError(f"runtime {runtime!r}: use 'torch' or 'onnxruntime'")
    if dtype != "float32" and (quantize or runtime != "torch"):
        raise ValueError(f"dtype {dtype!r} goes with the float torch runtime, not with quantize or ONNX Runtime")
    folder = Path(path) if path is not None else DEFAULT_MODEL
    card = read_model_card(folder)
    kind = card["kind"]
    if kind == "baseline":
        from .baseline import TfidfClassifier

        model = TfidfClassifier.from_pretrained(folder)
    elif kind == "ensemble":
        from .ensemble import EnsembleClassifier

        model = EnsembleClassifier.from_pretrained(folder, device=device, quantize=quantize, runtime=runtime,
                                                   dtype=dtype)
    elif kind == "transformer":
        from .transformer import TransformerClassifier

        model = TransformerClassifier.from_pretrained(folder, device=device, dtype=dtype)
        if runtime == "onnxruntime":
            model.use_onnx_runtime(int8=quantize)
        elif quantize:
            model.quantize()
    else:
        raise ModelLoadError(f"{folder}: unknown model kind {kind!r}")
    if threshold is not None:
        model.threshold = threshold
    return model
