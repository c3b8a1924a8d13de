"""The training loop's ``accelerate.Accelerator``: device, processes and mixed precision in one place.

A plain ``nlp-wire train`` is one process on the config's device (``auto | cpu | cuda | cuda:N | mps``,
through :func:`nlp_wire.device.resolve_device`). Under ``accelerate launch`` (or ``torchrun``) the
launcher decides: each process takes the device the launcher gives it (its local GPU, or the CPU with
the gloo backend on a machine without GPUs), and the log says that the config's device is not used.
"""

from __future__ import annotations

import logging
import os

__all__ = ["launched", "is_main_process", "make_accelerator", "device_spec"]

logger = logging.getLogger(__name__)


def launched() -> bool:
    """Whether this process was started by ``accelerate launch`` or ``torchrun`` (the launcher places it)."""
    return ("LOCAL_RANK" in os.environ or int(os.environ.get("WORLD_SIZE", "1")) > 1
            or "ACCELERATE_MIXED_PRECISION" in os.environ)  # set by every ``accelerate launch``, even of one process


def is_main_process() -> bool:
    """Whether this is the process that writes files (rank 0, or the only process)."""
    return int(os.environ.get("RANK", "0")) == 0


def device_spec(device) -> str:
    """A ``torch.device`` as the device helper spells it (``cpu:0`` -> ``cpu``; ``cuda`` -> ``cuda:N``)."""
    import torch

    if device.type == "cuda":
        return f"cuda:{device.index if device.index is not None else torch.cuda.current_device()}"
    return device.type


def _has_gpu() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return torch.cuda.is_available() or bool(mps is not None and mps.is_available())


def make_accelerator(config_device: str, mixed_precision: bool, grad_accum: int):
    """The ``Accelerator`` for one training run, and the device spec the model goes to.

    Args:
        config_device: The config's ``device``; used unless a launcher placed this process.
        mixed_precision: The config's ``training.mixed_precision``: ``True``, bf16 (or fp16 where bf16 is
            missing) autocast on CUDA and float32 elsewhere; ``"bf16"``, bfloat16 autocast on CUDA and the
            CPU (not on MPS). A launcher's explicit ``--mixed_precision`` wins.
        grad_accum: Batches per optimizer step. Accumulation runs across epoch ends, as the step count
            of the config assumes.

    Returns:
        ``(accelerator, device spec)``.

    Raises:
        ValueError: The config's device is absent here, or a launcher started several processes but
            accelerate did not join them into one distributed run.
    """
    import torch
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState
    from accelerate.utils import GradientAccumulationPlugin

    from ..device import resolve_device

    plugin = GradientAccumulationPlugin(num_steps=grad_accum, sync_with_dataloader=False)
    if launched():
        cpu = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not _has_gpu()  # CPU-only node: gloo processes
        env_precision = os.environ.get("ACCELERATE_MIXED_PRECISION", "no")
        precision = (None if env_precision != "no"
                     else _precision(mixed_precision, "cuda" if torch.cuda.is_available() and not cpu else "cpu"))
        accelerator = Accelerator(cpu=cpu, mixed_precision=precision, gradient_accumulation_plugin=plugin)
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if accelerator.num_processes != world:
            raise ValueError(f"the launcher started {world} processes but accelerate set up "
                             f"{accelerator.num_processes}; on CPUs launch with ACCELERATE_USE_CPU=1")
        spec = device_spec(accelerator.device)
        logger.info("launched by accelerate: process %d of %d (%s), device %s from the launcher; the config's "
                    "device %r is not used; mixed precision %s", accelerator.process_index, accelerator.num_processes,
                    accelerator.distributed_type.value, spec, config_device, accelerator.mixed_precision)
        return accelerator, spec
    device = resolve_device(config_device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    elif mixed_precision is True:  # a GPU recipe on a machine without one: hours of float32 on the CPU
        logger.warning("mixed_precision is set for a CUDA GPU, but this run trains on %s in float32 (device %r%s); a "
                       "CPU recipe such as minilm_cpu.yaml is sized for this", device, config_device,
                       ": no GPU found" if config_device == "auto" else "")
    # accelerate keeps one process-wide state; a plain run may train several models in turn (tests,
    # notebooks, cross-validation) on different devices, so each run starts from a fresh state.
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()
    accelerator = Accelerator(cpu=device.type == "cpu", mixed_precision=_precision(mixed_precision, device.type),
                              gradient_accumulation_plugin=plugin)
    if accelerator.device.type != device.type:
        raise ValueError(f"accelerate placed this run on {accelerator.device}, not the configured {device}")
    return accelerator, device_spec(device)


def _precision(setting: bool | str, device_type: str) -> str:
    """accelerate's ``mixed_precision`` for the config's setting on this device type."""
    import torch

    if setting == "bf16":
        if device_type == "cuda" and not torch.cuda.is_bf16_supported():
            raise ValueError("training.mixed_precision bf16: this GPU has no bfloat16; use true (fp16) or false")
        if device_type == "cpu":
            from .transformer import _cpu_has_bfloat16

            if not _cpu_has_bfloat16():
                logger.warning("training.mixed_precision bf16 on a CPU without bfloat16 matrix instructions (AMX or "
                               "AVX512-BF16): steps are slower than in float32 here; set it to false")
            return "bf16"
        if device_type != "cuda":
            logger.warning("training.mixed_precision bf16 is for CUDA and CPUs; this run trains on %s in float32",
                           device_type)
            return "no"
        return "bf16"
    if not (setting and device_type == "cuda"):
        return "no"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
