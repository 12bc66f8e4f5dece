"""The Gaussian latent layer shared by the study's VAEs: the sampling layer and the KL term."""

from __future__ import annotations

import torch

from avalib.device import noise_like


def reparameterise(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """z = mean + exp(log-variance / 2) * eps, eps ~ N(0, I): the sampling layer (Kingma &
    Welling's reparameterisation; Zemouri (2020) eq. 2); eps drawn on the CPU."""
    return mean + (0.5 * log_variance).exp() * noise_like(mean)


def gaussian_kl(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """D_kl(N(mean, exp(log_variance)) || N(0, I)) per latent unit (same shape as ``mean``):
    1/2 (mean^2 + variance - log variance - 1) (Kingma & Welling, 2014, appendix B)."""
    return 0.5 * (mean.pow(2) + log_variance.exp() - log_variance - 1)
