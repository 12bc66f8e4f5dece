"""The output-layer errors of Nguyen, Abdalla & Amer (2024), one function per equation.

Every error here is a *negative gradient at an output value*: injected into its own network with
``torch.autograd.grad(outputs, that_network.parameters(), grad_outputs=-error)`` it becomes the
paper's weight update ``theta += lr * error * a'(u) * d u / d theta`` (autograd supplies the
a'(u) of the output neuron and everything below it). The reference protocol's versions, read from
the authors' code (``../shared/specs/nguyen_reference_implementation.md``), are the ``reference_*``
functions; they are already multiplied by a'(u) because the code's backpropagation takes deltas at
pre-activations. They take the a' that the code applies to output values as ``derivative`` (the
two readings in ``VALUE_DERIVATIVES``).

Where a rule is not the gradient of the paper's stated objective, the docstring says so and
``tests/test_nguyen_rules.py`` measures it against autograd.
"""

from __future__ import annotations

import torch

from avalib.nguyen.networks import code_derivative, logistic_derivative


def paper_encoder_error(mu: torch.Tensor, sigma: torch.Tensor,
                        encoder_push: torch.Tensor | None = None) -> torch.Tensor:
    """Encoder output error of eq. 5 (and eq. 14 with the encoder discriminator).

    mu error: -mu (+ a'_D(D(mu(x')))/(1 - D(mu(x'))) under eq. 14);
    Sigma error: 1/2 Sigma^-1 - 1/2.
    Eq. 5 is exactly minus the gradient of KL(N(mu, Sigma) | N(0, I)) with respect to (mu, Sigma).
    Eq. 14's push is not a gradient of eq. 12: it adds the discriminator's term to mu(x) although
    eq. 12's log(1 - D(mu(x'))) depends on mu(x'), the encoding of the decoded image.
    """
    mu_error = -mu if encoder_push is None else -mu + encoder_push
    return torch.cat([mu_error, 0.5 / sigma - 0.5], dim=-1)


def discriminator_push(discriminator_output: torch.Tensor,
                       derivative=logistic_derivative) -> torch.Tensor:
    """The paper's a'_d(d(x'))/(1 - d(x')): with the logistic of slope 1/2 this is d(x')/2.
    ``derivative`` is a'_d written in the output value (another network's output activation,
    e.g. the standard sigmoid's v (1 - v) in notebook 04, where the push is d(x'))."""
    return derivative(discriminator_output) / (1 - discriminator_output)


def paper_decoder_error(image: torch.Tensor, decoded: torch.Tensor,
                        decoder_push: torch.Tensor | None = None) -> torch.Tensor:
    """Decoder output error of eq. 6: (x - x') + a'_d(d(x'))/(1 - d(x')), the same push added to
    every pixel. Without the push it is exactly minus the gradient of 1/2 ||x - x'||^2. With it,
    it is minus the gradient of eq. 3 only if every d u_d / d x'_i = 1: the true term is
    a'_d(u_d) (d u_d / d x'_i) / (1 - d(x')), and the paper sets those input weights to 1
    ("when weights are assumed to be 1", section 2).
    """
    error = image - decoded
    return error if decoder_push is None else error + decoder_push


