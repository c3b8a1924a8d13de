"""A fine-tuned transformer topic classifier: encoder + pooling + dropout + linear head.

Mirrors ``SetFitModel``: :meth:`TransformerClassifier.from_pretrained` /
:meth:`~TransformerClassifier.save_pretrained`, and the ordered ``labels`` list is the one source of
truth (``id2label`` / ``label2id`` are derived from it and saved beside the weights). A saved folder
holds only JSON, tokenizer files and ``model.safetensors``, so opening a model cannot run code, and
weights load through the CPU so a GPU-trained model opens on any machine.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
from dataclasses import asdict
from pathlib import Path
from typing import Sequence

import numpy as np

from ..atomic import umask_mode
from ..config import DataConfig, TransformerConfig
from .base import (MODEL_CARD, ModelLoadError, WireClassifier, card_section, length_order, read_model_card,
                   write_model_card)
from .encoders import ENCODERS, resolve_base_model, shipped_encoder

__all__ = ["TransformerClassifier", "TopicModel", "resolve_base_model", "length_order", "WEIGHTS_NAME", "DTYPES"]

logger = logging.getLogger(__name__)

WEIGHTS_NAME = "model.safetensors"
HEAD_NAME = "head.safetensors"  # the only weights of a classifier saved with a named, frozen base encoder
DTYPES = ("float32", "bfloat16", "float16")  # prediction dtypes; float16 only on a GPU


def _head_state(state: dict) -> dict:
    """``head.weight`` / ``head.bias`` from a head file, as the head module's own keys."""
    if set(state) != {"head.weight", "head.bias"}:
        raise ModelLoadError(f"a head file holds head.weight and head.bias, not {sorted(state)[:4]}")
    return {key[len("head."):]: value.float() for key, value in state.items()}


# Integer config.json fields that size the encoder (layers, widths, vocabularies): each must fit the weights
# file, checked before the encoder is built (a huge layer count takes forever even on the meta device).
_SIZE_FIELD = re.compile(r"^num_|_size$|_embeddings$|_layers$|^n_(layer|head|embd|positions|inner|ctx)$")


def _check_config_against_weights(folder: Path, encoder_config) -> None:
    """Refuse a ``config.json`` that describes a bigger model than the weights file holds, before anything
    is allocated: each size field must fit the stored tensors (no more layers than tensors, no width over
    the largest dimension), then the encoder is built on the meta device (no memory) and its parameter
    count compared with the safetensors header's."""
    import torch
    from safetensors import safe_open
    from transformers import AutoModel

    try:
        with safe_open(str(folder / WEIGHTS_NAME), framework="pt") as f:
            shapes = [f.get_slice(key).get_shape() for key in f.keys()]
    except Exception as exc:  # SafetensorError: truncated file or bad header
        raise ModelLoadError(f"{folder}: {WEIGHTS_NAME}: unreadable weights: {type(exc).__name__}: {exc}") from None
    stored = sum(int(np.prod(shape)) for shape in shapes)
    widest = max((max(shape) for shape in shapes if shape), default=0)
    for key, value in encoder_config.to_dict().items():
        if type(value) is int and _SIZE_FIELD.search(key):
            bound = len(shapes) if "layer" in key else max(len(shapes), widest)
            if not 0 <= value <= bound:
                raise ModelLoadError(f"{folder}: config.json: {key} {value:,} does not fit {WEIGHTS_NAME} "
                                     f"({len(shapes)} tensors, none wider than {widest:,}): they do not belong together")
    with torch.device("meta"):
        needed = sum(p.numel() for p in AutoModel.from_config(encoder_config).parameters())
    if needed > stored:
        raise ModelLoadError(f"{folder}: config.json describes an encoder of {needed:,} parameters but "
                             f"{WEIGHTS_NAME} holds {stored:,} values: they do not belong together")


