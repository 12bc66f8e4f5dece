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
    ("omniglot_alphabets", "train"): (24345, (1, 28, 28), 50),
    ("omniglot_alphabets", "test"): (8115, (1, 28, 28), 50),
    ("caltech101_silhouettes", "train"): (4100, (1, 28, 28), 101),
    ("caltech101_silhouettes", "val"): (2264, (1, 28, 28), 101),
    ("caltech101_silhouettes", "test"): (2307, (1, 28, 28), 101),
    ("caltech101_silhouettes", "train_val"): (6364, (1, 28, 28), 101),
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


def test_the_alphabet_table_is_the_shared_spec_and_covers_every_character():
    table = data.omniglot_alphabets()
    shared = data.ALPHABETS_TABLE.parents[2] / "shared" / "specs" / "omniglot_alphabets.tsv"
    if shared.exists():
        assert shared.read_bytes() == data.ALPHABETS_TABLE.read_bytes()
    assert len(table) == 50 and table.groupby("set").n_characters.sum().to_dict() == {
        "background": 964, "evaluation": 659}
    assert (table.first_char_id.iloc[1:].to_numpy() == table.last_char_id.iloc[:-1].to_numpy() + 1).all()
    assert (table.last_char_id - table.first_char_id + 1 == table.n_characters).all()


def test_the_small_zips_agree_with_the_alphabet_labels_and_pixels(mirror_dir, monkeypatch):
    """Every image of Lake's two small zips (8 alphabets) sits in the folder of the alphabet the
    table gives its character id, as character number id - first id + 1, and equals the npz
    image at [id - 1, drawer - 1]."""
    import zipfile
    import numpy as np
    from PIL import Image

    monkeypatch.setenv("AVALIB_DATA_MIRROR", str(mirror_dir))
    table = data.omniglot_alphabets().set_index("alphabet")
    with np.load(mirror_dir / "omniglot" / "images_background.npz") as archive:
        strokes = archive["images"]                               # (964, 20, 105, 105), True = background
    checked = set()
    for part in (1, 2):
        with zipfile.ZipFile(mirror_dir / "omniglot" / f"images_background_small{part}.zip") as archive:
            for name in (n for n in archive.namelist() if n.endswith(".png")):
                _, alphabet, character, file = name.split("/")
                identifier, drawer = (int(x) for x in file[:-4].split("_"))
                row = table.loc[alphabet]
                assert row.first_char_id <= identifier <= row.last_char_id, name
                assert int(character[len("character"):]) == identifier - row.first_char_id + 1, name
                with archive.open(name) as handle:
                    pixels = np.asarray(Image.open(handle), dtype=bool)
                assert (pixels == strokes[identifier - 1, drawer - 1]).all(), name
                checked.add(alphabet)
    assert len(checked) == 8
    labels = data.load_dataset("omniglot_alphabets", "train").labels
    assert int(labels[(table.loc["Greek"].first_char_id - 1) * 15]) == list(table.index).index("Greek")


def test_models_train_on_caltechs_train_and_validation_images(mirror_dir, monkeypatch):
    monkeypatch.setenv("AVALIB_DATA_MIRROR", str(mirror_dir))
    assert data.training_split("caltech101_silhouettes") == "train_val"
    assert data.training_split("mnist") == "train"
    both = data.load_dataset("caltech101_silhouettes", "train_val")
    assert torch.equal(both.images[4100:], data.load_dataset("caltech101_silhouettes", "val").images)
