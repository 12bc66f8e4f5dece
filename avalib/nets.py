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


# --- Convolutional networks of Zemouri (2020) section 4.2 and the VAE-vs-GAN comparison ---------
# The paper gives layer counts, not widths: ``widths`` are the channels of the three resolutions
# (full, 1/2, 1/4) and ``hidden`` the fully connected width; the notebooks record what they used.

from torch import nn  # noqa: E402  (kept next to the networks that need it)


def _leaky() -> nn.LeakyReLU:
    return nn.LeakyReLU(0.2)


class ResidualBlock(nn.Module):
    """x + conv(LeakyReLU(conv(x))), both 3 x 3 at constant width (with batch norm when asked):
    the residual block of Hou et al. (2017) that Zemouri (2020) section 4.2 reuses."""

    def __init__(self, width: int, batch_norm: bool = False):
        super().__init__()
        norm = (lambda: nn.BatchNorm2d(width)) if batch_norm else nn.Identity
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), norm(), _leaky(),
                                  nn.Conv2d(width, width, 3, padding=1), norm())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class DenseResidualBlock(nn.Module):
    """x + W2 LeakyReLU(W1 x): the fully connected residual block of the classifier."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(width, width), _leaky(), nn.Linear(width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _conv_block(inputs: int, outputs: int, batch_norm: bool) -> nn.Sequential:
    """conv 3 x 3 stride 1 -> [batch norm] -> residual block -> LeakyReLU (encoder order;
    the decoder puts batch norm and LeakyReLU before its residual block, as section 4.2 lists)."""
    if batch_norm:
        return nn.Sequential(nn.Conv2d(inputs, outputs, 3, padding=1), nn.BatchNorm2d(outputs),
                             _leaky(), ResidualBlock(outputs, batch_norm=True))
    return nn.Sequential(nn.Conv2d(inputs, outputs, 3, padding=1), ResidualBlock(outputs), _leaky())


class ZemouriEncoder(nn.Module):
    """Residual convolutional variational encoder, Zemouri (2020) section 4.2: 6 conv blocks
    (two per resolution, a 2 x 2 max-pool after the 2nd and 4th), 3 fully connected + LeakyReLU,
    linear mean and log-variance heads, reparameterised sampling (eq. 2).

    ``encode(x)`` also returns the outputs of the first three conv blocks: phi_1..phi_3 of eq. 9.
    """

    def __init__(self, channels: int, size: int, latent: int, widths=(8, 16, 32), hidden=128):
        super().__init__()
        w1, w2, w3 = widths
        self.blocks = nn.ModuleList([
            _conv_block(channels, w1, False), _conv_block(w1, w1, False), nn.MaxPool2d(2),
            _conv_block(w1, w2, False), _conv_block(w2, w2, False), nn.MaxPool2d(2),
            _conv_block(w2, w3, False), _conv_block(w3, w3, False)])
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(w3 * (size // 4) ** 2, hidden), _leaky(),
                                   nn.Linear(hidden, hidden), _leaky(),
                                   nn.Linear(hidden, hidden), _leaky())
        self.mean = nn.Linear(hidden, latent)
        self.log_variance = nn.Linear(hidden, latent)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """x -> (mean, log-variance of q(z | x), [phi_1(x), phi_2(x), phi_3(x)]), where phi_i is
        the output of the i-th conv block (the features of eq. 9), all from one forward pass."""
        features = []
        for block in self.blocks:
            x = block(x)
            if not isinstance(block, nn.MaxPool2d) and len(features) < 3:
                features.append(x)
        hidden = self.dense(x)
        return self.mean(hidden), self.log_variance(hidden), features

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x -> (mean, log-variance) of q(z | x)."""
        mean, log_variance, _ = self.encode(x)
        return mean, log_variance



