"""Shared metrics of generated images: classifier-based scores (Inception Score, Frechet distance,
class coverage) and a sharpness measure. (The balance metric belongs to ``avalib.nguyen``.)"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg
import torch


def classifier_inception_score(probabilities: torch.Tensor) -> float:
    """exp(E_x KL(p(y | x) || p(y))) (Salimans et al., 2016) of class probabilities (N, K) from
    *our domain classifier*, not Inception-v3: 1 for a uniform or constant classifier output,
    K for confident predictions spread evenly over K classes."""
    p = probabilities.double().clamp_min(1e-12)
    marginal = p.mean(dim=0, keepdim=True)
    return float((p * (p.log() - marginal.log())).sum(dim=1).mean().exp())


def class_coverage(probabilities: torch.Tensor) -> float:
    """Entropy of the predicted-label histogram divided by log K: 1 when samples cover every
    class equally often, 0 when every sample is given the same class (mode collapse)."""
    classes = probabilities.shape[1]
    counts = torch.bincount(probabilities.argmax(dim=1), minlength=classes).double()
    share = counts / counts.sum()
    entropy = -(share[share > 0] * share[share > 0].log()).sum()
    return float(entropy / math.log(classes)) + 0.0  # + 0.0 turns -0.0 into 0.0


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to two
    feature sets (N, D) (Heusel et al., 2017). With Inception-v3 features this is FID; ours uses a
    domain classifier's features, so it is *not* FID. Matrix square root by ``scipy.linalg.sqrtm``,
with the safeguards of pytorch-fid's ``calculate_frechet_distance``."""
    a, b = features_a.double().numpy(), features_b.double().numpy()
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    covariance_a, covariance_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(covariance_a @ covariance_b)
    if not np.isfinite(root).all():        # singular product: pytorch-fid's small diagonal offset
        offset = np.eye(len(covariance_a)) * 1e-6
        root = scipy.linalg.sqrtm((covariance_a + offset) @ (covariance_b + offset))
    if np.iscomplexobj(root):              # numerical noise only, as pytorch-fid checks it
        if not np.allclose(np.diagonal(root).imag, 0, atol=1e-3):
            raise ArithmeticError("sqrtm of the covariance product has a large imaginary part")
        root = root.real
    distance = ((mean_a - mean_b) ** 2).sum() + np.trace(covariance_a + covariance_b - 2 * root)
    return float(max(distance, 0.0))


def laplacian_sharpness(images: torch.Tensor) -> float:
    """Mean absolute response of the 3 x 3 Laplacian filter over (N, C, H, W) images: blur
    lowers it. Compare outputs with real images as a ratio (1 = as sharp as the data)."""
    kernel = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3)
    flat = images.reshape(-1, 1, *images.shape[-2:]).float()
    return float(torch.nn.functional.conv2d(flat, kernel).abs().mean())
