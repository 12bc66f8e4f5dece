"""Metrics of the study."""

from __future__ import annotations

import torch


def pixel_distances(generated: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """d_ij of Nguyen et al. (2024) section 3: the Euclidean norm over colour channels of the
    pixel difference, sqrt(dr^2 + dg^2 + db^2) - not divided by sqrt(3), so it can exceed 1.

    ``generated`` (..., C, P) and ``target`` (C, P) or broadcastable -> (..., P).
    """
    return (generated - target).pow(2).sum(dim=-2).sqrt()


def balance_metric(generated: torch.Tensor, target: torch.Tensor, absolute: bool) -> torch.Tensor:
    """BM_i of Nguyen et al. (2024) eq. 17 for each generated image: mean over pixels j of
    d_ij (1 - d_ij). ``absolute=True`` is the authors' code, |d (1 - d)| (the only clipping);
    ``absolute=False`` is the equation as printed (negative where d > 1).

    ``generated`` (..., C, P), ``target`` broadcastable to it -> (...).
    """
    distance = pixel_distances(generated, target)
    product = distance * (1 - distance)
    return (product.abs() if absolute else product).mean(dim=-1)
