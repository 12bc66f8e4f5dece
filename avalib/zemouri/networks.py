"""Networks of Zemouri (2020) section 4.2: residual convolutional encoder and decoder, the
least-squares discriminator and the latent classifier. The paper gives layer counts, not widths:
``widths`` are the channels of the three resolutions (full, 1/2, 1/4) and ``hidden`` the fully
connected width; the notebooks record what they used."""

from __future__ import annotations

import torch
from torch import nn


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

    def encode(self, x: torch.Tensor, detach_after_features: bool = False
               ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """x -> (mean, log-variance of q(z | x), [phi_1(x), phi_2(x), phi_3(x)]), where phi_i is
        the output of the i-th conv block (the features of eq. 9), all from one forward pass.
        ``detach_after_features``: no gradient flows back from (mean, log-variance) to x."""
        features = []
        for block in self.blocks:
            x = block(x)
            if not isinstance(block, nn.MaxPool2d) and len(features) < 3:
                features.append(x)
                if detach_after_features and len(features) == 3:
                    x = x.detach()
        hidden = self.dense(x)
        return self.mean(hidden), self.log_variance(hidden), features

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x -> (mean, log-variance) of q(z | x)."""
        mean, log_variance, _ = self.encode(x)
        return mean, log_variance



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
