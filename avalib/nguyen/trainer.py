"""AVA1..AVA5, VAE and GAN of Nguyen, Abdalla & Amer (2024) as configurations of one trainer.

Seven models are four switches (decoder discriminator d, lean decoder, encoder discriminator D,
lean encoder) plus "has encoder" (the GAN has none). Four protocols:

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

Learning rates and repeats train together: every weight carries a leading run dimension, in
chunks of ``run_chunk`` runs. Repeat k of every model and learning rate draws from the same seed
streams (one for the latent noise, one per network for its initial weights), so runs are paired
across models and results do not depend on the chunking. The reference protocols train each
network at its true width (see ``ChannelMLP``'s multiplicity).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass

import numpy as np
import torch

from avalib.cache import cached
from avalib.nguyen import rules
from avalib.nguyen.balance import balance_metric
from avalib.nguyen.networks import ChannelMLP
from avalib.nguyen.steps import STEPS
from avalib.training import progress

PAPER_LEARNING_RATES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1,
                        0.09, 0.08, 0.07, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01)
REFERENCE_PROTOCOLS = tuple(rules.VALUE_DERIVATIVES)          # reference, reference_value_derivative
PROTOCOLS = REFERENCE_PROTOCOLS + ("paper", "exact")
NETWORKS = ("encoder", "decoder", "decoder_discriminator", "encoder_discriminator")


@dataclass(frozen=True)
class Variant:
    """A model as switches (paper section 3)."""

    name: str
    decoder_discriminator: bool
    lean_decoder: bool
    encoder_discriminator: bool
    lean_encoder: bool
    has_encoder: bool = True


VARIANTS = {v.name: v for v in [
    Variant("AVA1", True, False, False, False),
    Variant("AVA2", True, True, False, False),
    Variant("AVA3", False, False, True, False),
    Variant("AVA4", False, False, True, True),
    Variant("AVA5", True, True, True, True),
    Variant("VAE", False, False, False, False),
    Variant("GAN", True, False, False, False, has_encoder=False),
]}


def variant_from_switches(decoder_discriminator: bool, lean_decoder: bool,
                          encoder_discriminator: bool, lean_encoder: bool,
                          has_encoder: bool = True) -> Variant:
    """The model that a combination of switches is; ``ValueError`` for one the paper has not."""
    switches = (decoder_discriminator, lean_decoder, encoder_discriminator, lean_encoder, has_encoder)
    for variant in VARIANTS.values():
        if dataclasses.astuple(variant)[1:] == switches:
            return variant
    raise ValueError(f"no model of the paper has switches {switches}")


@dataclass(frozen=True)
class NguyenConfig:
    """Trainer settings; the defaults are the paper's (section 3) and the authors' code."""

    protocol: str = "reference"
    learning_rates: tuple[float, ...] = PAPER_LEARNING_RATES
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)   # one independent run of every learning rate per seed
    latent_size: int = 10
    hidden_size: int = 100
    passes: int = 1                  # passes over the images (the paper: one)
    generations_per_image: int = 10
    dtype: str = "float64"           # the authors' Java uses double
    run_chunk: int = 0               # runs per tensor program (0: all); results do not depend on it
    true_width: bool = True          # reference protocols: width-1 networks counted hidden_size times

    def __post_init__(self):
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol={self.protocol!r} is unknown; allowed: {', '.join(PROTOCOLS)}")
        if not self.learning_rates or min(self.learning_rates) <= 0:
            raise ValueError(f"learning_rates={self.learning_rates!r}: must be a non-empty tuple "
                             "of positive numbers")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds) or min(self.seeds) < 0:
            raise ValueError(f"seeds={self.seeds!r}: must be a non-empty tuple of distinct integers >= 0")
        for name in ("passes", "generations_per_image", "latent_size", "hidden_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be >= 1")
        if self.run_chunk < 0:
            raise ValueError(f"run_chunk={self.run_chunk!r}: must be >= 0 (0 = all runs at once)")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype={self.dtype!r}: allowed: float32, float64")

    @property
    def repeats(self) -> int:
        """Independent runs of every learning rate (repeat k is seeded ``seeds[k]``)."""
        return len(self.seeds)


@dataclass
class NguyenResult:
    """``balance_metric`` (repeats, rates): NaN where the run diverged; ``diverged_at_step``
    (repeats, rates): the first step with a non-finite value, -1 if none; ``samples``
    (repeats, rates, 2, C, H, W): the first generation for test images 0 and N // 2."""

    variant: str
    config: NguyenConfig
    balance_metric: torch.Tensor
    diverged_at_step: torch.Tensor
    samples: torch.Tensor


