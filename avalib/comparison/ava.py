"""AVA1..AVA5 of Nguyen, Abdalla & Amer (2024) on the comparison's networks: the VAE of notebook
04 (same encoder, same decoder, same Bernoulli loss) with the paper's discriminators added - d on
images (the GAN's discriminator network) and D on latent means (a small MLP) - under two of
notebook 01's protocols. The variants are ``avalib.nguyen.VARIANTS`` and the printed rules are
``avalib.nguyen.rules``; nothing of either is copied here.

- ``exact``: the true gradients of the stated objectives (autograd). Encoder and decoder descend
  the VAE loss + log(1 - d(x')) (eq. 3) + log(1 - D(mu(x'))) (eq. 12); d ascends
  log d(x) + log(1 - d(x')) (eq. 4), minus 1/2 ||x - x'||^2 for the lean AVA2 / AVA5 (eq. 9);
  D ascends log D(mu(x)) + log(1 - D(mu(x'))) (eq. 11), minus 1/2 ||mu(x) - mu(x')||^2 for the
  lean AVA4 / AVA5 (eq. 15). The lean terms do not depend on the discriminators' parameters, so
  under ``exact`` AVA2 trains exactly as AVA1 and AVA4 as AVA3 (computed, not assumed: the terms
  are in the objectives, and autograd gives them no gradient).
- ``paper``: the printed output errors (eqs. 5, 6, 7, 10, 13, 14, 16) injected into each network
  at its outputs and propagated by autograd (``avalib.nguyen.updates``, as notebook 01 does). Eq. 5 gives the encoder only the KL's
  error (and eq. 14's push): the sampled code is not differentiated, so **the encoder gets no
  reconstruction signal** under the printed rules. Eq. 6's decoder error is (x - x') + push: the
  gradient of 1/2 ||x - x'||^2, not of the comparison VAE's Bernoulli loss.

Every network's gradient comes from its own objective or error only, all from one forward pass
per mini-batch, and the trainer applies them together (as ``avalib.nguyen.steps`` does per
sample); which error feeds which network is ``avalib.nguyen.updates``, shared with notebook 01. The discriminators' outputs are d = sigmoid(logit); the rules' a'(v) is the standard
sigmoid's v (1 - v) there (the authors' logistic has slope 1/2), and 1 at the linear latent means.
Both protocols also return the discriminators' mean outputs on the batch (``OUTPUTS``): whether d
and D tell real from generated is what decides how much their terms can move the generators.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from avalib.comparison.models import vae_loss
from avalib.nguyen.updates import ascent, injected_gradients, paper_errors
from avalib.nguyen.variants import GRADIENT_PROTOCOLS, VARIANTS, Variant

PROTOCOLS = GRADIENT_PROTOCOLS
AVA_VARIANTS = tuple(name for name in VARIANTS if name.startswith("AVA"))
# Discriminator outputs are kept this far from 0 and 1 inside the printed errors (1/d, 1/(1 - d)),
# so a saturated float32 sigmoid gives a large error rather than 0 * inf.
OUTPUT_MARGIN = 1e-6
# The discriminators' mean probabilities "real" on a batch: d on x and on x', D on mu(x) and mu(x').
OUTPUTS = ("d_real", "d_generated", "D_real", "D_generated")


def sigmoid_derivative(value: torch.Tensor) -> torch.Tensor:
    """a'(u) of the standard sigmoid written in its value: v (1 - v)."""
    return value * (1 - value)


def identity_derivative(value: torch.Tensor) -> torch.Tensor:
    """a'(u) of a linear output (the encoder's latent means): 1."""
    return torch.ones_like(value)


def latent_discriminator(latent_size: int, hidden: int) -> nn.Sequential:
    """D of AVA3..AVA5: latent mean -> two hidden LeakyReLU(0.2) layers -> one logit."""
    return nn.Sequential(nn.Linear(latent_size, hidden), nn.LeakyReLU(0.2),
                         nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))


@dataclass
class AVANetworks:
    """One AVA model: the VAE's encoder (mean and log-variance heads) and decoder, plus the
    discriminators its variant has (``None`` where it has not)."""

    variant: Variant
    encoder: nn.Module
    decoder: nn.Module
    d: nn.Module | None
    D: nn.Module | None

    def named(self) -> dict[str, nn.Module]:
        return {name: net for name, net in (("encoder", self.encoder), ("decoder", self.decoder),
                                            ("d", self.d), ("D", self.D)) if net is not None}


def _mean_outputs(**probabilities: torch.Tensor) -> dict[str, float]:
    """Each discriminator output's batch mean, by its ``OUTPUTS`` name (outside the graph)."""
    return {name: float(value.detach().mean()) for name, value in probabilities.items()}


