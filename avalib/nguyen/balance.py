"""The balance metric BM of Nguyen et al. (2024) eq. 17, and what it gives images that no model
produced."""

from __future__ import annotations

import pandas as pd
import torch

from avalib import kernels

from avalib.nguyen.networks import logistic


def pixel_distances(generated: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """d_ij of Nguyen et al. (2024) section 3: the Euclidean norm over colour channels of the
    pixel difference, sqrt(dr^2 + dg^2 + db^2) - not divided by sqrt(3), so it can exceed 1.

    ``generated`` (..., C, P) and ``target`` (C, P) or broadcastable -> (..., P).
    """
    return kernels.sqrt((generated - target).pow(2).sum(dim=-2))


def balance_metric(generated: torch.Tensor, target: torch.Tensor, absolute: bool) -> torch.Tensor:
    """BM_i of Nguyen et al. (2024) eq. 17 for each generated image: mean over pixels j of
    d_ij (1 - d_ij). ``absolute=True`` is the authors' code, |d (1 - d)| (the only clipping);
    ``absolute=False`` is the equation as printed (negative where d > 1).

    ``generated`` (..., C, P), ``target`` broadcastable to it -> (...).
    """
    distance = pixel_distances(generated, target)
    product = distance * (1 - distance)
    return (product.abs() if absolute else product).mean(dim=-1)


def trivial_baselines(images: torch.Tensor, seed: int = 0) -> pd.DataFrame:
    """BM of images that involve no model, scored against the same test images: the reference
    BM (mean |d (1 - d)|) and eq. 17 as printed (no absolute value)."""
    generator = torch.Generator().manual_seed(seed)
    count, channels = images.shape[:2]
    flat = images.reshape(count, channels, -1).double()
    candidates = {
        "constant grey 0.5": torch.full_like(flat[0], 0.5),
        f"constant {float(logistic(torch.tensor(0.0))):.4f} (untrained zero-weight output)":
            torch.full_like(flat[0], float(logistic(torch.tensor(0.0)))),
        "uniform noise": torch.rand(flat[0].shape, generator=generator, dtype=flat.dtype),
        "dataset mean image": flat.mean(0),
        "copy of training image 01": flat[0],
        "black (all 0)": torch.zeros_like(flat[0]),
        "white (all 1)": torch.ones_like(flat[0]),
    }
    rows = [dict(image=name,
                 bm_reference=float(balance_metric(candidate, flat, absolute=True).mean()),
                 bm_equation_17=float(balance_metric(candidate, flat, absolute=False).mean()))
            for name, candidate in candidates.items()]
    return pd.DataFrame(rows)
