"""The one device helper: every component gets its torch device from the config through it."""

from __future__ import annotations

import logging
import re

__all__ = ["resolve_device"]

logger = logging.getLogger(__name__)

_SPEC_RE = re.compile(r"^(auto|cpu|mps|cuda)(?::(\d+))?$")


def check_device_spec(spec) -> tuple[str, str | None]:
    """``(kind, index)`` of a well-formed device spec (without looking at the hardware).

    Raises:
        ValueError: Not one of auto, cpu, cuda, cuda:N, mps.
    """
    text = str(spec).strip().lower() if spec is not None else ""
    match = _SPEC_RE.match(text)
    if not match or (match.group(2) is not None and match.group(1) != "cuda"):
        raise ValueError(f"device {spec!r} is not one of auto, cpu, cuda, cuda:N, mps")
    return match.group(1), match.group(2)


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(spec: str = "auto", log: bool = True):
    """Turn a device name into a ``torch.device``, checking that the device is there.

    Args:
        spec: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
        log: Log the choice (off for an early check whose caller resolves the device again later).

    Returns:
        The ``torch.device`` to use.

    Raises:
        ValueError: The spec is malformed or names a device this machine does not have.
    """
    import torch

    kind, index = check_device_spec(spec)

    if kind == "auto":
        if torch.cuda.is_available():
            device = torch.device("cuda", torch.cuda.current_device())
        elif _mps_available():
            device = torch.device("mps")
        else:
            device = torch.device("cpu")
        if log:
            logger.info("device auto -> %s", _describe(device))
        return device
    if kind == "cpu":
        device = torch.device("cpu")
    elif kind == "mps":
        if not _mps_available():
            raise ValueError("device 'mps' was asked for but MPS (Apple GPU) is not available here; use 'cpu' or 'auto'")
        device = torch.device("mps")
    else:
        if not torch.cuda.is_available():
            raise ValueError(f"device {spec!r} was asked for but CUDA is not available here "
                             "(no GPU or a CPU-only torch build); use 'cpu' or 'auto'")
        count = torch.cuda.device_count()
        n = int(index) if index is not None else torch.cuda.current_device()
        if n >= count:
            raise ValueError(f"device {spec!r} was asked for but only {count} CUDA device(s) exist (cuda:0..cuda:{count - 1})")
        device = torch.device("cuda", n)
    # "cpu" resolves to itself: news only at debug level (it was logged once per model loaded)
    if log:
        logger.log(logging.DEBUG if kind == "cpu" else logging.INFO, "device %s -> %s", spec, _describe(device))
    return device


def _describe(device) -> str:
    import torch

    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


def cpu_info() -> dict:
    """This machine's CPU for benchmark records: model name, vector/matrix flags (AVX*, AMX, SSE4, FMA)
    and logical CPU count. Numbers measured on different CPUs are not comparable."""
    import os
    import platform
    from pathlib import Path

    info = {"model": platform.processor() or "unknown", "flags": [], "logical_cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                info["model"] = value.strip()
            elif key.strip() == "flags":
                info["flags"] = sorted(f for f in value.split() if f.startswith(("avx", "amx", "sse4", "fma")))
                break
    except OSError:
        pass
    return info
