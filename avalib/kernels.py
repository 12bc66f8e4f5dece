"""The two CPU kernels of the study whose bits depend on the CPU even under portable numerics,
replaced by ones built from correctly rounded instructions only.

MKL's vector square root (``vsSqrt``/``vdSqrt``), which ``torch.sqrt`` calls on a contiguous CPU
tensor, is not correctly rounded on MKL's ``COMPATIBLE`` branch (16,658 of 100,003 float32 roots
differ from the correctly rounded ones on an Intel Xeon) and its bits change under qemu's exact
software emulation of the same instructions: it leans on an instruction whose result the CPU model
decides. Adam's for-loop and foreach steps take that root. Found by running every kernel the
trainers use natively and under qemu user-mode emulation of an AMD EPYC (``tests/test_emulated_cpu.py``):
these were the only ones whose bits differ.

- ``sqrt``: 1 / rsqrt(x), ATen's AVX2 kernels (the IEEE square root and two divisions; within
  about 1.5 units in the last place), with d sqrt(x)/dx = 1 / (2 sqrt(x)) as torch's own backward;
- ``adam``: ``torch.optim.Adam`` with ``fused=True``, ATen's vectorised kernel (IEEE root).
"""

from __future__ import annotations

import torch


class _Sqrt(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        root = torch.rsqrt(x).reciprocal()
        ctx.save_for_backward(root)
        return root

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (root,) = ctx.saved_tensors
        return grad / (2 * root)


def sqrt(x: torch.Tensor) -> torch.Tensor:
    """The element-wise square root of ``x`` (differentiable), the same bits on every CPU."""
    return _Sqrt.apply(x)


def adam(parameters, lr: float, **options) -> torch.optim.Adam:
    """Adam (Kingma & Ba, 2015) over ``parameters`` through its fused kernel (options as
    ``torch.optim.Adam``'s)."""
    return torch.optim.Adam(parameters, lr=lr, fused=True, **options)
