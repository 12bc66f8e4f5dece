"""Networks of the study.

``ChannelMLP`` is the AVA authors' network (``../shared/specs/nguyen_reference_implementation.md``):
every neuron holds an (r, g, b) vector and every weight is combined element-wise, so a network is
three independent scalar MLPs, one per colour channel, with one hidden layer. We hold R runs x C
channels of them as one batch of B = R * C weight matrices, so that the 19 learning rates and
several seeds train as one tensor program (batched matmul) instead of a Python loop over runs.
"""

from __future__ import annotations

import torch

LOGISTIC_SLOPE = 0.5
LOGISTIC_CENTRE = 0.5


def logistic(u: torch.Tensor) -> torch.Tensor:
    """The authors' activation a(u) = 1 / (1 + exp(0.5 (0.5 - u))); a(0) = 0.4378."""
    return torch.sigmoid(LOGISTIC_SLOPE * (u - LOGISTIC_CENTRE))


def logistic_derivative(value: torch.Tensor) -> torch.Tensor:
    """a'(u) written in terms of the output value v = a(u): a'(u) = 0.5 v (1 - v).

    The paper's a'_d(d(x)) and the reference code's a'(x'_i) are this function of a value.
    """
    return LOGISTIC_SLOPE * value * (1 - value)


class ChannelMLP:
    """B = runs x channels independent logistic MLPs ``inputs -> hidden -> outputs``.

    Weights: ``hidden_weight`` (B, H, I), ``hidden_bias`` (B, H), ``output_weight`` (B, O, H),
    ``output_bias`` (B, O). ``init="zeros"`` is the authors' initialisation (all weights 0, so the
    hidden units never differentiate); ``"uniform"`` draws U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as
    ``torch.nn.Linear`` does.
    """

    def __init__(self, batch: int, inputs: int, hidden: int, outputs: int, *, init: str,
                 dtype: torch.dtype, generator: torch.Generator | None = None):
        shapes = [(batch, hidden, inputs), (batch, hidden), (batch, outputs, hidden), (batch, outputs)]
        fan_ins = [inputs, inputs, hidden, hidden]
        if init == "zeros":
            tensors = [torch.zeros(shape, dtype=dtype) for shape in shapes]
        elif init == "uniform":
            tensors = [(torch.rand(shape, generator=generator, dtype=dtype) * 2 - 1) / fan_in ** 0.5
                       for shape, fan_in in zip(shapes, fan_ins)]
        else:
            raise ValueError(f"unknown init {init!r}; use 'zeros' or 'uniform'")
        self.hidden_weight, self.hidden_bias, self.output_weight, self.output_bias = tensors

    def parameters(self) -> list[torch.Tensor]:
        return [self.hidden_weight, self.hidden_bias, self.output_weight, self.output_bias]

    def requires_grad_(self) -> "ChannelMLP":
        for tensor in self.parameters():
            tensor.requires_grad_(True)
        return self

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """inputs (B, S, I) -> (hidden (B, S, H), outputs (B, S, O)); (B, I) -> (B, H), (B, O)."""
        single = inputs.dim() == 2
        if single:
            inputs = inputs.unsqueeze(1)
        hidden = logistic(torch.baddbmm(self.hidden_bias.unsqueeze(1), inputs,
                                        self.hidden_weight.transpose(1, 2)))
        outputs = logistic(torch.baddbmm(self.output_bias.unsqueeze(1), hidden,
                                         self.output_weight.transpose(1, 2)))
        return (hidden.squeeze(1), outputs.squeeze(1)) if single else (hidden, outputs)

    @torch.no_grad()
    def backprop_step(self, inputs: torch.Tensor, hidden: torch.Tensor, output_delta: torch.Tensor,
                      learning_rate: torch.Tensor) -> None:
        """One SGD step in the authors' convention (spec, "Training"): for one sample,
        ``output_delta`` (B, O) is the negative gradient at the output pre-activation;
        ``b += lr delta``, ``w += lr delta out_prev``, the output layer first, and the hidden
        delta is computed with the output weights *already updated* (the code's order, which
        differs from textbook backpropagation). ``learning_rate``: (B,)."""
        scaled = output_delta * learning_rate[:, None]
        self.output_weight.baddbmm_(scaled.unsqueeze(2), hidden.unsqueeze(1))
        self.output_bias.add_(scaled)
        hidden_delta = torch.bmm(output_delta.unsqueeze(1), self.output_weight).squeeze(1) \
            * logistic_derivative(hidden)
        scaled = hidden_delta * learning_rate[:, None]
        self.hidden_weight.baddbmm_(scaled.unsqueeze(2), inputs.unsqueeze(1))
        self.hidden_bias.add_(scaled)

    @torch.no_grad()
    def gradient_step(self, gradients: list[torch.Tensor], learning_rate: torch.Tensor) -> None:
        """theta -= lr * gradient for each parameter (gradients from autograd)."""
        for tensor, gradient in zip(self.parameters(), gradients):
            tensor.addcmul_(gradient, learning_rate.view(-1, *[1] * (tensor.dim() - 1)), value=-1)
