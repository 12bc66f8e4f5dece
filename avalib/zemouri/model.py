"""The model of Zemouri (2020): its four networks and the losses it computes (eqs. 4, 6-11).
The trainer (``avalib.zemouri.trainer``) takes the steps; the model only says what each
network's loss is, from shapes alone (no dataset needed to build it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from avalib.latent import gaussian_kl, reparameterise
from avalib.zemouri.networks import (ZemouriClassifier, ZemouriDecoder, ZemouriDiscriminator,
                                     ZemouriEncoder)


# --- losses, eqs. 4, 7, 9, 10, 11 --------------------------------------------------------------

def kl_loss(mean: torch.Tensor, log_variance: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """L_kl, eq. 4: D_kl(N(mean, exp(log_variance)) || N(0, I)) averaged over the batch, summed
    over latent units (``"sum"``, the equation) or averaged over them (``"mean"``, Keras's
    ``K.mean`` convention). Our interpretation: with the sum, L_kl + L_cat is minimised by a
    collapsed encoder (encoding the class costs at least as many nats of KL as it saves in
    cross-entropy), which we measured; the paper's clustered latents need the lighter mean."""
    per_unit = gaussian_kl(mean, log_variance)
    return (per_unit.sum(dim=1) if reduction == "sum" else per_unit.mean(dim=1)).mean()


def categorical_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """L_cat, eq. 7: -E[y log Class(z)], the cross-entropy of the softmax of ``logits``."""
    return F.cross_entropy(logits, labels)


def feature_reconstruction_loss(real: list[torch.Tensor], decoded: list[torch.Tensor],
                                alphas) -> torch.Tensor:
    """L_rec, eq. 9: sum_i alpha_i E[||phi_i(X) - phi_i(X^)||^2], with the squared norm averaged
    over feature elements (the Keras ``mse`` of the DFC-VAE code the paper follows)."""
    return sum(alpha * (a - b).pow(2).mean() for alpha, a, b in zip(alphas, real, decoded))


def adversarial_loss(score_real: torch.Tensor, score_decoded: torch.Tensor) -> torch.Tensor:
    """L_adv, eq. 10: E[(Dis(X) - Dis(X^))^2]; zero when reconstructions equal inputs."""
    return (score_real - score_decoded).pow(2).mean()


def latent_loss(class_real: torch.Tensor, class_decoded: torch.Tensor) -> torch.Tensor:
    """L_latent, eq. 11: E[||Class(Z) - Class(Z^)||^2] between softmax outputs."""
    return (class_real - class_decoded).pow(2).sum(dim=1).mean()


def discriminator_loss(scores: torch.Tensor, target: float) -> torch.Tensor:
    """L_dis of Algorithm 2: E[(G - Dis(X))^2] with G = +1 for real and -1 for decoded images."""
    return (target - scores).pow(2).mean()


# --- the networks of one run and their losses --------------------------------------------------

@dataclass
class ZemouriModel:
    """Encoder, latent classifier, decoder and discriminator of one run (section 4.2), with the
    losses of Algorithms 1 and 2. ``config`` is the ``ZemouriConfig`` it was built from."""

    config: object
    encoder: ZemouriEncoder
    classifier: ZemouriClassifier
    decoder: ZemouriDecoder
    discriminator: ZemouriDiscriminator
    history: dict = field(default_factory=dict)

    @classmethod
    def build(cls, config, channels: int, size: int, classes: int) -> "ZemouriModel":
        """Fresh networks for images (channels, size, size) in ``classes`` classes, seeded by
        ``config.seed``; widths from the config."""
        torch.manual_seed(config.seed)
        return cls(config,
                   ZemouriEncoder(channels, size, config.latent_size, config.widths, config.hidden),
                   ZemouriClassifier(config.latent_size, classes, config.classifier_hidden),
                   ZemouriDecoder(channels, size, config.latent_size, config.widths, config.hidden),
                   ZemouriDiscriminator(channels, size, config.widths, config.hidden))

    def step1_losses(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(L_kl, L_cat) of Algorithm 1 (eq. 6): Z = Enc(X) through the sampling layer, Y^ = Class(Z)."""
        mean, log_variance = self.encoder(images)
        z = reparameterise(mean, log_variance)      # this order fixes the random draws
        kl = kl_loss(mean, log_variance, self.config.kl_reduction)
        return kl, categorical_loss(self.classifier(z), labels)

    def discriminator_real_loss(self, real: torch.Tensor) -> torch.Tensor:
        """L_dis of Algorithm 2 on a real mini-batch (target G = +1)."""
        return discriminator_loss(self.discriminator(real), 1.0)

    def discriminator_decoded_loss(self, real: torch.Tensor) -> torch.Tensor:
        """L_dis of Algorithm 2 on the reconstructions of a real mini-batch (target G = -1)."""
        with torch.no_grad():
            decoded = self.decoder(reparameterise(*self.encoder(real)))
        return discriminator_loss(self.discriminator(decoded), -1.0)

    def decoder_losses(self, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(L_rec, L_adv, L_latent) of eq. 8 on a real mini-batch, the frozen encoder and
        classifier giving the targets."""
        with torch.no_grad():
            mean, log_variance, features_real = self.encoder.encode(real)
            z = reparameterise(mean, log_variance)
            class_real = self.classifier(z).softmax(dim=1)
            score_real = self.discriminator(real)
        decoded = self.decoder(z)
        mean_hat, log_variance_hat, features_decoded = self.encoder.encode(decoded)
        rec = feature_reconstruction_loss(features_real, features_decoded, self.config.alphas)
        adv = adversarial_loss(score_real, self.discriminator(decoded))
        lat = latent_loss(class_real, self.classifier(reparameterise(mean_hat, log_variance_hat))
                          .softmax(dim=1))
        return rec, adv, lat
