"""Which error or objective feeds which network, written once for both trainers of AVA: the
per-sample trainer of notebook 01 (``avalib.nguyen.steps``) and the mini-batch comparison of
notebook 04 (``avalib.comparison.ava``).

- ``paper_errors``: the printed output errors of every network of a variant (eqs. 5-7, 10, 13,
  14, 16), from the values of one forward pass;
- ``injected_gradients``: such errors injected at a network's outputs and propagated by autograd
  over that network's parameters only;
- ``ascent``: the gradient that maximises an objective over one network's parameters (the
  discriminators' balance functions, eqs. 4, 9, 11, 15, under ``exact``).

Every function takes the parameters of exactly one network, so nothing of one network's error
reaches another network's update.
"""

from __future__ import annotations

from typing import Callable

import torch

from avalib.nguyen import rules
from avalib.nguyen.networks import logistic_derivative
from avalib.nguyen.variants import Variant

Derivative = Callable[[torch.Tensor], torch.Tensor]


def ascent(objective: torch.Tensor, parameters: list[torch.Tensor]) -> list[torch.Tensor]:
    """The gradient that *maximises* ``objective`` over ``parameters`` only (to be descended)."""
    return [-g for g in torch.autograd.grad(objective, parameters, retain_graph=True)]


def injected_gradients(pairs: list[tuple[torch.Tensor, torch.Tensor]], parameters: list[torch.Tensor],
                       batch_mean: bool = False) -> list[torch.Tensor]:
    """-sum(error * d output / d theta) over ``parameters`` only (autograd), for (output, error)
    ``pairs``, so that ``theta -= lr * gradient`` is the paper's ``theta += lr * error * ...``;
    ``batch_mean`` averages the errors over a mini-batch (their first dimension)."""
    outputs = [output for output, _ in pairs]
    grad_outputs = [-error.detach() / len(error) if batch_mean else -error.detach()
                    for _, error in pairs]
    return list(torch.autograd.grad(outputs, parameters, grad_outputs, retain_graph=True))


def paper_errors(variant: Variant, image: torch.Tensor, decoded: torch.Tensor,
                 mu: torch.Tensor | None = None, sigma: torch.Tensor | None = None,
                 fake_mu: torch.Tensor | None = None,
                 d_outputs: tuple[torch.Tensor, torch.Tensor] | None = None,
                 D_outputs: tuple[torch.Tensor, torch.Tensor] | None = None, *,
                 push_derivative: Derivative = logistic_derivative,
                 image_derivative: Derivative = logistic_derivative,
                 code_derivative: Derivative = logistic_derivative) -> dict[str, object]:
    """The printed output errors of every network ``variant`` has, from one forward pass:
    ``{"d": (real error, fake error), "D": (...), "decoder": error, "encoder": error}``.

    ``d_outputs`` = (d(x), d(x')) and ``D_outputs`` = (D(mu(x)), D(mu(x'))) are the
    discriminators' output values (``fake_mu`` = mu(x'), the encoding of the decoded image).
    The a' of the rules are written in output values: ``push_derivative`` of the discriminators'
    output (eqs. 6, 14), ``image_derivative`` of the decoder's (eq. 10) and ``code_derivative`` of
    the encoder's mean (eq. 16); the authors' logistic by default. The encoder's error is eq. 5
    (eq. 14 with D); the decoder's eq. 6, or for the GAN (no encoder) the push alone (eq. 2
    derived as eq. 6, no reconstruction)."""
    errors: dict[str, object] = {}
    decoder_push = encoder_push = None
    if d_outputs is not None:                                        # eqs. 6, 7, 10
        real, fake = d_outputs
        decoder_push = rules.discriminator_push(fake, push_derivative)
        lean = (rules.lean_term(image.flatten(1), decoded.detach().flatten(1), image_derivative)
                if variant.lean_decoder else None)
        errors["d"] = rules.paper_discriminator_errors(real, fake, lean)
    if D_outputs is not None:                                        # eqs. 13, 14, 16
        real, fake = D_outputs
        encoder_push = rules.discriminator_push(fake, push_derivative)
        lean = rules.lean_term(mu.detach(), fake_mu, code_derivative) if variant.lean_encoder else None
        errors["D"] = rules.paper_discriminator_errors(real, fake, lean)
    if not variant.has_encoder:
        errors["decoder"] = decoder_push.expand_as(decoded)
        return errors
    push = None if decoder_push is None else decoder_push.view(-1, *[1] * (decoded.dim() - 1))
    errors["decoder"] = rules.paper_decoder_error(image, decoded.detach(), push)
    errors["encoder"] = rules.paper_encoder_error(mu.detach(), sigma.detach(), encoder_push)
    return errors
