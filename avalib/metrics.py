"""Shared metrics of generated images: classifier-based scores (Inception Score, Frechet distance,
class coverage, precision and recall) and a sharpness measure. (The balance metric belongs to ``avalib.nguyen``.)"""

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


def _psd_root(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix (``scipy.linalg.eigh``;
    eigenvalues below 0 from rounding count as 0)."""
    values, vectors = scipy.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to two
    feature sets (N, D) (Heusel et al., 2017). With Inception-v3 features this is FID; ours uses a
    domain classifier's features, so it is *not* FID.

    Tr((S_a S_b)^(1/2)) is the sum of the square roots of the eigenvalues of the symmetric
    S_a^(1/2) S_b S_a^(1/2), which has the same spectrum (``scipy.linalg.eigh``). A covariance is
    singular whenever a feature is constant over a set (a ReLU unit that never fires on it) or there
    are fewer images than features; the Gaussian then lies on a subspace and the value is still the
    squared 2-Wasserstein distance between the two fitted Gaussians, computed exactly (where
    ``sqrtm`` of the product warns that it may be inaccurate and pytorch-fid adds 1e-6 to the
    diagonals)."""
    a, b = features_a.double().numpy(), features_b.double().numpy()
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    covariance_a, covariance_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root_a = _psd_root(covariance_a)
    product = root_a @ covariance_b @ root_a
    trace_root = np.sqrt(np.clip(scipy.linalg.eigvalsh((product + product.T) / 2), 0, None)).sum()
    distance = ((mean_a - mean_b) ** 2).sum() + np.trace(covariance_a) + np.trace(covariance_b) - 2 * trace_root
    return float(max(distance, 0.0))


def laplacian_sharpness(images: torch.Tensor) -> float:
    """Mean absolute response of the 3 x 3 Laplacian filter over (N, C, H, W) images: blur
    lowers it. Compare outputs with real images as a ratio (1 = as sharp as the data)."""
    kernel = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3)
    flat = images.reshape(-1, 1, *images.shape[-2:]).float()
    return float(torch.nn.functional.conv2d(flat, kernel).abs().mean())


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances between the rows of ``a`` and of ``b``, |a|^2 - 2 a.b + |b|^2
    (``torch.cdist``'s matrix-product form without its square root, which runs MKL's CPU-dependent
    vector root; ``avalib.kernels``): the balls below compare squared distances alike."""
    return (a.pow(2).sum(1, keepdim=True) - 2 * a @ b.T + b.pow(2).sum(1)).clamp_min(0)


def _knn_radii(features: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """Squared distance of every row of ``features`` to its k-th nearest other row."""
    radii = []
    for start in range(0, len(features), chunk):
        distances = _squared_distances(features[start:start + chunk], features)
        radii.append(distances.kthvalue(k + 1, dim=1).values)     # the 1st is the row itself
    return torch.cat(radii)


def _inside(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, chunk: int) -> torch.Tensor:
    """For each point: whether some centre's ball (squared radius ``radii``) contains it."""
    inside = []
    for start in range(0, len(points), chunk):
        distances = _squared_distances(points[start:start + chunk], centres)
        inside.append((distances <= radii.unsqueeze(0)).any(dim=1))
    return torch.cat(inside)


def precision_recall(real_features: torch.Tensor, generated_features: torch.Tensor, k: int = 3,
                     chunk: int = 1000) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al., 2019): the manifold of a feature set
    (N, D) is the union of balls around each of its points with radius the distance to the
    point's k-th nearest neighbour in the set (the paper's k = 3). Precision: the share of
    generated points inside the real manifold (fidelity); recall: the share of real points
    inside the generated manifold (diversity). Both in [0, 1]; features from our domain
    classifier, not VGG-16 as in the paper."""
    if min(len(real_features), len(generated_features)) <= k:
        raise ValueError(f"k={k}: each feature set needs more than k points "
                         f"(real {len(real_features)}, generated {len(generated_features)})")
    real, generated = real_features.double(), generated_features.double()
    precision = _inside(generated, real, _knn_radii(real, k, chunk), chunk).double().mean()
    recall = _inside(real, generated, _knn_radii(generated, k, chunk), chunk).double().mean()
    return float(precision), float(recall)
