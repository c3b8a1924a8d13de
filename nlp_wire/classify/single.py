"""Loading one model folder of a single kind: the TF-IDF baseline or a transformer.

It sits below :mod:`.ensemble` (whose members are single models) and below
:func:`nlp_wire.classify.load_classifier` (which adds ensembles and the choice of a runtime), so the package's
modules import one another top-down only.
"""

from __future__ import annotations

from pathlib import Path

from .base import ModelLoadError, WireClassifier, read_model_card


def load_single(folder: str | Path, device: str = "cpu", quantize: bool = False, runtime: str = "torch",
                dtype: str = "float32") -> WireClassifier:
    """Load the baseline or transformer model in ``folder`` (see :func:`~nlp_wire.load_classifier` for the
    arguments; ``runtime`` is ``"torch"`` or ``"onnxruntime"`` here, already resolved).

    Raises:
        ModelLoadError: The folder is missing, incomplete, not an nlp_wire model, or holds an ensemble.
    """
    folder = Path(folder)
    kind = read_model_card(folder)["kind"]
    if kind == "baseline":
        from .baseline import TfidfClassifier

        return TfidfClassifier.from_pretrained(folder)
    if kind == "transformer":
        from .transformer import TransformerClassifier

        model = TransformerClassifier.from_pretrained(folder, device=device, dtype=dtype)
        if runtime == "onnxruntime":
            model.use_onnx_runtime(int8=quantize)
        elif quantize:
            model.quantize()
        return model
    if kind == "ensemble":
        raise ModelLoadError(f"{folder}: holds an ensemble, not a single model")
    raise ModelLoadError(f"{folder}: unknown model kind {kind!r}")
