"""The networks of one model of Nguyen et al. (2024) for R runs x C channels, as one tensor
program (``ChannelMLP``), with the random streams every run draws from."""

from __future__ import annotations

import numpy as np
import torch

from avalib.nguyen import rules
from avalib.nguyen.networks import ChannelMLP
from avalib.nguyen.variants import REFERENCE_PROTOCOLS, NguyenConfig, Variant

NETWORKS = ("encoder", "decoder", "decoder_discriminator", "encoder_discriminator")


def stream_seed(seed: int, purpose: str) -> int:
    """The seed of one random stream of the run seeded ``seed``: the latent noise ("noise") or one
    network's initial weights (a name in ``NETWORKS``). The key's leading 0 keeps the streams of
    the runs committed before seeds were named one by one (base seed 0, then the seed)."""
    key = [0, seed, (("noise",) + NETWORKS).index(purpose)]
    return int(np.random.SeedSequence(key).generate_state(1, np.uint64)[0])


class Networks:
    """The networks of one model for R runs x C channels (runs given as (seed index, rate index)
    pairs), and the shared per-run quantities; on ``config.device``, with every random number
    drawn on the CPU (so a CPU run's numbers do not depend on the device switch)."""

    def __init__(self, variant: Variant, config: NguyenConfig, channels: int, pixels: int,
                 runs: list[tuple[int, int]] | None = None):
        runs = runs or [(r, i) for r in range(len(config.seeds)) for i in range(len(config.learning_rates))]
        self.runs, self.channels, self.batch = len(runs), channels, len(runs) * channels
        self.dtype = getattr(torch, config.dtype)
        self.device = torch.device(config.device)
        self.seed_indices = sorted({seed for seed, _ in runs})
        self.run_seed = torch.tensor([self.seed_indices.index(seed) for seed, _ in runs])
        self.noise_generators = [torch.Generator().manual_seed(stream_seed(config.seeds[r], "noise"))
                                 for r in self.seed_indices]
        rates = torch.tensor([config.learning_rates[i] for _, i in runs], dtype=self.dtype)
        self.learning_rate = rates.repeat_interleave(channels).to(self.device)  # (B,)
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
        hidden_size times), or U(+-1/sqrt(fan_in)) drawn once per seed from that seed's stream
        for this network and shared by every learning rate of the seed."""
        if config.protocol in REFERENCE_PROTOCOLS:
            width, multiplicity = (1, config.hidden_size) if config.true_width else (config.hidden_size, 1)
            return ChannelMLP(self.batch, inputs, width, outputs, init="zeros", dtype=self.dtype,
                              multiplicity=multiplicity).to(self.device)
        per_seed = [ChannelMLP(self.channels, inputs, config.hidden_size, outputs, init="uniform",
                                 dtype=self.dtype, generator=torch.Generator().manual_seed(
                                     stream_seed(config.seeds[seed], name))).parameters()
                      for seed in self.seed_indices]
        parameters = [torch.stack(tensors)[self.run_seed].flatten(0, 1).contiguous()
                      for tensors in zip(*per_seed)]
        return ChannelMLP.from_parameters([p.to(self.device) for p in parameters]).requires_grad_()

    def all(self) -> list[ChannelMLP]:
        return [n for n in (self.encoder, self.decoder, self.decoder_discriminator,
                            self.encoder_discriminator) if n is not None]

    def noise(self, samples: int | None = None) -> torch.Tensor:
        """r ~ N(0, I) from each run's seed stream, one draw per latent coordinate shared by
        the channels: (B, [S,] L)."""
        shape = (self.latent,) if samples is None else (samples, self.latent)
        draws = torch.stack([torch.randn(shape, generator=g, dtype=self.dtype)
                             for g in self.noise_generators])
        return draws[self.run_seed].repeat_interleave(self.channels, dim=0).to(self.device)

    def per_run(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.reshape(self.runs, -1)

    def split(self, encoded: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return encoded[..., :self.latent], encoded[..., self.latent:]