def _check_tokenizer_against_config(folder: Path, tokenizer, encoder_config, model_config: TransformerConfig) -> None:
    """Refuse a tokenizer that would make ids the encoder has no embedding for (a special token edited into
    something new), that cannot pad a batch, or inputs longer than the encoder's positions."""
    vocab_size = getattr(encoder_config, "vocab_size", None)
    if isinstance(vocab_size, int) and len(tokenizer) > vocab_size:
        raise ModelLoadError(f"{folder}: the tokenizer has {len(tokenizer):,} tokens but config.json's vocab_size "
                             f"is {vocab_size:,}: the tokenizer files do not belong to these weights")
    if tokenizer.pad_token_id is None:
        raise ModelLoadError(f"{folder}: the tokenizer has no padding token (pad_token in tokenizer_config.json)")
    positions = getattr(encoder_config, "max_position_embeddings", None)
    if isinstance(positions, int) and model_config.max_length > positions:
        raise ModelLoadError(f"{folder}: {MODEL_CARD}: model.max_length {model_config.max_length} is over "
                             f"config.json's max_position_embeddings {positions}")


def _encoder_name(name) -> bool:
    """A name a head-only classifier may give as its ``base_encoder``: an installed encoder or a shipped
    fine-tuned transformer (:func:`~.encoders.shipped_encoder`)."""
    return isinstance(name, str) and (name in ENCODERS or shipped_encoder(name) is not None)


def _finite(folder: Path, name: str, state: dict) -> dict:
    """``state``, refused if a float tensor holds NaN or infinity (it would answer NaN scores)."""
    import torch

    bad = [key for key, value in state.items() if value.is_floating_point() and not torch.isfinite(value).all()]
    if bad:
        raise ModelLoadError(f"{folder}: {name}: {bad[0]} holds NaN or infinite values")
    return state


# Files any of which carries a Hugging Face tokenizer's vocabulary.
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model", "vocab.json")


def _cpu_has_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (AMX tiles or AVX512-BF16)."""
    import torch

    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")  # private helpers, present since torch 2.1
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def TopicModel(encoder, num_labels: int, pooling: str = "mean", dropout: float = 0.1):
    """Build the ``torch.nn.Module`` (encoder + pooling + dropout + head); torch is imported lazily, with the
    module's class (:class:`nlp_wire.classify.topic_model.TopicModel`, a module-level class, so that a loaded
    classifier pickles)."""
    from .topic_model import TopicModel as Module

    return Module(encoder, num_labels, pooling, dropout)



@contextlib.contextmanager
def _no_loading_bar():
    """Without transformers' "Loading weights" progress bar (a few milliseconds of local reading): restored after."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()