def stream_seed(seed: int, purpose: str) -> int:
    """The seed of one random stream of the run seeded ``seed``: the latent noise ("noise") or one
    network's initial weights (a name in ``NETWORKS``). The key's leading 0 keeps the streams of
    the runs committed before seeds were named one by one (base seed 0, repeat ``seed``)."""
    key = [0, seed, (("noise",) + NETWORKS).index(purpose)]
    return int(np.random.SeedSequence(key).generate_state(1, np.uint64)[0])


class Networks:
    """The networks of one model for R runs x C channels (runs given as (repeat, rate index)
    pairs), and the shared per-run quantities."""

    def __init__(self, variant: Variant, config: NguyenConfig, channels: int, pixels: int,
                 runs: list[tuple[int, int]] | None = None):
        runs = runs or [(r, i) for r in range(config.repeats) for i in range(len(config.learning_rates))]
        self.runs, self.channels, self.batch = len(runs), channels, len(runs) * channels
        self.dtype = getattr(torch, config.dtype)
        self.repeats = sorted({repeat for repeat, _ in runs})
        self.run_repeat = torch.tensor([self.repeats.index(repeat) for repeat, _ in runs])
        self.noise_generators = [torch.Generator().manual_seed(stream_seed(config.seeds[r], "noise"))
                                 for r in self.repeats]
        rates = torch.tensor([config.learning_rates[i] for _, i in runs], dtype=self.dtype)
        self.learning_rate = rates.repeat_interleave(channels)                 # (B,)
        self.latent = latent = config.latent_size
        shapes = {"encoder": (pixels, 2 * latent), "decoder": (latent, pixels),
                  "decoder_discriminator": (pixels, 1), "encoder_discriminator": (latent, 1)}
        wanted = {"encoder": variant.has_encoder, "decoder": True,
                  "decoder_discriminator": variant.decoder_discriminator,
                  "encoder_discriminator": variant.encoder_discriminator}
        for name in NETWORKS:
            setattr(self, name, self._make(name, *shapes[name], config) if wanted[name] else None)
        self.state = None          # the encoder's current (mu, Sigma), for reference generation
        self.value_derivative = rules.VALUE_DERIVATIVES.get(config.protocol)   # reference readings

    def _make(self, name: str, inputs: int, outputs: int, config: NguyenConfig) -> ChannelMLP:
        """Zero weights (reference protocols; at true width a width-1 network counted
        hidden_size times), or U(+-1/sqrt(fan_in)) drawn once per repeat from that repeat's stream
        for this network and shared by every learning rate of the repeat."""
        if config.protocol in REFERENCE_PROTOCOLS:
            width, multiplicity = (1, config.hidden_size) if config.true_width else (config.hidden_size, 1)
            return ChannelMLP(self.batch, inputs, width, outputs, init="zeros", dtype=self.dtype,
                              multiplicity=multiplicity)
        per_repeat = [ChannelMLP(self.channels, inputs, config.hidden_size, outputs, init="uniform",
                                 dtype=self.dtype, generator=torch.Generator().manual_seed(
                                     stream_seed(config.seeds[repeat], name))).parameters()
                      for repeat in self.repeats]
        parameters = [torch.stack(tensors)[self.run_repeat].flatten(0, 1).contiguous()
                      for tensors in zip(*per_repeat)]
        return ChannelMLP.from_parameters(parameters).requires_grad_()

    def all(self) -> list[ChannelMLP]:
        return [n for n in (self.encoder, self.decoder, self.decoder_discriminator,
                            self.encoder_discriminator) if n is not None]

    def noise(self, samples: int | None = None) -> torch.Tensor:
        """r ~ N(0, I) from each run's repeat stream, one draw per latent coordinate shared by
        the channels: (B, [S,] L)."""
        shape = (self.latent,) if samples is None else (samples, self.latent)
        draws = torch.stack([torch.randn(shape, generator=g, dtype=self.dtype)
                             for g in self.noise_generators])
        return draws[self.run_repeat].repeat_interleave(self.channels, dim=0)

    def per_run(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.reshape(self.runs, -1)

    def split(self, encoded: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return encoded[..., :self.latent], encoded[..., self.latent:]


@torch.no_grad()
def _evaluate(nets: Networks, variant: Variant, config: NguyenConfig,
              test_images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """BM per run (R,) and two sample images per run, as the protocol defines them. The decoder
    and BM run one run (C channels) at a time, so that the generated images stay in cache."""
    reference = config.protocol in REFERENCE_PROTOCOLS
    channels, generations = nets.channels, config.generations_per_image
    per_image, samples = [], []
    for index, target in enumerate(test_images):
        if not variant.has_encoder:
            code = nets.noise(generations)
        else:
            encoded = None if reference else nets.encoder.forward(target.repeat(nets.runs, 1))[1]
            mu, sigma = nets.state if reference else nets.split(encoded)
            code = mu.unsqueeze(1) + sigma.sqrt().unsqueeze(1) * nets.noise(generations)
        hidden = nets.decoder.hidden(code)                                     # (B, K, H)
        scores = torch.empty(nets.runs, generations, dtype=nets.dtype)
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
    flat = flat.to(nets.dtype)
    diverged_at = torch.full((nets.runs,), -1, dtype=torch.long)
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
    return metric.masked_fill(diverged_at >= 0, math.nan), diverged_at, samples.float()


# The modules whose code decides a cached run (part of its cache key).
TRAINING_CODE = ("avalib.nguyen.trainer", "avalib.nguyen.steps", "avalib.nguyen.rules",
                 "avalib.nguyen.networks", "avalib.nguyen.balance")


def train(variant_name: str, images: torch.Tensor, config: NguyenConfig,
          show_progress: bool = True, use_cache: bool = False) -> NguyenResult:
    """Train ``variant_name`` at every learning rate x repeat of ``config`` on ``images``
    (N, C, H, W) in [0, 1] (training set = test set, as the paper), one per-sample SGD step per
    image and pass, in file order; return BM per run and whether it diverged. ``use_cache``: one
    model x protocol is a cached unit of work (keyed by the images' bytes too), so an interrupted
    notebook resumes."""
    if variant_name not in VARIANTS:
        raise ValueError(f"unknown model {variant_name!r}; valid: {', '.join(VARIANTS)}")
    key = {"variant": variant_name, "config": dataclasses.asdict(config),
           "images": hashlib.sha256(images.contiguous().numpy().tobytes()).hexdigest(),
           "shape": list(images.shape)}
    state = cached("nguyen-runs", key, lambda: _train_all(variant_name, images, config, show_progress),
                   TRAINING_CODE, use_cache)
    return NguyenResult(variant_name, config, **state)


def _train_all(variant_name: str, images: torch.Tensor, config: NguyenConfig,
               show_progress: bool) -> dict:
    count, channels, height, width = images.shape
    flat = images.reshape(count, channels, height * width)
    runs = [(r, i) for r in range(config.repeats) for i in range(len(config.learning_rates))]
    size = config.run_chunk or len(runs)
    parts = []
    with progress(len(runs), f"{variant_name} {config.protocol} (runs)", enabled=show_progress) as bar:
        for start in range(0, len(runs), size):
            parts.append(_train_runs(VARIANTS[variant_name], flat, config, runs[start:start + size]))
            bar.update(len(runs[start:start + size]))
    metric, diverged_at, samples = (torch.cat(part) for part in zip(*parts))
    shape = (config.repeats, len(config.learning_rates))
    return {"balance_metric": metric.reshape(shape), "diverged_at_step": diverged_at.reshape(shape),
            "samples": samples.reshape(*shape, 2, channels, height, width)}
