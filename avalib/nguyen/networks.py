"""The AVA authors' network (``../shared/specs/nguyen_reference_implementation.md``).

``ChannelMLP``: every neuron holds an (r, g, b) vector and every weight is combined element-wise,
so a network is three independent scalar MLPs, one per colour channel, with one hidden layer. We
hold R runs x C channels of them as one batch of B = R * C weight matrices, so that the 19 learning
rates and several seeds train as one tensor program (batched matmul) instead of a Python loop.
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

    Correct wherever ``value`` really is a(u): backpropagation, and the paper's printed rules.
    """
    return LOGISTIC_SLOPE * value * (1 - value)


def code_derivative(pre_activation: torch.Tensor) -> torch.Tensor:
    """The authors' derivative function: it takes a *pre-activation* u and applies the logistic
    itself, 0.5 a(u) (1 - a(u)) (spec, "Networks"). Where the code hands it an output *value* v
    (the push and discriminator terms), it computes 0.5 a(v) (1 - a(v)): the logistic twice."""
    return logistic_derivative(logistic(pre_activation))


def _logistic_layer(bias: torch.Tensor, inputs: torch.Tensor, weight: torch.Tensor,
                    multiplicity: int) -> torch.Tensor:
    """a(b + m W x) for a batch of layers: bias (B, O), inputs (B, S, I), weight (B, O, I) ->
    (B, S, O). Under autograd the slope is applied to the (small) outputs, so that the backward
    pass does not scale the weight-sized gradients; without it, slope and centre fold into one
    fused multiply-add and one in-place sigmoid (an outer product when I = 1, where a batched
    matmul is slow)."""
    if weight.requires_grad:
        return logistic(torch.baddbmm(bias.unsqueeze(1), inputs, weight.transpose(1, 2),
                                      alpha=multiplicity))
    shifted = (LOGISTIC_SLOPE * bias - LOGISTIC_SLOPE * LOGISTIC_CENTRE).unsqueeze(1)
    if inputs.shape[-1] == 1:
        pre = torch.addcmul(shifted, inputs, weight.transpose(1, 2), value=LOGISTIC_SLOPE * multiplicity)
    else:
        pre = torch.baddbmm(shifted, inputs, weight.transpose(1, 2), alpha=LOGISTIC_SLOPE * multiplicity)
    return pre.sigmoid_()


class ChannelMLP:
    """B = runs x channels independent logistic MLPs ``inputs -> hidden -> outputs``.

    Weights: ``hidden_weight`` (B, H, I), ``hidden_bias`` (B, H), ``output_weight`` (B, O, H),
    ``output_bias`` (B, O). ``init="zeros"`` is the authors' initialisation (all weights 0, so the
    hidden units never differentiate); ``"uniform"`` draws U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as
    ``torch.nn.Linear`` does.

    ``multiplicity`` m counts every hidden unit m times in the output layer: a zero-initialised
    network of width m keeps its m hidden units identical for ever (the symmetry is never broken),
    so it *is* a width-1 network whose hidden value enters the layer above m times, with the same
    per-weight updates. ``ChannelMLP(..., hidden=1, multiplicity=100)`` trains the authors' 100-unit
    networks at their true width (``tests/test_nguyen.py`` checks the equality).
    """

    def __init__(self, batch: int, inputs: int, hidden: int, outputs: int, *, init: str,
                 dtype: torch.dtype, generator: torch.Generator | None = None,
                 multiplicity: int = 1):
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
        self.multiplicity = multiplicity

    @classmethod
    def from_parameters(cls, parameters: list[torch.Tensor], multiplicity: int = 1) -> "ChannelMLP":
        """A network holding the given (hidden_weight, hidden_bias, output_weight, output_bias)."""
        net = cls.__new__(cls)
        net.hidden_weight, net.hidden_bias, net.output_weight, net.output_bias = parameters
        net.multiplicity = multiplicity
        return net

    def parameters(self) -> list[torch.Tensor]:
        return [self.hidden_weight, self.hidden_bias, self.output_weight, self.output_bias]

    def to(self, device: torch.device | str) -> "ChannelMLP":
        """The same network with its weights on ``device``."""
        return ChannelMLP.from_parameters([p.to(device) for p in self.parameters()], self.multiplicity)

    def requires_grad_(self) -> "ChannelMLP":
        for tensor in self.parameters():
            tensor.requires_grad_(True)
        return self

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """inputs (B, S, I) -> (hidden (B, S, H), outputs (B, S, O)); (B, I) -> (B, H), (B, O)."""
        single = inputs.dim() == 2
        if single:
            inputs = inputs.unsqueeze(1)
        hidden = self.hidden(inputs)
        outputs = self.output(hidden)
        return (hidden.squeeze(1), outputs.squeeze(1)) if single else (hidden, outputs)

    def hidden(self, inputs: torch.Tensor) -> torch.Tensor:
        """The hidden layer: inputs (B, S, I) -> (B, S, H)."""
        return _logistic_layer(self.hidden_bias, inputs, self.hidden_weight, 1)

    def output(self, hidden: torch.Tensor, rows: slice = slice(None)) -> torch.Tensor:
        """The output layer of the networks ``rows`` of the batch: hidden (b, S, H) -> (b, S, O)."""
        return _logistic_layer(self.output_bias[rows], hidden, self.output_weight[rows],
                               self.multiplicity)

    @torch.no_grad()
    def backprop_step(self, inputs: torch.Tensor, hidden: torch.Tensor, output_delta: torch.Tensor,
                      learning_rate: torch.Tensor) -> None:
        """One SGD step in the authors' convention (spec, "Training"): for one sample,
        ``output_delta`` (B, O) is the negative gradient at the output pre-activation;
        ``b += lr delta``, ``w += lr delta out_prev``, the output layer first, and the hidden
        delta is computed with the output weights *already updated* (the code's order, which
        differs from textbook backpropagation). ``learning_rate``: (B,). With a multiplicity m the
        hidden delta is the same: each of the m identical units sees the same output weights."""
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