class TransformerClassifier(WireClassifier):
    """A fine-tuned transformer behind the :class:`WireClassifier` interface.

    Args:
        model: The :func:`TopicModel` module.
        tokenizer: Its Hugging Face tokenizer.
        labels: Ordered label names (column order of the probabilities, head output order).
        model_config: Encoder settings (``max_length``, ``pooling``...).
        data_config: How stories become input text.
        device: ``auto | cpu | cuda | cuda:N | mps``.
        threshold: Optional confidence threshold for :meth:`predict`.
    """

    onnx = None  # an OnnxRuntimeModel once :meth:`use_onnx_runtime` is called
    base_encoder = None  # the named frozen encoder ("minilm", "mpnet") of a classifier loaded from a head file
    dtype = "float32"  # what the torch model computes in: "int8" after :meth:`quantize`, else set by :meth:`to_dtype`

    def __init__(self, model, tokenizer, labels: Sequence[str], model_config: TransformerConfig | None = None,
                 data_config: DataConfig | None = None, device: str = "cpu", threshold: float | None = None):
        from ..device import resolve_device

        self.labels = list(labels)
        self.model_config = model_config or TransformerConfig()
        self.data_config = data_config or DataConfig(labels=self.labels)
        self.tokenizer = tokenizer
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        self.threshold = threshold
        self.prior_shift: list[float] | None = None  # restore_prior's head bias offsets, kept in the card

    @property
    def quantized(self) -> bool:
        """Whether :meth:`quantize` replaced the linear layers by int8 ones."""
        return self.dtype == "int8"

    # -- the label map (derived) -------------------------------------------------------------
    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.labels))

    @property
    def label2id(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def from_base(cls, model_config: TransformerConfig, labels: Sequence[str], data_config: DataConfig | None = None,
                  device: str = "cpu") -> "TransformerClassifier":
        """A classifier ready to fine-tune: a pretrained encoder with a fresh head, or (when
        ``model_config.name_or_path`` is a classifier folder saved by nlp_wire) that classifier, to go on
        training it (for instance on in-domain stories after a general run).

        Raises:
            ModelLoadError: The folder is missing or unreadable, or a saved classifier's labels or pooling
                differ from the ones asked for.
        """
        from transformers import AutoModel, AutoTokenizer

        folder = resolve_base_model(model_config.name_or_path)
        if (folder / MODEL_CARD).is_file():
            clf = cls.from_pretrained(folder, device=device)
            if clf.labels != list(labels) or clf.model_config.pooling != model_config.pooling:
                raise ModelLoadError(f"{folder}: labels {clf.labels} / pooling {clf.model_config.pooling!r} differ "
                                     f"from this run's {list(labels)} / {model_config.pooling!r}")
            clf.model.dropout.p = model_config.dropout
            clf.model_config = model_config
            clf.data_config = data_config or clf.data_config
            if clf.prior_shift:  # go on from the balanced head it trained, or restore_prior would shift it twice
                import torch

                with torch.no_grad():
                    clf.model.head.bias.sub_(torch.as_tensor(clf.prior_shift, dtype=clf.model.head.bias.dtype,
                                                             device=clf.model.head.bias.device))
                clf.prior_shift = None
            return clf
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder)
            with _no_loading_bar():
                encoder = AutoModel.from_pretrained(folder)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"{folder}: cannot load the base encoder: {exc}") from None
        model = TopicModel(encoder, len(labels), model_config.pooling, model_config.dropout)
        return cls(model, tokenizer, labels, model_config, data_config, device=device)

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str = "cpu", threshold: float | None = None,
                        dtype: str = "float32") -> "TransformerClassifier":
        """Load a folder written by :meth:`save_pretrained` (weights go through the CPU first).

        Args:
            folder: The model folder.
            device: ``auto | cpu | cuda | cuda:N | mps``.
            threshold: Confidence threshold for :meth:`predict` (default: the card's, saved from the model's).
            dtype: Predict in ``"float32"`` (exact), ``"bfloat16"`` or (GPU only) ``"float16"``; see
                :meth:`to_dtype`.

        Raises:
            ModelLoadError: Missing, incomplete or mismatched folder (the message names it).
            ValueError: Unknown ``dtype``, or ``float16`` on the CPU.
        """
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        folder = Path(folder)
        card = read_model_card(folder)
        if card["kind"] != "transformer":
            raise ModelLoadError(f"{folder}: a {card['kind']!r} model, not a transformer")
        base = card.get("base_encoder")  # a frozen encoder is named, not copied: only the head is in the folder
        if base is not None and not _encoder_name(base):
            raise ModelLoadError(f"{folder}: unknown base_encoder {base!r} (known: {', '.join(ENCODERS)} or a "
                                 "shipped fine-tuned transformer)")
        for name in ((HEAD_NAME,) if base else ("config.json", WEIGHTS_NAME)):
            if not (folder / name).is_file():
                raise ModelLoadError(f"{folder}: incomplete transformer model folder (no {name})")
        if not base and not any((folder / name).is_file() for name in TOKENIZER_FILES):
            # without one, a tokenizer may still load from the config and map every word to unknown
            raise ModelLoadError(f"{folder}: incomplete transformer model folder (no tokenizer: none of "
                                 f"{', '.join(TOKENIZER_FILES)})")
        try:
            labels = list(card["labels"])
            model_config = card_section(folder, card, "model", TransformerConfig)
            data_config = card_section(folder, card, "data", DataConfig)
            if base:
                tokenizer, encoder = cls._named_encoder(base)
                model = TopicModel(encoder, len(labels), model_config.pooling, model_config.dropout)
                model.head.load_state_dict(_head_state(_finite(folder, HEAD_NAME, load_file(str(folder / HEAD_NAME),
                                                                                               device="cpu"))),
                                           strict=True)
            else:
                tokenizer = AutoTokenizer.from_pretrained(folder)
                encoder_config = AutoConfig.from_pretrained(folder)
                _check_config_against_weights(folder, encoder_config)
                _check_tokenizer_against_config(folder, tokenizer, encoder_config, model_config)
                encoder = AutoModel.from_config(encoder_config)
                model = TopicModel(encoder, len(labels), model_config.pooling, model_config.dropout)
                # map_location: GPU-trained loads on CPU
                state = _finite(folder, WEIGHTS_NAME, load_file(str(folder / WEIGHTS_NAME), device="cpu"))
                model.load_state_dict(state, strict=True)
        except ModelLoadError:
            raise
        except Exception as exc:  # a broken folder can fail in many library-specific ways
            raise ModelLoadError(f"{folder}: cannot load the transformer model: {type(exc).__name__}: {exc}") from None
        threshold = card.get("threshold") if threshold is None else threshold  # the card's, unless one is given
        clf = cls(model, tokenizer, labels, model_config, data_config, device=device, threshold=threshold)
        clf.base_encoder = base
        shift = card.get("prior_shift")
        if shift is not None and (not isinstance(shift, list) or len(shift) != len(labels)
                                  or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in shift)):
            raise ModelLoadError(f"{folder}: prior_shift must be one finite number per label, not {shift!r}")
        clf.prior_shift = shift
        return clf.to_dtype(dtype) if dtype != "float32" else clf

    @classmethod
    def _named_encoder(cls, base: str):
        """``(tokenizer, encoder)`` of a head file's ``base_encoder``: an installed encoder package (its weights
        checked against their SHA-256), or the encoder of a shipped fine-tuned transformer, read from its
        own folder."""
        from transformers import AutoModel, AutoTokenizer

        if base in ENCODERS:
            source = resolve_base_model(base)
            with _no_loading_bar():  # a shipped probe's every load printed transformers' "Loading weights" bar
                return AutoTokenizer.from_pretrained(source), AutoModel.from_pretrained(source)
        shipped = cls.from_pretrained(shipped_encoder(base))
        return shipped.tokenizer, shipped.model.encoder

    def to_dtype(self, dtype: str) -> "TransformerClassifier":
        """Cast the model to ``"bfloat16"`` (CPU or GPU) or ``"float16"`` (GPU) for faster prediction.

        On a CPU with bfloat16 matrix units (AMX or AVX512-BF16: Intel Xeon since Sapphire Rapids, AMD
        since Zen 4) this predicts about 3x as fast as float32 in batches; other CPUs have no bfloat16
        matrix units, so it is likely slower there, and a warning says so. Probabilities move by a few
        hundredths at most (0.025 on 1,000 public stories, no label changed; ``scripts/bench_classify.py``
        measures the speed and the macro-F1 change). Like :meth:`quantize`, this is one way: a cast
        classifier predicts only; it cannot go back to float32, be saved, quantized or exported to ONNX.

        Raises:
            ValueError: Unknown ``dtype``, ``float16`` on the CPU, or a classifier already cast or quantized.
        """
        import copy

        import torch

        if dtype not in DTYPES:
            raise ValueError(f"dtype {dtype!r}: use one of {', '.join(DTYPES)}")
        if dtype == self.dtype:
            return self
        if self.dtype != "float32" or self.onnx is not None:
            raise ValueError(f"dtype {dtype!r}: only a float32 torch classifier can be cast (this one is "
                             f"{'in ONNX Runtime' if self.onnx is not None else self.dtype})")
        if dtype == "float16" and self.device.type == "cpu":
            raise ValueError("dtype 'float16' is for GPUs; on the CPU use 'bfloat16'")
        if self.device.type == "cpu" and not _cpu_has_bfloat16():
            logger.warning("this CPU has no bfloat16 matrix instructions (AMX or AVX512-BF16): bfloat16 is "
                           "emulated and likely slower than float32")
        # a copy, as quantize makes: an ensemble's heads on one frozen encoder share its module
        self.model = copy.deepcopy(self.model).to(getattr(torch, dtype)).eval()
        self.dtype = dtype
        return self

    def quantize(self) -> "TransformerClassifier":
        """Replace the linear layers by int8 dynamically quantized ones, for faster prediction on CPU.

        Weights are stored in int8 and activations quantized on the fly; the embeddings, layer norms and
        softmax stay in float32. ``scripts/bench_classify.py`` measures the speed and the macro-F1 change.
        Activation ranges are measured per batch, so a story's scores move slightly (about 1e-3) with its
        batch mates; only the float model gives batched results exactly equal to one-by-one results.
        A quantized classifier predicts only: it cannot be trained further or saved.

        Raises:
            ValueError: The classifier is not on the CPU, or cast to another dtype.
        """
        import warnings

        import torch
        from torch.ao.quantization import quantize_dynamic

        if self.quantized:
            return self
        if self.device.type != "cpu":
            raise ValueError(f"int8 dynamic quantization runs on the CPU, not {self.device}")
        if self.dtype != "float32":
            raise ValueError(f"int8 dynamic quantization needs the float32 classifier, not {self.dtype}")
        with warnings.catch_warnings():  # torch.ao's eager quantization warns that it is moving to torchao
            warnings.simplefilter("ignore")
            self.model = quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8).eval()
        self.dtype = "int8"
        return self

    def use_onnx_runtime(self, int8: bool = False) -> "TransformerClassifier":
        """Predict through ONNX Runtime (the same model exported with fused kernels; optionally int8).

        Float32 results equal the torch model's within 1e-6; int8 ones move like :meth:`quantize`'s. The
        torch model stays and can still be saved; the exported graph is a snapshot, so call this again
        after changing the weights. See :mod:`nlp_wire.classify.onnx_runtime`.

        Raises:
            ImportError: onnxruntime or onnx is not installed.
            ValueError: The classifier is quantized by torch, cast to another dtype or not on the CPU.
        """
        from .onnx_runtime import OnnxRuntimeModel

        self.onnx = OnnxRuntimeModel(self, int8=int8)
        return self

    def check_savable(self) -> None:
        """Raise the error :meth:`save_pretrained` would, before anything is written.

        Raises:
            ValueError: The classifier is quantized or cast to another dtype (the message says how to load the
                float32 one: ``load_classifier()`` takes bfloat16 by itself on CPUs with AMX or AVX512-BF16).
        """
        if self.dtype != "float32":
            kind = "quantized" if self.quantized else self.dtype
            raise ValueError(f"a {kind} classifier cannot be saved: load the float32 one to save it, "
                             "load_classifier(NAME, dtype='float32') (the default model loads in bfloat16 on CPUs "
                             "with AMX or AVX512-BF16), and cast it after loading; save_pretrained(half=True) stores "
                             "float16 weights that load back as float32")

    def save_pretrained(self, folder: str | Path, half: bool = False, base_encoder: str | None = None) -> Path:
        """Write weights (safetensors, from CPU copies), tokenizer, encoder config and the model card.

        Args:
            folder: Target folder (created if needed).
            half: Store float weights as float16 (half the size, for shipping a model); they are read
                back into float32 by :meth:`from_pretrained`.
            base_encoder: For a classifier whose encoder was never trained (a linear probe on a frozen
                encoder): the encoder's name (``"mpnet"``, ``"minilm"``, or a shipped fine-tuned transformer
                such as ``"minilm_sample_ft"``). Only the head is written (``head.safetensors``, a few KB);
                loading takes the encoder from its installed package or that shipped model's folder.

        Raises:
            ValueError: The classifier is quantized or cast to another dtype, a weight does not fit in float16,
                or ``base_encoder`` is unknown.
        """
        import torch
        from safetensors.torch import save_file

        self.check_savable()
        if base_encoder is not None:
            if not _encoder_name(base_encoder):
                raise ValueError(f"base_encoder {base_encoder!r}: use one of {', '.join(ENCODERS)} or a shipped "
                                 "fine-tuned transformer's name")
            folder = Path(folder)
            folder.mkdir(parents=True, exist_ok=True)
            head = {f"head.{k}": v.detach().to("cpu").float().contiguous().clone()
                    for k, v in self.model.head.state_dict().items()}
            save_file(head, str(folder / HEAD_NAME), metadata={"format": "pt"})
            umask_mode(folder / HEAD_NAME)
            write_model_card(folder, "transformer", self.labels, self.data_config, model=asdict(self.model_config),
                             base_encoder=base_encoder, threshold=self.threshold, **self._shift_entry())
            self._write_training_record(folder)
            return folder
        state = {k: v.detach().to("cpu").contiguous().clone() for k, v in self.model.state_dict().items()}
        if half:
            state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
            bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
            if bad:
                raise ValueError(f"weights overflow float16: {bad[:3]}; save in float32")

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        config = self.model.encoder.config
        config.id2label = self.id2label
        config.label2id = self.label2id
        config.save_pretrained(folder)
        self.tokenizer.save_pretrained(folder)
        save_file(state, str(folder / WEIGHTS_NAME), metadata={"format": "pt"})
        umask_mode(folder / WEIGHTS_NAME)
        write_model_card(folder, "transformer", self.labels, self.data_config, model=asdict(self.model_config),
                         threshold=self.threshold, **self._shift_entry())
        self._write_training_record(folder)
        return folder

    def _shift_entry(self) -> dict:
        """The card's ``prior_shift``: the head bias offsets ``restore_prior`` added after training (one per label),
        which a run going on from this classifier takes off first."""
        return {"prior_shift": [round(float(v), 8) for v in self.prior_shift]} if self.prior_shift else {}

    # -- inference -------------------------------------------------------------------------
    def encode(self, texts: Sequence[str]):
        """Tokenize one batch, padded to its own longest input (never to a fixed 512)."""
        return self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.model_config.max_length,
                              return_tensors="pt")

    def map_batches(self, texts: Sequence[str], batch_size: int, fn, width: int, progress: str | None = None) -> np.ndarray:
        """``fn(model inputs) -> (batch, width)`` over every text in eval mode, without gradients.

        Batches are sorted by length so that padding stays small; rows come back in the caller's order.
        ``progress``: a progress bar with this description (the long passes of training: a probe's features,
        a protocol's feature cache); None, none.
        """
        import torch
        from tqdm.auto import tqdm

        names = ("input_ids", "attention_mask", "token_type_ids")
        order = length_order(texts)
        out = np.zeros((len(texts), width), dtype=np.float32)
        self.model.eval()
        with torch.inference_mode(), tqdm(total=len(texts), desc=progress, unit=" stories",
                                          disable=progress is None) as bar:
            for start in range(0, len(order), max(1, batch_size)):
                idx = order[start:start + batch_size]
                batch = self.encode([texts[i] for i in idx])
                out[idx] = fn({k: batch[k].to(self.device) for k in names if k in batch}).float().cpu().numpy()
                bar.update(len(idx))
        return out

    def head_scores(self, pooled):
        """Probabilities (a torch tensor) from a batch of pooled encoder rows (``model.pool``'s output): what
        :meth:`predict_proba` gives those texts. An ensemble of heads on one frozen encoder pools each batch
        once and hands the rows to every head."""
        import torch

        weight = getattr(self.model.head, "weight", None)  # a method on int8 heads, which take float32 rows
        rows = pooled.to(weight.dtype) if isinstance(weight, torch.Tensor) else pooled.float()
        return torch.softmax(self.model.head(rows).float(), dim=-1)

    def _proba_texts(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        import torch

        if self.onnx is not None:
            return self.map_batches(texts, batch_size, lambda inputs: self.onnx(**inputs), len(self.labels))
        return self.map_batches(texts, batch_size, lambda inputs: torch.softmax(self.model(**inputs).float(), dim=-1),
                                len(self.labels))
