"""The balance metric (Nguyen et al. 2024, eq. 17) on hand-computed cases."""

import math

import pytest
import torch

from avalib.nguyen.balance import balance_metric, pixel_distances


def pixels(*rgb):
    """(C=3, P) from a list of (r, g, b) pixels."""
    return torch.tensor(rgb, dtype=torch.float64).T


def test_distance_is_rgb_norm_not_divided_by_sqrt3():
    assert pixel_distances(pixels((1, 1, 1)), pixels((0, 0, 0))).item() == pytest.approx(math.sqrt(3))


@pytest.mark.parametrize("generated, target, expected", [
    ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 0.0),                    # identical: d = 0
    ((1.0, 0.0, 0.0), (0.0, 0.0, 0.0), 0.0),                    # d = 1
    ((0.5, 0.0, 0.0), (0.0, 0.0, 0.0), 0.25),                   # d = 1/2: the maximum
    ((0.3, 0.4, 0.0), (0.0, 0.0, 0.0), 0.25),                   # d = 0.5 from a 3-4-5 triangle
])
def test_single_pixel_cases(generated, target, expected):
    value = balance_metric(pixels(generated), pixels(target), absolute=True)
    assert value.item() == pytest.approx(expected)


def test_absolute_value_only_matters_beyond_distance_one():
    generated, target = pixels((1, 1, 1), (0.5, 0, 0)), pixels((0, 0, 0), (0, 0, 0))
    d = math.sqrt(3)
    per_pixel = [d * (1 - d), 0.25]                                    # -1.268 and 0.25
    assert balance_metric(generated, target, absolute=False).item() == pytest.approx(sum(per_pixel) / 2)
    assert balance_metric(generated, target, absolute=True).item() == pytest.approx(
        (abs(per_pixel[0]) + per_pixel[1]) / 2)


def test_batches_of_generations_broadcast_against_one_target():
    generated = torch.stack([pixels((0.5, 0, 0)), pixels((0, 0, 0))])  # (2, 3, 1)
    assert balance_metric(generated, pixels((0, 0, 0)), absolute=True).tolist() == [0.25, 0.0]
