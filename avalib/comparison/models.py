"""The losses of the comparison's VAE and GAN, as plain functions (the trainer takes the steps)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from avalib.latent import gaussian_kl


def vae_loss(images: torch.Tensor, decoded: torch.Tensor, mean: torch.Tensor,
             log_variance: torch.Tensor) -> torch.Tensor:
    """The negative ELBO of a VAE with a Bernoulli decoder (Kingma & Welling, 2014): binary
    cross-entropy summed over pixels plus the Gaussian KL summed over latent units, averaged over
    the batch."""
    reconstruction = F.binary_cross_entropy(decoded, images, reduction="sum") / len(images)
    return reconstruction + gaussian_kl(mean, log_variance).sum(1).mean()


def gan_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The GAN discriminator's loss (Goodfellow et al., 2014): -log D(x) - log(1 - D(G(z)))."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def gan_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss -log D(G(z)) (Goodfellow et al., 2014, section 3)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