def exact_gradients(nets: AVANetworks, images: torch.Tensor, noise: torch.Tensor
                    ) -> tuple[dict[str, list[torch.Tensor]], torch.Tensor, dict[str, float]]:
    """Every network's descent gradient of its own stated objective (see the module docstring),
    from one forward pass; ``noise`` is the eps of z = mu + sigma eps. Returns (gradients by
    network name, the encoder-decoder loss, the discriminators' mean outputs)."""
    variant = nets.variant
    mean, log_variance = nets.encoder(images).chunk(2, dim=1)
    decoded = nets.decoder(mean + (0.5 * log_variance).exp() * noise)
    loss = vae_loss(images, decoded, mean, log_variance)                 # eq. 1 (Bernoulli)
    gradients, outputs = {}, {}
    if nets.d is not None:
        fake_logit = nets.d(decoded)
        loss = loss - F.softplus(fake_logit).mean()                      # + log(1 - d(x')), eq. 3
        real_logit = nets.d(images)
        balance = F.logsigmoid(real_logit).mean() - F.softplus(fake_logit).mean()   # eq. 4
        outputs |= _mean_outputs(d_real=torch.sigmoid(real_logit.detach()),
                                 d_generated=torch.sigmoid(fake_logit.detach()))
        if variant.lean_decoder:                                         # eq. 9
            balance = balance - 0.5 * (images - decoded.detach()).pow(2).flatten(1).sum(1).mean()
        gradients["d"] = ascent(balance, list(nets.d.parameters()))
    if nets.D is not None:
        fake_mean = nets.encoder(decoded).chunk(2, dim=1)[0]
        fake_logit = nets.D(fake_mean)
        loss = loss - F.softplus(fake_logit).mean()                      # + log(1 - D(mu(x'))), eq. 12
        real_logit = nets.D(mean.detach())
        balance = F.logsigmoid(real_logit).mean() - F.softplus(fake_logit).mean()  # eq. 11
        outputs |= _mean_outputs(D_real=torch.sigmoid(real_logit.detach()),
                                 D_generated=torch.sigmoid(fake_logit.detach()))
        if variant.lean_encoder:                                         # eq. 15
            balance = balance - 0.5 * (mean - fake_mean).detach().pow(2).sum(1).mean()
        gradients["D"] = ascent(balance, list(nets.D.parameters()))
    generators = [nets.encoder, nets.decoder]
    flat = torch.autograd.grad(loss, [p for net in generators for p in net.parameters()])
    split = len(list(nets.encoder.parameters()))
    gradients["encoder"], gradients["decoder"] = list(flat[:split]), list(flat[split:])
    return gradients, loss.detach(), outputs


def _probability(logit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """d = sigmoid(logit) (the output the error is injected at) and its value for the rules."""
    output = torch.sigmoid(logit)
    return output, output.detach().clamp(OUTPUT_MARGIN, 1 - OUTPUT_MARGIN)


def paper_gradients(nets: AVANetworks, images: torch.Tensor, noise: torch.Tensor
                    ) -> tuple[dict[str, list[torch.Tensor]], torch.Tensor, dict[str, float]]:
    """Every network's gradient from the printed rules (``updates.paper_errors``, injected at its
    outputs and averaged over the mini-batch), from one forward pass. Returns (gradients by
    network name, the VAE loss as a monitor only, the discriminators' mean outputs)."""
    mean, log_variance = nets.encoder(images).chunk(2, dim=1)
    sigma = log_variance.exp()                                          # Sigma, eq. 5's variable
    code = (mean + (0.5 * log_variance).exp() * noise).detach()         # eq. 5: no reconstruction path
    decoded = nets.decoder(code)
    fake_mean = d_pair = D_pair = None
    outputs, values = {}, {}
    if nets.d is not None:
        d_pair = _probability(nets.d(images)), _probability(nets.d(decoded.detach()))
        outputs |= _mean_outputs(d_real=d_pair[0][0], d_generated=d_pair[1][0])
    if nets.D is not None:
        fake_mean = nets.encoder(decoded.detach()).chunk(2, dim=1)[0].detach()
        D_pair = _probability(nets.D(mean.detach())), _probability(nets.D(fake_mean))
        outputs |= _mean_outputs(D_real=D_pair[0][0], D_generated=D_pair[1][0])
    for name, pair in (("d", d_pair), ("D", D_pair)):
        if pair is not None:
            values[name] = (pair[0][1], pair[1][1])
    errors = paper_errors(nets.variant, images, decoded, mean, sigma, fake_mean, values.get("d"),
                          values.get("D"), push_derivative=sigmoid_derivative,
                          image_derivative=sigmoid_derivative, code_derivative=identity_derivative)
    pairs = {"decoder": [(decoded, errors["decoder"])],
             "encoder": [(torch.cat([mean, sigma], dim=1), errors["encoder"])]}
    for name, pair in (("d", d_pair), ("D", D_pair)):
        if pair is not None:
            pairs[name] = [(pair[0][0], errors[name][0]), (pair[1][0], errors[name][1])]
    networks = nets.named()
    gradients = {name: injected_gradients(pairs[name], list(networks[name].parameters()), batch_mean=True)
                 for name in ("d", "D", "decoder", "encoder") if name in pairs}
    with torch.no_grad():
        monitor = vae_loss(images, decoded, mean, log_variance)
    return gradients, monitor, outputs


GRADIENTS = {"exact": exact_gradients, "paper": paper_gradients}