def paper_discriminator_errors(real_output: torch.Tensor, fake_output: torch.Tensor,
                               lean: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Discriminator output errors of eq. 7 (eq. 13 for D): 1/d(x) on the real pass and
    -1/(1 - d(x')) on the fake pass, i.e. a'_d(u)/d(x) - a'_d(u')/(1 - d(x')) at the
    pre-activations: exactly the gradient of log d(x) + log(1 - d(x')) (eqs. 4, 11).

    ``lean`` (eqs. 10, 16) is added to the fake pass: sum_i (x_i - x'_i) a'_g(x'_i). It is not a
    gradient of eq. 9 / 15: their extra -1/2 ||x - x'||^2 does not depend on the discriminator.
    """
    fake_error = -1 / (1 - fake_output)
    if lean is not None:
        fake_error = fake_error + lean
    return 1 / real_output, fake_error


def lean_term(target: torch.Tensor, generated: torch.Tensor,
              derivative=logistic_derivative) -> torch.Tensor:
    """sum_i (x_i - x'_i) a'(x'_i) of eqs. 10 and 16 (over the last dimension, kept); a' is the
    generator's output activation written in its value (``derivative``)."""
    return ((target - generated) * derivative(generated)).sum(dim=-1, keepdim=True)


def _unless_any_channel_is_one(push: torch.Tensor, value: torch.Tensor, channels: int) -> torch.Tensor:
    """The code's push is 0 at a neuron whose 3-vector has a channel exactly equal to 1."""
    batch = value.shape[0]
    hit = (value == 1).view(batch // channels, channels, -1).any(dim=1, keepdim=True)
    return push.masked_fill(hit.expand(-1, channels, -1).reshape(value.shape), 0.0)


# The two readings of the code's a' where it is handed an output value v (push and discriminator
# terms). "reference": the published build as the spec reads it - the derivative function applies
# the logistic to v again, 0.5 a(v) (1 - a(v)). "reference_value_derivative": our earlier reading,
# kept as the hypothesis that the unpublished December-2023 build that wrote the paper's log
# computed the derivative from the value, 0.5 v (1 - v).
VALUE_DERIVATIVES = {"reference": code_derivative, "reference_value_derivative": logistic_derivative}


def reference_self_push(value: torch.Tensor, channels: int, derivative=code_derivative) -> torch.Tensor:
    """The code's "discriminator" term: a'(v)/(1 - v) of the generator's *own* output value v
    (decoder pixel or mu), not of the discriminator's output (spec, training steps 1 and 3).
    With the published build's a' it is 0.1375 at v = 0.1 and 1.2376 at v = 0.9 (v / 2 under the
    value reading)."""
    return _unless_any_channel_is_one(derivative(value) / (1 - value), value, channels)


def reference_encoder_delta(mu: torch.Tensor, sigma: torch.Tensor, with_push: bool,
                            channels: int, derivative=code_derivative) -> torch.Tensor:
    """The code's encoder deltas at the pre-activations (spec, step 1): mu: -mu a'(u) (+ the self
    push a'(mu)/(1 - mu) a'(u) under the encoder discriminator); Sigma: +1/(2 Sigma) a'(u) - the
    paper's "- 1/2 I" is lost, so the variance is always pushed up. a'(u) at the pre-activation is
    exact in both readings; ``derivative`` is the push's a'(mu)."""
    mu_error = -mu + reference_self_push(mu, channels, derivative) if with_push else -mu
    output = torch.cat([mu, sigma], dim=-1)
    return torch.cat([mu_error, 0.5 / sigma], dim=-1) * logistic_derivative(output)


def reference_decoder_delta(image: torch.Tensor, decoded: torch.Tensor, with_push: bool,
                            channels: int, derivative=code_derivative) -> torch.Tensor:
    """The code's decoder deltas (spec, step 3): (x - x') a'(u) (+ a'(x')/(1 - x') a'(u))."""
    error = image - decoded
    if with_push:
        error = error + reference_self_push(decoded, channels, derivative)
    return error * logistic_derivative(decoded)


def reference_discriminator_delta(real_output: torch.Tensor, fake_output: torch.Tensor,
                                  lean_sum: torch.Tensor | None,
                                  derivative=code_derivative) -> torch.Tensor:
    """The code's discriminator delta, applied through the *fake* forward pass only (spec, steps 4
    and 5): a'(d(x))/d(x) - a'(d(x'))/(1 - d(x')) with a' of the output values (``derivative``),
    plus, when leaning, a'(u_d) (exact, at the pre-activation) times the sum of the generator's
    output deltas."""
    delta = derivative(real_output) / real_output - derivative(fake_output) / (1 - fake_output)
    if lean_sum is not None:
        delta = delta + logistic_derivative(fake_output) * lean_sum
    return delta
