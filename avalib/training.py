"""Small pieces every trainer shares: shuffled minibatches, a NaN guard, a progress bar."""

from __future__ import annotations

import os
from typing import Iterator

import torch
from tqdm import tqdm


def minibatches(count: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Index tensors of one epoch over ``count`` items in a seeded random order (last batch
    dropped when smaller than half a batch, so batch norm never sees a batch of one)."""
    order = torch.randperm(count, generator=generator)
    for start in range(0, count, batch_size):
        index = order[start:start + batch_size]
        if len(index) >= max(2, batch_size // 2) or start == 0:
            yield index


def check_finite(value: torch.Tensor, what: str) -> torch.Tensor:
    """Raise instead of training on: a NaN or infinite loss is an error, never a silent result."""
    if not torch.isfinite(value).all():
        raise FloatingPointError(f"{what} is not finite ({value.detach().flatten()[:4].tolist()}); "
                                 f"lower the learning rate or check the inputs")
    return value


def progress(total: int, description: str) -> tqdm:
    """A text progress bar on stderr (off when ``AVALIB_QUIET`` is set, e.g. in tests)."""
    return tqdm(total=total, desc=description, leave=False, mininterval=2.0,
                disable=bool(os.environ.get("AVALIB_QUIET")))


@torch.no_grad()
def in_batches(function, images: torch.Tensor, batch_size: int = 500) -> list:
    """``function`` applied to ``images`` in chunks (no gradients), outputs concatenated; tuples of
    outputs are concatenated element-wise."""
    outputs = [function(images[start:start + batch_size]) for start in range(0, len(images), batch_size)]
    if isinstance(outputs[0], tuple):
        return [torch.cat(parts) for parts in zip(*outputs)]
    return [torch.cat(outputs)]
