"""The models and protocols of Nguyen, Abdalla & Amer (2024) as data, shared by the per-sample
trainer of notebook 01 (``avalib.nguyen.trainer``) and the mini-batch comparison of notebook 04
(``avalib.comparison.ava``).

Seven models are four switches (decoder discriminator d, lean decoder, encoder discriminator D,
lean encoder) plus "has encoder" (the GAN has none). The protocols are described in
``avalib.nguyen.trainer``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from avalib.device import check_device

PAPER_LEARNING_RATES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1,
                        0.09, 0.08, 0.07, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01)
# The authors' code under its two readings of a' (``rules.VALUE_DERIVATIVES``), then the paper's
# printed rules and the true gradients of the stated objectives.
REFERENCE_PROTOCOLS = ("reference", "reference_value_derivative")
PROTOCOLS = REFERENCE_PROTOCOLS + ("paper", "exact")
# The protocols that train by autograd and so run on the comparison's networks too.
GRADIENT_PROTOCOLS = ("exact", "paper")


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
    device: str = "cpu"              # where the networks train (random streams stay on the CPU)

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
        check_device(self.device)


@dataclass
class NguyenResult:
    """``balance_metric`` (seeds, rates): NaN where the run diverged; ``diverged_at_step``
    (seeds, rates): the first step with a non-finite value, -1 if none; ``samples``
    (seeds, rates, 2, C, H, W): the first generation for test images 0 and N // 2."""

    variant: str
    config: NguyenConfig
    balance_metric: torch.Tensor
    diverged_at_step: torch.Tensor
    samples: torch.Tensor
