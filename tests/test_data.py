"""Each loader returns the documented shapes, ranges and label counts on the mirror."""

import pytest
import torch

from avalib import data
from avalib.download import UnknownDatasetError

EXPECTED = {  # name, split: (count, (C, H, W), number of distinct labels or None)
    ("orbit", "all"): (36, (3, 64, 100), None),
    ("mnist", "train"): (60000, (1, 28, 28), 10),
    ("mnist", "test"): (10000, (1, 28, 28), 10),
    ("fashion_mnist", "train"): (60000, (1, 28, 28), 10),
    ("fashion_mnist", "test"): (10000, (1, 28, 28), 10),
    ("omniglot", "train"): (19280, (1, 28, 28), 964),
    ("omniglot", "test"): (13180, (1, 28, 28), 659),
    ("omniglot_characters", "train"): (24345, (1, 28, 28), 1623),
    ("omniglot_characters", "test"): (8115, (1, 28, 28), 1623),
    ("caltech101_silhouettes", "train"): (4100, (1, 28, 28), 101),
    ("caltech101_silhouettes", "val"): (2264, (1, 28, 28), 101),
    ("caltech101_silhouettes", "test"): (2307, (1, 28, 28), 101),
    ("toy", "train"): (64, (1, 8, 8), 4),
}


@pytest.mark.parametrize("name, split", list(EXPECTED))
def test_loader_shapes_ranges_labels(name, split, mirror_dir, monkeypatch):
    monkeypatch.setenv("AVALIB_DATA_MIRROR", str(mirror_dir))
    count, shape, classes = EXPECTED[name, split]
    dataset = data.load_dataset(name, split)
    assert dataset.images.dtype == torch.float32
    assert tuple(dataset.images.shape) == (count, *shape)
    assert 0.0 <= float(dataset.images.min()) and float(dataset.images.max()) <= 1.0
    assert float(dataset.images.max()) > 0.9, "images use the whole [0, 1] range"
    if classes is None:
        assert dataset.labels is None
    else:
        assert dataset.labels.dtype == torch.int64 and dataset.labels.shape == (count,)
        assert dataset.labels.unique().numel() == classes


def test_omniglot_strokes_are_foreground(mirror_dir, monkeypatch):
    monkeypatch.setenv("AVALIB_DATA_MIRROR", str(mirror_dir))
    images = data.load_dataset("omniglot", "test").images
    assert float(images.mean()) < 0.2, "strokes = 1 on a 0 background, as MNIST"


def test_omniglot_characters_splits_each_character_by_drawer(mirror_dir, monkeypatch):
    monkeypatch.setenv("AVALIB_DATA_MIRROR", str(mirror_dir))
    train, test = (data.load_dataset("omniglot_characters", split) for split in ("train", "test"))
    assert torch.equal(train.labels.bincount(), torch.full((1623,), 15))
    assert torch.equal(test.labels.bincount(), torch.full((1623,), 5))
    background = data.load_dataset("omniglot", "train")
    assert torch.equal(train.images[:15], background.images[:15])       # character 0, drawers 1-15
    assert torch.equal(test.images[:5], background.images[15:20])       # character 0, drawers 16-20


def test_orbit_duplicate_groups():
    groups = data.orbit_duplicate_groups()
    assert len(groups) == 9
    assert sum(len(g) for g in groups) == 24          # 36 files, 21 distinct images
    assert ("12", "20", "24", "28", "34", "36") in groups


def test_unknown_dataset_and_split():
    with pytest.raises(UnknownDatasetError, match="valid names: orbit"):
        data.load_dataset("imagenet")
    with pytest.raises(ValueError, match="valid splits: train, test"):
        data.load_dataset("mnist", "validation")


def test_subset_is_seeded():
    toy = data.load_dataset("toy")
    assert torch.equal(toy.subset(10, seed=3).images, toy.subset(10, seed=3).images)
    assert len(toy.subset(10)) == 10 and len(toy.subset(None)) == 64
