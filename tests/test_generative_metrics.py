"""Classifier Inception Score, Frechet distance, class coverage and sharpness on known inputs."""

import math

import pytest
import torch

from avalib.metrics import (class_coverage, classifier_inception_score, frechet_distance,
                            laplacian_sharpness)


def test_inception_score_of_uniform_output_is_one():
    assert classifier_inception_score(torch.full((50, 10), 0.1)) == pytest.approx(1.0)


def test_inception_score_of_one_constant_class_is_one():
    assert classifier_inception_score(torch.eye(10)[torch.zeros(40, dtype=torch.long)]) == pytest.approx(1.0)


def test_inception_score_of_confident_even_classes_is_k():
    assert classifier_inception_score(torch.eye(10).repeat(3, 1)) == pytest.approx(10.0, rel=1e-6)


def test_frechet_distance_of_identical_features_is_zero():
    features = torch.randn(500, 8, generator=torch.Generator().manual_seed(0))
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_of_a_shift_is_its_squared_length():
    features = torch.randn(500, 8, generator=torch.Generator().manual_seed(0))
    shift = torch.full((8,), 0.5)
    assert frechet_distance(features, features + shift) == pytest.approx(8 * 0.25, rel=1e-6)


def test_frechet_distance_of_scaled_gaussians():
    # N(0, I) vs N(0, 4 I) in D dims: Tr(I + 4I - 2 * 2I) = D (for the sample covariances, nearly).
    generator = torch.Generator().manual_seed(1)
    a = torch.randn(20000, 4, generator=generator)
    b = 2 * torch.randn(20000, 4, generator=generator)
    assert frechet_distance(a, b) == pytest.approx(4.0, rel=0.05)


def test_class_coverage_limits():
    assert class_coverage(torch.eye(10)[torch.zeros(30, dtype=torch.long)]) == 0.0
    assert class_coverage(torch.eye(10).repeat(2, 1)) == pytest.approx(1.0)
    half = torch.eye(4)[torch.tensor([0, 1, 0, 1])]
    assert class_coverage(half) == pytest.approx(math.log(2) / math.log(4))


def test_sharpness_of_flat_images_is_zero_and_blur_lowers_it():
    assert laplacian_sharpness(torch.full((2, 1, 8, 8), 0.3)) == 0.0
    images = (torch.rand(4, 1, 16, 16, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    blurred = torch.nn.functional.avg_pool2d(images, 3, stride=1, padding=1)
    assert laplacian_sharpness(blurred) < laplacian_sharpness(images)


def test_precision_and_recall_separate_fidelity_from_diversity():
    from avalib.metrics import precision_recall
    generator = torch.Generator().manual_seed(0)
    real = torch.randn(400, 8, generator=generator)
    same = torch.randn(400, 8, generator=generator)
    precision, recall = precision_recall(real, same)
    assert precision > 0.8 and recall > 0.8                       # same distribution: both high
    collapsed = real[:1].repeat(400, 1) + 0.01 * torch.randn(400, 8, generator=generator)
    precision, recall = precision_recall(real, collapsed)
    assert precision > 0.9 and recall < 0.1                       # one mode: faithful, not diverse
    far = torch.randn(400, 8, generator=generator) + 10.0
    assert precision_recall(real, far) == (0.0, 0.0)              # off the data: neither


def test_precision_and_recall_chunks_do_not_change_the_result():
    from avalib.metrics import precision_recall
    generator = torch.Generator().manual_seed(1)
    real, generated = torch.randn(150, 4, generator=generator), torch.randn(120, 4, generator=generator)
    assert precision_recall(real, generated, chunk=1000) == precision_recall(real, generated, chunk=7)


def test_frechet_distance_of_singular_covariances_is_exact_and_silent():
    """A feature constant over both sets (a dead ReLU unit) makes both covariances singular: the
    distance is that of the other features, with no warning."""
    import warnings
    generator = torch.Generator().manual_seed(1)
    a, b = torch.randn(400, 3, generator=generator), 2 * torch.randn(400, 3, generator=generator)
    dead = torch.zeros(400, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        singular = frechet_distance(torch.cat([a, dead], 1), torch.cat([b, dead], 1))
    assert singular == pytest.approx(frechet_distance(a, b), rel=1e-9)


def test_frechet_distance_matches_scipy_sqrtm_on_full_rank_covariances():
    import numpy as np
    import scipy.linalg
    generator = torch.Generator().manual_seed(2)
    a = torch.randn(300, 5, generator=generator)
    b = torch.randn(300, 5, generator=generator) @ torch.randn(5, 5, generator=generator) + 0.5
    ca, cb = np.cov(a.double().numpy(), rowvar=False), np.cov(b.double().numpy(), rowvar=False)
    expected = (((a.double().mean(0) - b.double().mean(0)) ** 2).sum().item()
                + np.trace(ca + cb - 2 * scipy.linalg.sqrtm(ca @ cb).real))
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)
