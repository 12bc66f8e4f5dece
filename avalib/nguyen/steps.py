"""One per-sample training step of each protocol of Nguyen et al. (2024) (see ``trainer``):
the authors' code (``reference_step``), the printed rules (``paper_step``), and the true gradients
of the stated objectives (``exact_step``). Every step updates each network from its own error or
loss only."""

from __future__ import annotations

import torch

from avalib import kernels

from avalib.nguyen import rules
from avalib.nguyen.model import Networks
from avalib.nguyen.networks import ChannelMLP
from avalib.nguyen.updates import ascent, injected_gradients, paper_errors
from avalib.nguyen.variants import Variant


def reference_step(nets: Networks, variant: Variant, image: torch.Tensor) -> torch.Tensor:
    """One per-sample step of the authors' code (spec, steps 1-5); returns values to check."""
    lr, channels, derivative = nets.learning_rate, nets.channels, nets.value_derivative
    if not variant.has_encoder:                                   # GAN (spec, "VAE: ... GAN:")
        fake_code = nets.noise()
        fake = nets.decoder.forward(fake_code)[1]
        d = nets.decoder_discriminator
        real_output = d.forward(image)[1]
        hidden, fake_output = d.forward(fake)
        d.backprop_step(fake, hidden, rules.reference_discriminator_delta(real_output, fake_output,
                                                                          None, derivative), lr)
        code = nets.noise()
        hidden, decoded = nets.decoder.forward(code)
        nets.decoder.backprop_step(code, hidden, rules.reference_decoder_delta(
            image, decoded, True, channels, derivative), lr)
        return decoded
    hidden, encoded = nets.encoder.forward(image)
    mu, sigma = nets.split(encoded)
    encoder_delta = rules.reference_encoder_delta(mu, sigma, variant.encoder_discriminator, channels,
                                                  derivative)
    nets.encoder.backprop_step(image, hidden, encoder_delta, lr)
    code = mu + kernels.sqrt(sigma) * nets.noise()
    hidden, decoded = nets.decoder.forward(code)
    decoder_delta = rules.reference_decoder_delta(image, decoded, variant.decoder_discriminator,
                                                  channels, derivative)
    nets.decoder.backprop_step(code, hidden, decoder_delta, lr)
    nets.state = (mu, sigma)
    if variant.decoder_discriminator or variant.encoder_discriminator:
        new_decoded = nets.decoder.forward(code)[1]
    if variant.decoder_discriminator:
        d = nets.decoder_discriminator
        real_output = d.forward(image)[1]
        hidden, fake_output = d.forward(new_decoded)
        lean = decoder_delta.sum(-1, keepdim=True) if variant.lean_decoder else None
        d.backprop_step(new_decoded, hidden,
                        rules.reference_discriminator_delta(real_output, fake_output, lean,
                                                                     derivative), lr)
    if variant.encoder_discriminator:
        D = nets.encoder_discriminator
        real_output = D.forward(mu)[1]
        nets.state = nets.split(nets.encoder.forward(new_decoded)[1])    # the state overwrite
        hidden, fake_output = D.forward(nets.state[0])
        lean = encoder_delta.sum(-1, keepdim=True) if variant.lean_encoder else None
        D.backprop_step(nets.state[0], hidden,
                        rules.reference_discriminator_delta(real_output, fake_output, lean,
                                                                     derivative), lr)
    return decoded


def _apply(updates: list[tuple[ChannelMLP, list[torch.Tensor]]], learning_rate: torch.Tensor) -> None:
    """Apply every network's gradient only after all were computed from the same graph."""
    for net, gradients in updates:
        net.gradient_step(gradients, learning_rate)


def paper_step(nets: Networks, variant: Variant, image: torch.Tensor) -> torch.Tensor:
    """One per-sample step of the rules as printed (``updates.paper_errors``), all from the same
    forward pass."""
    d, D = nets.decoder_discriminator, nets.encoder_discriminator
    mu = sigma = fake_mu = d_outputs = D_outputs = None
    if variant.has_encoder:
        encoded = nets.encoder.forward(image)[1]
        mu, sigma = nets.split(encoded)
        code = (mu + kernels.sqrt(sigma) * nets.noise()).detach()  # eq. 5: no reconstruction path
    else:
        code = nets.noise()
    decoded = nets.decoder.forward(code)[1]
    if d is not None:
        d_outputs = d.forward(image)[1], d.forward(decoded.detach())[1]
    if D is not None:
        fake_mu = nets.split(nets.encoder.forward(decoded.detach())[1])[0].detach()
        D_outputs = D.forward(mu.detach())[1], D.forward(fake_mu)[1]
    errors = paper_errors(variant, image, decoded, mu, sigma, fake_mu, d_outputs, D_outputs)
    pairs = [(d, list(zip(d_outputs, errors["d"])) if d is not None else None),
             (D, list(zip(D_outputs, errors["D"])) if D is not None else None),
             (nets.encoder, [(encoded, errors["encoder"])] if variant.has_encoder else None),
             (nets.decoder, [(decoded, errors["decoder"])])]
    _apply([(net, injected_gradients(outputs, net.parameters())) for net, outputs in pairs
            if outputs is not None], nets.learning_rate)
    return decoded


def exact_step(nets: Networks, variant: Variant, image: torch.Tensor) -> torch.Tensor:
    """One per-sample SGD step on the true gradients of the stated objectives (autograd)."""
    lr = nets.learning_rate
    d, D = nets.decoder_discriminator, nets.encoder_discriminator
    if variant.has_encoder:
        mu, sigma = nets.split(nets.encoder.forward(image)[1])
        code = mu + kernels.sqrt(sigma) * nets.noise()              # reparameterised
        decoded = nets.decoder.forward(code)[1]
        loss = 0.5 * (image - decoded).pow(2).sum() \
            + 0.5 * (sigma + mu.pow(2) - 1 - sigma.log()).sum()      # eq. 1: recon. + KL
    else:
        decoded = nets.decoder.forward(nets.noise())[1]
        loss = decoded.new_zeros(())
    updates = []
    if d is not None:                                                # eqs. 2-4, 9
        loss = loss + torch.log1p(-d.forward(decoded)[1]).sum()
        balance = torch.log(d.forward(image)[1]).sum() \
            + torch.log1p(-d.forward(decoded.detach())[1]).sum()
        updates.append((d, ascent(balance, d.parameters())))
    if D is not None:                                                # eqs. 11, 12, 15
        fake_mu = nets.split(nets.encoder.forward(decoded)[1])[0]
        loss = loss + torch.log1p(-D.forward(fake_mu)[1]).sum()
        balance = torch.log(D.forward(mu.detach())[1]).sum() \
            + torch.log1p(-D.forward(fake_mu.detach())[1]).sum()
        updates.append((D, ascent(balance, D.parameters())))
    generators = [n for n in (nets.encoder, nets.decoder) if n is not None]
    gradients = torch.autograd.grad(loss, [p for n in generators for p in n.parameters()])
    updates += [(net, list(gradients[4 * i: 4 * i + 4])) for i, net in enumerate(generators)]
    _apply(updates, lr)
    return decoded


STEPS = {"reference": reference_step, "reference_value_derivative": reference_step,
         "paper": paper_step, "exact": exact_step}
