"""What every trainer of the study shares: shuffled minibatches and the loop over them, the
per-network update (each network's gradient from its own loss only), the NaN guard, progress."""

from __future__ import annotations

import os
import sys
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


def endless_minibatches(count: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """``minibatches`` epoch after epoch, for ever; each epoch's order is drawn when its first
    batch is asked for, so taking k batches draws exactly what a k-batch run draws."""
    while True:
        yield from minibatches(count, batch_size, generator)


def batches_per_epoch(count: int, batch_size: int) -> int:
    """How many mini-batches ``minibatches`` yields for ``count`` items."""
    full, rest = divmod(count, batch_size)
    return full + (1 if rest and (rest >= max(2, batch_size // 2) or full == 0) else 0)


def batches(count: int, batch_size: int, generator: torch.Generator, description: str, *,
            epochs: int | None = None, steps: int | None = None) -> Iterator[tuple[int, torch.Tensor]]:
    """(epoch, batch index) over shuffled epochs of ``count`` items: ``epochs`` whole epochs, or
    exactly ``steps`` mini-batches over as many epochs as that takes; with a progress bar."""
    if (epochs is None) == (steps is None):
        raise ValueError("give exactly one of epochs= and steps=")
    per_epoch = batches_per_epoch(count, batch_size)
    total = epochs * per_epoch if steps is None else steps
    done, epoch = 0, 0
    with progress(total, description) as bar:
        while done < total:
            for index in minibatches(count, batch_size, generator):
                if done >= total:
                    break
                yield epoch, index
                done += 1
                bar.update()
            epoch += 1


def update(optimiser: torch.optim.Optimizer, loss: torch.Tensor, parameters: list) -> None:
    """One optimiser step on the gradient of ``loss`` with respect to ``parameters`` only
    (``torch.autograd.grad``: nothing reaches another network's ``.grad``)."""
    apply(optimiser, parameters, torch.autograd.grad(loss, parameters))


def apply(optimiser: torch.optim.Optimizer, parameters: list, gradients) -> None:
    """One optimiser step on given ``gradients`` (one per parameter, in order), e.g. injected
    output errors propagated by autograd, then nothing left in ``.grad``."""
    for parameter, gradient in zip(parameters, gradients, strict=True):
        parameter.grad = gradient
    optimiser.step()
    optimiser.zero_grad(set_to_none=True)


def check_finite(value: torch.Tensor, what: str) -> torch.Tensor:
    """Raise instead of training on: a NaN or infinite loss is an error, never a silent result."""
    if not torch.isfinite(value).all():
        raise FloatingPointError(f"{what} is not finite ({value.detach().flatten()[:4].tolist()}); "
                                 f"lower the learning rate or check the inputs")
    return value


_STREAMS: dict[str, object] = {}
PROGRESS_VARIABLE = "AVALIB_PROGRESS"


def _progress_stream():
    """Where progress bars go: stderr in a terminal. Inside a notebook kernel stderr *is* the
    notebook, so bars go only to the file that ``AVALIB_PROGRESS`` names (``avalib.runs`` names
    one and copies it to its own stdout, ``avalib.follow``), else nowhere."""
    target = os.environ.get(PROGRESS_VARIABLE)
    if target:
        if target not in _STREAMS:
            try:
                _STREAMS[target] = open(target, "a")   # every Dask worker appends
            except OSError:
                _STREAMS[target] = None
        return _STREAMS[target]
    return None if "ipykernel" in sys.modules else sys.stderr


def log(message: str) -> None:
    """One line of terminal progress (a cache hit, a finished unit of work), where the bars go."""
    stream = _progress_stream()
    if stream is not None and not os.environ.get("AVALIB_QUIET"):
        tqdm.write(message, file=stream)
        stream.flush()


def progress(total: int, description: str, enabled: bool = True) -> tqdm:
    """A text progress bar on the terminal (never in a notebook's outputs; off when
    ``AVALIB_QUIET`` is set, e.g. in tests)."""
    stream = _progress_stream()
    return tqdm(total=total, desc=description, leave=False, mininterval=2.0, file=stream,
                disable=not enabled or stream is None or bool(os.environ.get("AVALIB_QUIET")))


@torch.no_grad()
def in_batches(function, images: torch.Tensor, batch_size: int = 500, device=None) -> list:
    """``function`` applied to ``images`` in chunks (no gradients), outputs concatenated; tuples of
    outputs are concatenated element-wise. With ``device`` each chunk is moved there and its
    outputs back to the CPU."""
    def call(batch):
        if device is None:
            return function(batch)
        output = function(batch.to(device))
        return tuple(o.cpu() for o in output) if isinstance(output, tuple) else output.cpu()
    outputs = [call(images[start:start + batch_size]) for start in range(0, len(images), batch_size)]
    if isinstance(outputs[0], tuple):
        return [torch.cat(parts) for parts in zip(*outputs)]
    return [torch.cat(outputs)]