def reparameterise(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """z = mean + exp(log-variance / 2) * eps, eps ~ N(0, I): the sampling layer (Kingma &
    Welling's reparameterisation; Zemouri (2020) eq. 2)."""
    return mean + (0.5 * log_variance).exp() * torch.randn_like(mean)


class ZemouriDecoder(nn.Module):
    """Decoder, Zemouri (2020) section 4.2: 3 fully connected layers with batch norm and
    LeakyReLU, 7 conv 3 x 3 layers (6 with batch norm, LeakyReLU and a residual block, two
    nearest-neighbour 2x upsamplings) - the 7th maps to the image channels through a sigmoid,
    our choice for outputs in [0, 1]."""

    def __init__(self, channels: int, size: int, latent: int, widths=(8, 16, 32), hidden=128):
        super().__init__()
        w1, w2, w3 = widths
        self.start = (w3, size // 4, size // 4)
        self.dense = nn.Sequential(
            nn.Linear(latent, hidden), nn.BatchNorm1d(hidden), _leaky(),
            nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), _leaky(),
            nn.Linear(hidden, w3 * (size // 4) ** 2), nn.BatchNorm1d(w3 * (size // 4) ** 2), _leaky())
        self.convolutions = nn.Sequential(
            _conv_block(w3, w3, True), _conv_block(w3, w3, True), nn.Upsample(scale_factor=2),
            _conv_block(w3, w2, True), _conv_block(w2, w2, True), nn.Upsample(scale_factor=2),
            _conv_block(w2, w1, True), _conv_block(w1, w1, True),
            nn.Conv2d(w1, channels, 3, padding=1), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.convolutions(self.dense(z).view(-1, *self.start))


class ZemouriDiscriminator(nn.Module):
    """Discriminator, Zemouri (2020) section 4.2: 3 conv 3 x 3 + LeakyReLU, 2 max-pools,
    4 fully connected + LeakyReLU, one linear output (least-squares targets +1 / -1)."""

    def __init__(self, channels: int, size: int, widths=(8, 16, 32), hidden=128):
        super().__init__()
        w1, w2, w3 = widths
        self.net = nn.Sequential(
            nn.Conv2d(channels, w1, 3, padding=1), _leaky(), nn.MaxPool2d(2),
            nn.Conv2d(w1, w2, 3, padding=1), _leaky(), nn.MaxPool2d(2),
            nn.Conv2d(w2, w3, 3, padding=1), _leaky(), nn.Flatten(),
            nn.Linear(w3 * (size // 4) ** 2, hidden), _leaky(), nn.Linear(hidden, hidden), _leaky(),
            nn.Linear(hidden, hidden // 2), _leaky(), nn.Linear(hidden // 2, hidden // 4), _leaky(),
            nn.Linear(hidden // 4, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


class ZemouriClassifier(nn.Module):
    """Latent classifier, Zemouri (2020) section 4.2: 3 fully connected layers with batch norm
    and LeakyReLU, each followed by a residual block, then a linear layer to class logits
    (the softmax is applied by the losses)."""

    def __init__(self, latent: int, classes: int, hidden: int = 64):
        super().__init__()
        layers: list[nn.Module] = []
        for inputs in (latent, hidden, hidden):
            layers += [nn.Linear(inputs, hidden), nn.BatchNorm1d(hidden), _leaky(),
                       DenseResidualBlock(hidden)]
        self.net = nn.Sequential(*layers, nn.Linear(hidden, classes))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


# --- DCGAN-style networks (Radford et al., 2016) for the VAE-vs-GAN comparison ----------------


class DCGANGenerator(nn.Module):
    """z -> fully connected to (2w, s/4, s/4) -> two stride-2 transposed convs (batch norm, ReLU)
    -> image through a sigmoid (DCGAN uses tanh on [-1, 1]; ours is the same map on [0, 1]).
    Also the decoder of the matched VAE."""

    def __init__(self, latent: int, channels: int, size: int, width: int = 32):
        super().__init__()
        self.start = (2 * width, size // 4, size // 4)
        self.net = nn.Sequential(
            nn.Linear(latent, 2 * width * (size // 4) ** 2), nn.BatchNorm1d(2 * width * (size // 4) ** 2),
            nn.ReLU(), nn.Unflatten(1, self.start),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class DCGANEncoder(nn.Module):
    """image -> two stride-2 convs (LeakyReLU, batch norm on the second) -> ``outputs`` linear
    units: with ``outputs=1`` the DCGAN discriminator (a logit), with ``2 * latent`` the matched
    VAE encoder (mean and log-variance)."""

    def __init__(self, channels: int, size: int, outputs: int, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), _leaky(),
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width), _leaky(),
            nn.Flatten(), nn.Linear(2 * width * (size // 4) ** 2, outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class DomainClassifier(nn.Module):
    """The small CNN that judges generated images in place of Inception-v3: two conv 3 x 3 + ReLU
    + max-pool stages, a 128-unit feature layer (the features of our Frechet distance), logits."""

    def __init__(self, channels: int, size: int, classes: int, width: int = 32, features: int = 128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * width * (size // 4) ** 2, features), nn.ReLU())
        self.head = nn.Linear(features, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))
