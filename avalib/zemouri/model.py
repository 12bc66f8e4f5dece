"""The model of Zemouri (2020): its four networks and the losses it computes (eqs. 4, 6-11).
The trainer (``avalib.zemouri.trainer``) takes the steps; the model only says what each
network's loss is, from shapes alone (no dataset needed to build it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from avalib import numerics
from avalib.latent import gaussian_kl, reparameterise
from avalib.training import in_batches
from avalib.zemouri.networks import (ZemouriClassifier, ZemouriDecoder, ZemouriDiscriminator,
                                     ZemouriEncoder)


# --- losses, eqs. 4, 7, 9, 10, 11 --------------------------------------------------------------

def kl_loss(mean: torch.Tensor, log_variance: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """L_kl, eq. 4: D_kl(N(mean, exp(log_variance)) || N(0, I)) averaged over the batch, summed
    over latent units (``"sum"``, the equation) or averaged over them (``"mean"``, Keras's
    ``K.mean`` convention, which weights each unit by 1/K_z). The weight of L_kl in eq. 6 is the
    config's ``kl_weight``: notebook 02 measures why it is not 1."""
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
        model = cls(config,
                    ZemouriEncoder(channels, size, config.latent_size, config.widths, config.hidden),
                    ZemouriClassifier(config.latent_size, classes, config.classifier_hidden),
                    ZemouriDecoder(channels, size, config.latent_size, config.widths, config.hidden),
                    ZemouriDiscriminator(channels, size, config.widths, config.hidden))
        if numerics.mode() == "native":
            # channels-last runs oneDNN's brgemm convolutions, which size their blocks from the
            # CPU's caches: native only (portable keeps its jit:avx2 kernels; avalib.numerics)
            model.to(memory_format=torch.channels_last)
        return model

    def networks(self) -> tuple:
        return self.encoder, self.classifier, self.decoder, self.discriminator

    def to(self, **kwargs) -> "ZemouriModel":
        """Every network ``.to(**kwargs)``: a device, or the memory format (channels-last
        convolutions are ~1.2x faster on this CPU; ``benchmarks/zemouri_speed.py``)."""
        for network in self.networks():
            network.to(**kwargs)
        return self

    def step1_losses(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(L_kl, L_cat) of Algorithm 1 (eq. 6): Z = Enc(X) through the sampling layer, Y^ = Class(Z)."""
        mean, log_variance = self.encoder(images)
        z = reparameterise(mean, log_variance)      # this order fixes the random draws
        kl = kl_loss(mean, log_variance, self.config.kl_reduction)
        return kl, categorical_loss(self.classifier(z), labels)

    def discriminator_real_loss(self, real: torch.Tensor) -> torch.Tensor:
        """L_dis of Algorithm 2 on a real mini-batch (target G = +1)."""
        return discriminator_loss(self.discriminator(real), 1.0)

    def discriminator_decoded_loss(self, mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
        """L_dis of Algorithm 2 on the reconstructions Dec(Z) of a real mini-batch (target G = -1),
        given the frozen encoder's posterior (mean, log_variance) of that mini-batch."""
        with torch.no_grad():
            decoded = self.decoder(reparameterise(mean, log_variance))
        return discriminator_loss(self.discriminator(decoded), -1.0)

    def decoder_losses(self, real: torch.Tensor, encoding: tuple, latent_gradient: bool = True,
                       adversarial_gradient: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(L_rec, L_adv, L_latent) of eq. 8 on a real mini-batch, the frozen encoder and classifier
        giving the targets; ``encoding`` is the frozen encoder's (mean, log-variance, [phi_1..3])
        of ``real`` (``FrozenEncoding``). A term whose weight in eq. 8 is 0 contributes an exactly
        zero gradient, so ``latent_gradient=False`` / ``adversarial_gradient=False`` compute it
        without a graph (the same update, cheaper: no backward through the encoder's last three
        blocks / the discriminator)."""
        mean, log_variance, features_real = encoding
        with torch.no_grad():
            z = reparameterise(mean, log_variance)
            class_real = self.classifier(z).softmax(dim=1)
            score_real = self.discriminator(real)
        decoded = self.decoder(z)
        mean_hat, log_variance_hat, features_decoded = self.encoder.encode(
            decoded, detach_after_features=not latent_gradient)
        rec = feature_reconstruction_loss(features_real, features_decoded, self.config.alphas)
        adv = adversarial_loss(score_real, self.discriminator(decoded if adversarial_gradient
                                                              else decoded.detach()))
        lat = latent_loss(class_real, self.classifier(reparameterise(mean_hat, log_variance_hat))
                          .softmax(dim=1))
        return rec, adv, lat


class FrozenEncoding:
    """The frozen step-1 encoder's (mean, log-variance, [phi_1, phi_2, phi_3]) of a set of real
    images. Step 2 never changes the encoder, so these are computed once for all of its
    iterations (``precompute=True``, what the trainer uses) instead of once per mini-batch
    (``precompute=False``: the per-iteration cost that ``benchmarks/zemouri_speed.py`` compares)."""

    def __init__(self, encoder: ZemouriEncoder, images: torch.Tensor, precompute: bool = True):
        self.encoder, self.images, self.outputs = encoder, images, None
        if precompute:
            mean, log_variance, *features = in_batches(
                lambda batch: (lambda m, v, f: (m, v, *f))(*encoder.encode(batch)), images)
            self.outputs = (mean, log_variance, features)

    @torch.no_grad()
    def __getitem__(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        if self.outputs is None:
            return self.encoder.encode(self.images[index])
        mean, log_variance, features = self.outputs
        return mean[index], log_variance[index], [feature[index] for feature in features]
