"""Where a run trains: the ``device`` parameter of every notebook (``cpu``, ``cuda``, ``cuda:N``,
``mps``). Networks and data move there; every random stream is still drawn on the CPU and moved,
so a CPU run's numbers never depend on the switch (a GPU run's last bits may differ: other
kernels)."""

from __future__ import annotations

import re

import torch

DEVICE_FORMS = "cpu, cuda, cuda:N, mps"


def check_device(device: str) -> str:
    """``device`` if it is one of ``DEVICE_FORMS``, else ValueError naming what is allowed."""
    if not isinstance(device, str) or not re.fullmatch(r"cpu|mps|cuda(:\d+)?", device):
        raise ValueError(f"device={device!r} is unknown; allowed: {DEVICE_FORMS}")
    return device


def available(device: str) -> str:
    """``device`` if this machine has it, else ValueError saying what it has."""
    check_device(device)
    if device.startswith("cuda"):
        index = int(device.partition(":")[2] or 0)
        if not torch.cuda.is_available() or index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r}: this machine has {torch.cuda.device_count()} CUDA "
                             f"device(s) (torch {torch.__version__}); use device='cpu'")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={device!r}: MPS is not available here; use device='cpu'")
    return device


def describe(device: str) -> str:
    """The device in words for provenance, e.g. "cpu" or "cuda:0 (NVIDIA H200)"."""
    if device.startswith("cuda") and torch.cuda.is_available():
        index = int(device.partition(":")[2] or 0)
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return device


def noise_like(tensor: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """N(0, I) of ``tensor``'s shape and dtype drawn on the CPU (the global stream, or
    ``generator``), moved to ``tensor``'s device; on the CPU it is ``torch.randn_like``."""
    noise = torch.randn(tensor.shape, dtype=tensor.dtype, generator=generator)
    return noise if tensor.device.type == "cpu" else noise.to(tensor.device)
