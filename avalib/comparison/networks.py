"""DCGAN-style networks (Radford et al., 2016) for the VAE-vs-GAN comparison: one generator that
is also the VAE's decoder, one encoder that is also the GAN's discriminator."""

from __future__ import annotations

import torch
from torch import nn

from avalib import numerics


def _leaky() -> nn.LeakyReLU:
    return nn.LeakyReLU(0.2)


class StridedConv2d(nn.Conv2d):
    """``nn.Conv2d`` whose stride-2 convolution runs ATen's im2col + MKL GEMM under portable
    numerics: oneDNN would run its backward pass through a ``brgemm`` kernel that sizes its blocks
    from the CPU's caches (``avalib.numerics``). The same parameters and the same map."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if numerics.mode() != "portable":
            return super().forward(x)
        return torch._C._nn.thnn_conv2d(x, self.weight, self.kernel_size, self.bias,
                                        self.stride, self.padding)


class StridedConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` through ATen's col2im + MKL GEMM under portable numerics, for the
    reason of ``StridedConv2d`` (oneDNN's forward pass is a ``brgemm`` kernel)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if numerics.mode() != "portable":
            return super().forward(x)
        return torch._C._nn.slow_conv_transpose2d(x, self.weight, self.kernel_size, self.bias,
                                                  self.stride, self.padding, self.output_padding,
                                                  self.dilation)


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
            StridedConvTranspose2d(2 * width, width, 4, 2, 1), nn.BatchNorm2d(width), nn.ReLU(),
            StridedConvTranspose2d(width, channels, 4, 2, 1), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class DCGANEncoder(nn.Module):
    """image -> two stride-2 convs (LeakyReLU, batch norm on the second) -> ``outputs`` linear
    units: with ``outputs=1`` the DCGAN discriminator (a logit), with ``2 * latent`` the matched
    VAE encoder (mean and log-variance)."""

    def __init__(self, channels: int, size: int, outputs: int, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            StridedConv2d(channels, width, 4, 2, 1), _leaky(),
            StridedConv2d(width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width), _leaky(),
            nn.Flatten(), nn.Linear(2 * width * (size // 4) ** 2, outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
