"""AVA1..AVA5, VAE and GAN of Nguyen, Abdalla & Amer (2024) as configurations of one trainer.

The models are ``avalib.nguyen.variants``: four switches (decoder discriminator d, lean decoder,
encoder discriminator D, lean encoder) plus "has encoder" (the GAN has none). Four protocols:

- ``reference``: the authors' published build as ``../shared/specs/nguyen_reference_implementation.md``
  reads it: zero initialisation, the code's per-layer update order, self-push terms from the
  generator's own outputs with the code's a'(v) = 0.5 a(v) (1 - a(v)) of the output value (the
  logistic applied twice), the dropped "- 1/2 I", the encoder-state overwrite, and BM = mean over
  10 random generations per test image of |d (1 - d)|, drawn from the encoder's last state.
- ``reference_value_derivative``: the same code with a'(v) = 0.5 v (1 - v) in the push and
  discriminator terms - a hypothesis about the unpublished December-2023 build that wrote the
  paper's log, not what the public code computes.
- ``paper``: the update rules (5)-(7), (10), (13), (14), (16) as printed, with the real
  discriminator outputs, the full KL gradient, random initialisation; each rule is an output error
  injected into its own network and propagated by autograd. BM as eq. 17: the test image is
  encoded, and the best (largest-BM) of 10 generations counts (our reading of "the best image").
- ``exact``: the true gradients of the stated objectives (losses 3 / 12, balance functions
  4 / 9 / 11 / 15), by autograd, with the reparameterised z so the encoder learns from
  reconstruction; the GAN plays eq. 2. BM as in ``paper``.

Learning rates and seeds train together: every weight carries a leading run dimension, in
chunks of ``run_chunk`` runs. Seed k of every model and learning rate draws from the same seed
streams (one for the latent noise, one per network for its initial weights), so runs are paired
across models and results do not depend on the chunking. The reference protocols train each
network at its true width (see ``ChannelMLP``'s multiplicity).
"""

from __future__ import annotations

import math

import torch

from avalib import kernels

from avalib.nguyen.balance import balance_metric
from avalib.nguyen.model import Networks
from avalib.nguyen.steps import STEPS
from avalib.nguyen.variants import REFERENCE_PROTOCOLS, VARIANTS, NguyenConfig, NguyenResult, Variant
from avalib.training import progress


@torch.no_grad()
def _evaluate(nets: Networks, variant: Variant, config: NguyenConfig,
              test_images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """BM per run (R,) and two sample images per run, as the protocol defines them. The decoder
    and BM run one run (C channels) at a time, so that the generated images stay in the processor's cache memory."""
    reference = config.protocol in REFERENCE_PROTOCOLS
    channels, generations = nets.channels, config.generations_per_image
    per_image, samples = [], []
    for index, target in enumerate(test_images):
        if not variant.has_encoder:
            code = nets.noise(generations)
        else:
            encoded = None if reference else nets.encoder.forward(target.repeat(nets.runs, 1))[1]
            mu, sigma = nets.state if reference else nets.split(encoded)
            code = mu.unsqueeze(1) + kernels.sqrt(sigma).unsqueeze(1) * nets.noise(generations)
        hidden = nets.decoder.hidden(code)                                     # (B, K, H)
        scores = torch.empty(nets.runs, generations, dtype=nets.dtype, device=nets.device)
        first = []
        for run in range(nets.runs):
            rows = slice(run * channels, (run + 1) * channels)
            generated = nets.decoder.output(hidden[rows], rows).transpose(0, 1)  # (K, C, P)
            scores[run] = balance_metric(generated, target, absolute=reference)
            first.append(generated[0])
        per_image.append(scores.mean(1) if reference else scores.max(1).values)
        if index in (0, len(test_images) // 2):
            samples.append(torch.stack(first))
    return torch.stack(per_image, 1).mean(1), torch.stack(samples, 1)


def _train_runs(variant: Variant, flat: torch.Tensor, config: NguyenConfig,
                runs: list[tuple[int, int]]):
    """Train the given runs as one tensor program: (BM (R,), diverged-at step (R,), samples)."""
    count, channels, pixels = flat.shape
    nets = Networks(variant, config, channels, pixels, runs)
    flat = flat.to(nets.dtype).to(nets.device)
    diverged_at = torch.full((nets.runs,), -1, dtype=torch.long, device=nets.device)
    step_function = STEPS[config.protocol]
    steps = config.passes * count
    with torch.set_grad_enabled(config.protocol not in REFERENCE_PROTOCOLS):
        for step in range(steps):
            image = flat[step % count].repeat(nets.runs, 1)                      # (B, P)
            decoded = step_function(nets, variant, image)
            finite = torch.isfinite(nets.per_run(decoded.detach())).all(1)
            if nets.state is not None:
                finite &= torch.isfinite(nets.per_run(torch.cat(nets.state, -1))).all(1)
            diverged_at[(~finite) & (diverged_at < 0)] = step
    metric, samples = _evaluate(nets, variant, config, flat)
    diverged_at[(~torch.isfinite(metric)) & (diverged_at < 0)] = steps
    metric = metric.masked_fill(diverged_at >= 0, math.nan)
    return metric.cpu(), diverged_at.cpu(), samples.float().cpu()


def train(variant_name: str, images: torch.Tensor, config: NguyenConfig,
          show_progress: bool = True) -> NguyenResult:
    """Train ``variant_name`` at every learning rate x seed of ``config`` on ``images``
    (N, C, H, W) in [0, 1] (training set = test set, as the paper), one per-sample SGD step per
    image and pass, in file order; return BM per run and whether it diverged."""
    if variant_name not in VARIANTS:
        raise ValueError(f"unknown model {variant_name!r}; valid: {', '.join(VARIANTS)}")
    return NguyenResult(variant_name, config, **_train_all(variant_name, images, config, show_progress))


def _train_all(variant_name: str, images: torch.Tensor, config: NguyenConfig,
               show_progress: bool) -> dict:
    count, channels, height, width = images.shape
    flat = images.reshape(count, channels, height * width)
    runs = [(r, i) for r in range(len(config.seeds)) for i in range(len(config.learning_rates))]
    size = config.run_chunk or len(runs)
    parts = []
    with progress(len(runs), f"{variant_name} {config.protocol} (runs)", enabled=show_progress) as bar:
        for start in range(0, len(runs), size):
            parts.append(_train_runs(VARIANTS[variant_name], flat, config, runs[start:start + size]))
            bar.update(len(runs[start:start + size]))
    metric, diverged_at, samples = (torch.cat(part) for part in zip(*parts))
    shape = (len(config.seeds), len(config.learning_rates))
    return {"balance_metric": metric.reshape(shape), "diverged_at_step": diverged_at.reshape(shape),
            "samples": samples.reshape(*shape, 2, channels, height, width)}
